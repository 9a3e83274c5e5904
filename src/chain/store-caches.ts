import { BoundedCache } from './cache.ts'
import type { BlockRecord } from './records.ts'
import type { StoreBatch, StoredHeader } from './store-batch.ts'

/**
 * The chain store's in-memory caches, and how a committed batch enters them (as its write begins)
 * and leaves them (if its write fails). Kept apart from `ChainStore` (store.ts), which decides when
 * a read may fill them: only the commits, through `show` and `forget`, change what they say of a
 * key the disk holds.
 */

export interface StoreCacheSizes {
  headers?: number
  levels?: number
  state?: number
  /** Blocks whose record and operation lists are kept after their commit (default 256). */
  recentBlocks?: number
}

export class StoreCaches {
  readonly headers: BoundedCache<string, StoredHeader>
  /** Hex hashes of the current chain's blocks by level. */
  readonly levels: BoundedCache<number, string>
  /** Protocol state by key; `null` for a key known absent. */
  readonly state: BoundedCache<string, Uint8Array | null>
  /**
   * Records and operation lists of the last blocks committed. Every peer that hears of a new head
   * asks for its operations within the same second; with 200 peers, serving each request from
   * LevelDB was the largest piece of the node's own work per head (`npm run bench:peers`, CPU
   * profile in docs/profiles.md). Filled only by commits, which are the only writers of both
   * (never removed), so an entry cannot go stale.
   */
  readonly recentRecords: BoundedCache<string, BlockRecord>
  readonly recentOperations: BoundedCache<string, Uint8Array>

  constructor (sizes: StoreCacheSizes) {
    this.headers = new BoundedCache(sizes.headers ?? 8192)
    this.levels = new BoundedCache(sizes.levels ?? 8192)
    this.state = new BoundedCache(sizes.state ?? 100_000)
    this.recentRecords = new BoundedCache(sizes.recentBlocks ?? 256)
    // A demo block has one or a few validation passes; Octez blocks have four.
    this.recentOperations = new BoundedCache(4 * (sizes.recentBlocks ?? 256))
  }

  /** The batch's entries, shown as its write begins. */
  show (batch: StoreBatch): void {
    for (const h of batch.headers) this.headers.set(h.hex, h)
    for (const [hex, record] of batch.blockRecords) this.recentRecords.set(hex, record)
    for (const [key, list] of batch.operationLists) this.recentOperations.set(key, list)
    for (const [level, hex] of batch.levels) {
      if (hex === undefined) this.levels.delete(level)
      else this.levels.set(level, hex)
    }
    for (const w of batch.state) this.state.set(w.key, w.value ?? null)
  }

  /** The batch's write failed: its entries leave the caches, so later reads go to LevelDB. */
  forget (batch: StoreBatch): void {
    for (const h of batch.headers) this.headers.delete(h.hex)
    for (const [hex] of batch.blockRecords) this.recentRecords.delete(hex)
    for (const [key] of batch.operationLists) this.recentOperations.delete(key)
    for (const [level] of batch.levels) this.levels.delete(level)
    for (const w of batch.state) this.state.delete(w.key)
  }
}
