import type { Database, Sublevel } from '../storage/database.ts'
import { sublevel } from '../storage/database.ts'
import { toHex, bytesEqual } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import type { Operation } from '../wire/operation.ts'
import type { StateReader, StateWrite } from '../protocol/state.ts'
import { BoundedCache } from './cache.ts'
import { StoreCaches, type StoreCacheSizes } from './store-caches.ts'
import { readManyThrough, readThrough, writeBatch, WriteOverlay } from './write-overlay.ts'
import type { Genesis } from './genesis.ts'
import { decodeBlockRecord, decodeInvalidRecord, decodeStateWrites, levelKey, operationsKey, type BlockRecord, type InvalidRecord } from './records.ts'
import {
  CHECKPOINT_KEY, GENESIS_KEY, HEAD_KEY, StoreBatch, decodeCheckpoint, decodeHeader, decodePassOperations, encodeGenesis, storedHeader,
  type Checkpoint, type StoredHeader, type StoreSublevels
} from './store-batch.ts'

export type { StoreCacheSizes } from './store-caches.ts'
export { StoreBatch, decodePassOperations, encodePassOperations, storedHeader, type Checkpoint, type StoredHeader } from './store-batch.ts'

/**
 * The chain store: classic-level sublevels of the node database.
 *
 * | sublevel | key | value |
 * | --- | --- | --- |
 * | `chain` | `genesis`, `head`, `checkpoint` | genesis record, head hash, checkpoint hash ‖ level |
 * | `chain-header` | hex block hash | the Octez binary header |
 * | `chain-block` | hex block hash | `BlockRecord`: applied-once flag and per-pass Lo hashes |
 * | `chain-ops` | `<hex hash>:<pass>` | the pass's operations as Octez lists them in Operations_for_blocks (each uint30-length-prefixed) |
 * | `chain-level` | 8 hex digits | hash of the current chain's block at that level |
 * | `chain-undo` | hex block hash | for blocks of the current chain: previous values of the state keys the block wrote |
 * | `chain-invalid` | hex block hash | `InvalidRecord` (JSON) |
 * | `chain-state` | protocol key | protocol state as of the head |
 *
 * Every change goes through a `StoreBatch` (store-batch.ts) committed with one `db.batch`, so a crash leaves the
 * store either before or after a whole block (header, operations, state, undo, level, head).
 * Small caches keep the head, recent headers, recent levels and hot state keys in memory. A
 * committed batch is shown (head, caches) as its write begins; while it is written, reads of its
 * keys are answered from it (`WriteOverlay`), and if the write fails the store shows the disk again.
 */

/** What `ChainStore.noteValidated` keeps of a block: per pass, its Lo hash and its stored list encoding. */
export interface ValidatedBlock {
  listHashes: Uint8Array[]
  encodedPasses: Uint8Array[]
}

export class ChainStoreError extends Error {
  override readonly name = 'ChainStoreError'
}

const untext = new TextDecoder()

export class ChainStore implements StoreSublevels {
  readonly db: Database
  readonly genesis: Genesis
  readonly metaLevel: Sublevel
  readonly headerLevel: Sublevel
  readonly blockLevel: Sublevel
  readonly operationsLevel: Sublevel
  readonly levelLevel: Sublevel
  readonly undoLevel: Sublevel
  readonly invalidLevel: Sublevel
  readonly stateLevel: Sublevel
  /** Headers, levels, state and recent blocks in memory; a commit shows its batch there. */
  private readonly caches: StoreCaches
  /** Blocks validated and being applied (`noteValidated`): their operations, served before they are stored. */
  private readonly validatedBlocks = new BoundedCache<string, ValidatedBlock>(16)
  /**
   * Bumped by every commit. A read that missed the cache caches its result only if no commit
   * happened while it was in flight: LevelDB may have answered from before the commit, and a
   * stale value in the cache would outlive the commit that replaced it.
   */
  private generation = 0
  /**
   * Whether any block was ever recorded known invalid. Until one is, every "is it known invalid?"
   * (asked on each announcement and each block added, on the path of every gossip hop) is answered
   * without a LevelDB read. Invalid records are only ever written through `commit`, never removed.
   */
  private invalidRecorded = true
  /** The keys of the batch being written (see `commit`). */
  private inFlight: WriteOverlay | undefined
  /** The write in flight, if any. */
  private writing: Promise<void> | undefined
  private currentHead!: StoredHeader
  private currentCheckpoint!: Checkpoint
  /** The committed state, read through the cache. */
  readonly state: StateReader

