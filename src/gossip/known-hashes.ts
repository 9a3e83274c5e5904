/**
 * Which recently seen hashes each connected peer is known to have (it announced them, or we
 * did to it), for all peers at once: one row per hash, one bit per peer.
 *
 * Every peer hears of the same blocks and operations, so a map per peer repeats the same keys
 * once per peer: even with shared key strings its slots alone came to about 450 KiB per peer once
 * full (1 024 blocks + 8 192 operations; `npm run bench:peers`, heap snapshots, and
 * scripts/bench/peers/known-hashes-memory.ts). Here a hash is stored once per node and a peer adds
 * one bit per remembered hash: 1 KiB per peer for 8 192 hashes.
 *
 * The table remembers the last `capacity` distinct hashes it was told of, whoever told it, and
 * forgets the oldest first. Forgetting only costs an announcement a peer did not need (Octez
 * keeps no such record: `src/lib_shell/distributed_db.ml` advertises to every active peer).
 */
export class KnownHashTable {
  readonly capacity: number
  /** Hash key → its row. */
  private readonly rowOf = new Map<string, number>()
  /** Row → its hash key: a ring, `next` is the row overwritten next. */
  private readonly keys: Array<string | undefined>
  private next = 0
  /** `capacity` rows of `words` 32-bit words: bit c of a row says peer column c knows that hash. */
  private bits: Uint32Array
  private words = 1
  /** Columns given to peers so far, and those given back by peers that left. */
  private columns = 0
  private readonly freeColumns: number[] = []

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`known-hash table capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.keys = new Array<string | undefined>(capacity).fill(undefined)
    this.bits = new Uint32Array(capacity * this.words)
  }

  /** A column for a newly connected peer; give it back with `KnownHashes.leave`. */
  join (): KnownHashes {
    const column = this.freeColumns.pop() ?? this.columns++
    if (column >= this.words * 32) this.widen()
    return new KnownHashes(this, column)
  }

  /** Hashes remembered now (at most `capacity`). */
  get size (): number {
    return this.rowOf.size
  }

  /** Peers holding a column now. */
  get peers (): number {
    return this.columns - this.freeColumns.length
  }

  /** @internal */
  has (column: number, key: string): boolean {
    const row = this.rowOf.get(key)
    if (row === undefined) return false
    return (this.bits[row * this.words + (column >>> 5)] & (1 << (column & 31))) !== 0
  }

  /** @internal */
  set (column: number, key: string): void {
    let row = this.rowOf.get(key)
    if (row === undefined) {
      row = this.next
      this.next = (this.next + 1) % this.capacity
      const evicted = this.keys[row]
      if (evicted !== undefined) {
        this.rowOf.delete(evicted)
        this.bits.fill(0, row * this.words, (row + 1) * this.words)
      }
      this.keys[row] = key
      this.rowOf.set(key, row)
    }
    this.bits[row * this.words + (column >>> 5)] |= 1 << (column & 31)
  }

  /** @internal A leaving peer's bits are cleared so the next peer given its column starts empty. */
  release (column: number): void {
    const word = column >>> 5
    const mask = ~(1 << (column & 31))
    for (let i = word; i < this.bits.length; i += this.words) this.bits[i] &= mask
    this.freeColumns.push(column)
  }

  /** Twice as many columns per row, the rows' bits kept. */
  private widen (): void {
    const words = this.words * 2
    const bits = new Uint32Array(this.capacity * words)
    for (let row = 0; row < this.capacity; row++) bits.set(this.bits.subarray(row * this.words, (row + 1) * this.words), row * words)
    this.bits = bits
    this.words = words
  }
}

/** One peer's view of a `KnownHashTable`: the hashes known to that peer. */
export class KnownHashes {
  private readonly table: KnownHashTable
  private readonly column: number
  private left = false

  constructor (table: KnownHashTable, column: number) {
    this.table = table
    this.column = column
  }

  has (key: string): boolean {
    return !this.left && this.table.has(this.column, key)
  }

  /** Marks `key` as known to this peer (`value` is there so it reads like the map it replaces). */
  set (key: string, value: true = true): void {
    if (!this.left && value) this.table.set(this.column, key)
  }

  /** The peer is gone: its column is cleared and given back; this view then knows nothing. */
  leave (): void {
    if (this.left) return
    this.left = true
    this.table.release(this.column)
  }
}
