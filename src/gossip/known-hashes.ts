import { BoundedCache } from '../chain/cache.ts'

/**
 * One copy of each recently seen hash key (hex), shared by every peer's "known to this peer"
 * cache. All peers hear of the same blocks and operations; a 64-character key string costs about
 * 80 bytes, so with one copy per peer the caches (1 024 blocks + 8 192 operations per peer) come to
 * about 1 MiB per peer once full, most of what a peer costs the node under steady gossip
 * (`npm run bench:peers`, heap snapshots). Shared, a peer's entry costs only its map slot.
 *
 * Bounded like the caches: a key evicted here while some peer's cache still holds it stays valid
 * (maps compare strings by value); a later copy is simply not shared with it.
 */
export class HashKeyPool {
  private readonly keys: BoundedCache<string, string>

  constructor (capacity: number) {
    this.keys = new BoundedCache(capacity)
  }

  /** The pool's copy of `key` (added if new). */
  intern (key: string): string {
    const pooled = this.keys.get(key)
    if (pooled !== undefined) return pooled
    this.keys.set(key, key)
    return key
  }

  get size (): number {
    return this.keys.size
  }
}

/** A per-peer bounded set of known hashes whose keys come from a shared `HashKeyPool`. */
export class KnownHashes extends BoundedCache<string, true> {
  private readonly pool: HashKeyPool

  constructor (capacity: number, pool: HashKeyPool) {
    super(capacity)
    this.pool = pool
  }

  override set (key: string, value: true): void {
    super.set(this.pool.intern(key), value)
  }
}