  private constructor (db: Database, genesis: Genesis, cache: StoreCacheSizes) {
    this.db = db
    this.genesis = genesis
    this.metaLevel = sublevel(db, 'chain')
    this.headerLevel = sublevel(db, 'chain-header')
    this.blockLevel = sublevel(db, 'chain-block')
    this.operationsLevel = sublevel(db, 'chain-ops')
    this.levelLevel = sublevel(db, 'chain-level')
    this.undoLevel = sublevel(db, 'chain-undo')
    this.invalidLevel = sublevel(db, 'chain-invalid')
    this.stateLevel = sublevel(db, 'chain-state')
    this.caches = new StoreCaches(cache)
    this.state = { get: key => this.readState(key) }
  }

  /**
   * Opens the chain store of `db`. A fresh store is initialised in one batch with the genesis
   * header, the protocol's genesis state and head = genesis; an existing one must have been
   * created for the same genesis, and resumes from its stored head.
   */
  static async open (db: Database, genesis: Genesis, initial: { header: BlockHeader, state: StateWrite[] }, cache: StoreCacheSizes = {}): Promise<ChainStore> {
    const store = new ChainStore(db, genesis, cache)
    const stored = await store.metaLevel.get(GENESIS_KEY)
    const expected = encodeGenesis(genesis)
    if (stored === undefined) {
      const g = storedHeader(genesis.hash, initial.header)
      const batch = new StoreBatch(store)
      batch.ops.push({ type: 'put', sublevel: store.metaLevel, key: GENESIS_KEY, value: expected })
      batch.putHeader(g)
      batch.putBlockRecord(g.hex, { status: 1, listHashes: [] })
      batch.setLevel(0, g.hex)
      batch.writeState(initial.state)
      batch.setHead(g)
      batch.setCheckpoint({ hash: genesis.hash, level: 0 })
      await store.commit(batch)
      store.invalidRecorded = false
      return store
    }
    if (!bytesEqual(stored, expected)) {
      throw new ChainStoreError(`the store was created for another genesis or protocol (stored ${toHex(stored)}, configured ${toHex(expected)})`)
    }
    const head = await store.metaLevel.get(HEAD_KEY)
    const checkpoint = await store.metaLevel.get(CHECKPOINT_KEY)
    if (head === undefined || checkpoint === undefined) throw new ChainStoreError('the store has a genesis but no head or checkpoint')
    const headHeader = await store.getHeader(toHex(head))
    if (headHeader === undefined) throw new ChainStoreError(`the stored head ${toHex(head)} has no header`)
    store.currentHead = headHeader
    store.invalidRecorded = (await store.invalidLevel.keys({ limit: 1 }).all()).length > 0
    store.currentCheckpoint = decodeCheckpoint(checkpoint)
    return store
  }

  get head (): StoredHeader {
    return this.currentHead
  }

  /** A committed batch is being written (the store shows it already; see `commit`). */
  get writeInFlight (): boolean {
    return this.writing !== undefined
  }

  /**
   * Resolves once every commit made so far is on disk (or failed): before the database closes, so
   * that a clean stop keeps every head the store showed. A commit queued behind the write in
   * flight sets `writing` again as that write settles, hence the loop.
   */
  async settled (): Promise<void> {
    while (this.writing !== undefined) await this.writing.catch(() => {})
  }

  get checkpoint (): Checkpoint {
    return this.currentCheckpoint
  }

  async getHeader (hex: string): Promise<StoredHeader | undefined> {
    const cached = this.caches.headers.get(hex)
    if (cached !== undefined) return cached
    const bytes = await readThrough(this.inFlight, this.headerLevel, hex)
    if (bytes === undefined) return undefined
    const h = decodeHeader(Uint8Array.from(Buffer.from(hex, 'hex')), hex, bytes)
    this.caches.headers.set(hex, h)
    return h
  }

  /**
   * A block passed validation and is being applied: its operations may be served to the peers it
   * is advertised to. Kept apart from the block records (a validated block may still fail to
   * apply, and must then not look stored); its operations are the ones its header commits to
   * either way.
   */
  noteValidated (hex: string, block: ValidatedBlock): void {
    this.validatedBlocks.set(hex, block)
  }

  /** A block noted validated, if still remembered. */
  validatedBlock (hex: string): ValidatedBlock | undefined {
    return this.validatedBlocks.get(hex)
  }

  /** Many headers at once (one LevelDB multi-get for the ones not cached); missing ones are undefined. */
  async getHeaders (hexes: readonly string[]): Promise<Array<StoredHeader | undefined>> {
    const out: Array<StoredHeader | undefined> = hexes.map(h => this.caches.headers.get(h))
    const missing = hexes.filter((_, i) => out[i] === undefined)
    if (missing.length === 0) return out
    const values = await readManyThrough(this.inFlight, this.headerLevel, missing)
    let j = 0
    for (let i = 0; i < out.length; i++) {
      if (out[i] !== undefined) continue
      const bytes = values[j]
      const hex = missing[j++]
      if (bytes === undefined) continue
      const h = decodeHeader(Uint8Array.from(Buffer.from(hex, 'hex')), hex, bytes)
      this.caches.headers.set(hex, h)
      out[i] = h
    }
    return out
  }

  /**
   * Headers as stored, for answering peers, who are sent the bytes: nothing is decoded, and nothing
   * is added to the header cache (a peer's bootstrap reads each header once).
   */
  async getHeaderBytesMany (hexes: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    const out: Array<Uint8Array | undefined> = hexes.map(h => this.caches.headers.get(h)?.bytes)
    const missing = hexes.filter((_, i) => out[i] === undefined)
    if (missing.length === 0) return out
    const values = await readManyThrough(this.inFlight, this.headerLevel, missing)
    let j = 0
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = values[j++]
    return out
  }

  async getBlockRecord (hex: string): Promise<BlockRecord | undefined> {
    const recent = this.caches.recentRecords.get(hex)
    if (recent !== undefined) return recent
    const b = await readThrough(this.inFlight, this.blockLevel, hex)
    return b === undefined ? undefined : decodeBlockRecord(b)
  }

  async getBlockRecords (hexes: readonly string[]): Promise<Array<BlockRecord | undefined>> {
    if (hexes.length === 0) return []
    return await this.throughRecent(hexes, this.caches.recentRecords, async keys =>
      (await readManyThrough(this.inFlight, this.blockLevel, keys)).map(b => b === undefined ? undefined : decodeBlockRecord(b)))
  }

  /** `keys` from `recent` where present, the others with one `load` (a LevelDB multi-get). */
  private async throughRecent<V> (keys: readonly string[], recent: BoundedCache<string, V>, load: (keys: string[]) => Promise<Array<V | undefined>>): Promise<Array<V | undefined>> {
    const out: Array<V | undefined> = keys.map(k => recent.get(k))
    const missing: string[] = []
    for (let i = 0; i < keys.length; i++) if (out[i] === undefined) missing.push(keys[i])
    if (missing.length === 0) return out
    const loaded = await load(missing)
    let j = 0
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = loaded[j++]
    return out
  }

  async getInvalids (hexes: readonly string[]): Promise<Array<InvalidRecord | undefined>> {
    if (hexes.length === 0) return []
    if (!this.invalidRecorded) return hexes.map(() => undefined)
    return (await readManyThrough(this.inFlight, this.invalidLevel, hexes)).map(b => b === undefined ? undefined : decodeInvalidRecord(b))
  }

  /** One pass's operations as stored (the Operations_for_blocks list encoding). */
  async getEncodedOperations (hex: string, pass: number): Promise<Uint8Array | undefined> {
    const key = operationsKey(hex, pass)
    return this.caches.recentOperations.get(key) ?? await readThrough(this.inFlight, this.operationsLevel, key)
  }

  /** Many passes' operation lists at once (one LevelDB multi-get). */
  async getEncodedOperationsMany (keys: ReadonlyArray<{ hex: string, pass: number }>): Promise<Array<Uint8Array | undefined>> {
    if (keys.length === 0) return []
    return await this.throughRecent(keys.map(k => operationsKey(k.hex, k.pass)), this.caches.recentOperations, async missing => await readManyThrough(this.inFlight, this.operationsLevel, missing))
  }

  /** Hex hashes of the current chain's blocks at `levels` (one multi-get for those not cached). */
  async mainChainAtMany (levels: readonly number[]): Promise<Array<string | undefined>> {
    const headLevel = this.currentHead.header.shell.level
    const out: Array<string | undefined> = levels.map(l => l < 0 || l > headLevel ? undefined : this.caches.levels.get(l))
    const missing = levels.filter((l, i) => out[i] === undefined && l >= 0 && l <= headLevel)
    if (missing.length === 0) return out
    const generation = this.generation
    const values = await readManyThrough(this.inFlight, this.levelLevel, missing.map(levelKey))
    const found = new Map<number, string>()
    missing.forEach((l, i) => {
      const b = values[i]
      if (b === undefined) return
      const hex = untext.decode(b)
      found.set(l, hex)
      if (generation === this.generation) this.caches.levels.set(l, hex)
    })
    return levels.map((l, i) => out[i] ?? found.get(l))
  }

  async getOperations (hex: string, pass: number): Promise<Operation[] | undefined> {
    const b = await this.getEncodedOperations(hex, pass)
    return b === undefined ? undefined : decodePassOperations(b)
  }

  /** Hex hash of the current chain's block at `level`. */
  async mainChainAt (level: number): Promise<string | undefined> {
    if (level < 0 || level > this.currentHead.header.shell.level) return undefined
    const cached = this.caches.levels.get(level)
    if (cached !== undefined) return cached
    const generation = this.generation
    const b = await readThrough(this.inFlight, this.levelLevel, levelKey(level))
    if (b === undefined) return undefined
    const hex = untext.decode(b)
    if (generation === this.generation) this.caches.levels.set(level, hex)
    return hex
  }

  async getUndo (hex: string): Promise<StateWrite[] | undefined> {
    const b = await readThrough(this.inFlight, this.undoLevel, hex)
    return b === undefined ? undefined : decodeStateWrites(b)
  }

  async getInvalid (hex: string): Promise<InvalidRecord | undefined> {
    if (!this.invalidRecorded) return undefined
    const b = await readThrough(this.inFlight, this.invalidLevel, hex)
    return b === undefined ? undefined : decodeInvalidRecord(b)
  }

  readState (key: string): Promise<Uint8Array | undefined> {
    const cached = this.caches.state.get(key)
    if (cached !== undefined) return Promise.resolve(cached ?? undefined)
    const generation = this.generation
    return readThrough(this.inFlight, this.stateLevel, key).then(v => {
      if (generation === this.generation) this.caches.state.set(key, v ?? null)
      return v
    })
  }

  newBatch (): StoreBatch {
    return new StoreBatch(this)
  }

  /**
   * Commits the batch: the store shows it at once (head, checkpoint, levels, state, headers, block
   * records and operation lists, through the caches and the write in flight), `onShown` is called,
   * and the batch is written to LevelDB atomically; the promise settles with that write. So a new
   * head is the head, and can be announced and served, while it is written. Writes go one at a
   * time and in order (a commit made during a write starts once it is done), so what is on disk is
   * always a prefix of the commits: a crash loses at most the batch in flight, never part of one.
   * If the write fails the store goes back to what it showed before, and the error is thrown.
   */
  commit (batch: StoreBatch, onShown?: () => void): Promise<void> {
    const writing = this.writing
    if (writing !== undefined) {
      // Built on the batch in flight: written after it, and not at all if it failed.
      return writing.then(async () => { await this.commit(batch, onShown) }, (err: unknown) => {
        throw new ChainStoreError('an earlier write to the store failed', { cause: err })
      })
    }
    const shown = this.show(batch)
    // Handed to LevelDB on the next turn of the event loop, after what `onShown` and the current
    // turn set off (a new head's announcements and events): queuing the write wakes a threadpool
    // thread, which on a busy machine took the CPU from this one for ~2 ms before the head was
    // announced (docs/profiles.md). The batch is shown meanwhile; nothing else writes.
    const write = new Promise<void>(resolve => { setImmediate(resolve) }).then(async () => { await this.write(batch, shown) })
    this.writing = write
    const done = (): void => { if (this.writing === write) this.writing = undefined }
    write.then(done, done)
    onShown?.()
    return write
  }

  /** Makes the batch visible before its write; returns what to restore if the write fails. */
  private show (batch: StoreBatch): { head: StoredHeader, checkpoint: Checkpoint } {
    const before = { head: this.currentHead, checkpoint: this.currentCheckpoint }
    // LevelDB may answer a read begun before this from before the batch: such reads are not cached.
    this.generation++
    // (Any op on the invalid sublevel counts: some batches carry ops copied from another batch.)
    if (!this.invalidRecorded && batch.ops.some(op => op.sublevel === this.invalidLevel)) this.invalidRecorded = true
    if (batch.ops.length > 0) this.inFlight = new WriteOverlay(batch.ops)
    this.caches.show(batch)
    if (batch.head !== undefined) this.currentHead = batch.head
    if (batch.checkpoint !== undefined) this.currentCheckpoint = batch.checkpoint
    return before
  }

  private async write (batch: StoreBatch, before: { head: StoredHeader, checkpoint: Checkpoint }): Promise<void> {
    try {
      if (batch.ops.length > 0) await writeBatch(this.db, batch.ops)
    } catch (err) {
      // Back to what is on disk.
      this.caches.forget(batch)
      this.currentHead = before.head
      this.currentCheckpoint = before.checkpoint
      throw err
    } finally {
      this.inFlight = undefined
      this.generation++
    }
  }
}
