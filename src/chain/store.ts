import type { Database, Sublevel } from '../storage/database.ts'
import { sublevel } from '../storage/database.ts'
import { Reader, Writer, decodeExact, encode, toHex, bytesEqual } from '../encoding/index.ts'
import { blockHeaderCodec, type BlockHeader } from '../wire/block-header.ts'
import { operationCodec, OPERATION_MAX_BYTES, type Operation } from '../wire/operation.ts'
import type { StateReader, StateWrite } from '../protocol/state.ts'
import { BoundedCache } from './cache.ts'
import { readManyThrough, readThrough, WriteOverlay, type BatchOp } from './write-overlay.ts'
import type { Genesis } from './genesis.ts'
import {
  decodeBlockRecord, decodeInvalidRecord, decodeStateWrites, encodeBlockRecord, encodeInvalidRecord, encodeStateWrites,
  levelKey, operationsKey, type BlockRecord, type InvalidRecord
} from './records.ts'

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
 * Every change goes through a `StoreBatch` committed with one `db.batch`, so a crash leaves the
 * store either before or after a whole block (header, operations, state, undo, level, head).
 * Small caches keep the head, recent headers, recent levels and hot state keys in memory. A
 * committed batch is shown (head, caches) as its write begins; while it is written, reads of its
 * keys are answered from it (`WriteOverlay`), and if the write fails the store shows the disk again.
 */

export interface StoredHeader {
  hash: Uint8Array
  hex: string
  header: BlockHeader
  /** The header as stored (its BLAKE2b-256 is the hash, except for genesis). */
  bytes: Uint8Array
}

export interface Checkpoint {
  hash: Uint8Array
  level: number
}

/** What `ChainStore.noteValidated` keeps of a block: per pass, its Lo hash and its stored list encoding. */
export interface ValidatedBlock {
  listHashes: Uint8Array[]
  encodedPasses: Uint8Array[]
}

export interface StoreCacheSizes {
  headers?: number
  levels?: number
  state?: number
  /** Blocks whose record and operation lists are kept after their commit (default 256). */
  recentBlocks?: number
}

const HEAD_KEY = 'head'
const GENESIS_KEY = 'genesis'
const CHECKPOINT_KEY = 'checkpoint'

export class ChainStoreError extends Error {
  override readonly name = 'ChainStoreError'
}


/** One atomic change to the store; `ChainStore.commit` writes it and then updates the caches. */
export class StoreBatch {
  readonly ops: BatchOp[] = []
  readonly headers: StoredHeader[] = []
  readonly levels: Array<[number, string | undefined]> = []
  readonly state: StateWrite[] = []
  /** Block records and operation lists written, for the recent-blocks caches (keys as stored). */
  readonly blockRecords: Array<[string, BlockRecord]> = []
  readonly operationLists: Array<[string, Uint8Array]> = []
  head?: StoredHeader
  checkpoint?: Checkpoint
  private readonly store: ChainStore

  constructor (store: ChainStore) {
    this.store = store
  }

  putHeader (h: StoredHeader): void {
    this.ops.push({ type: 'put', sublevel: this.store.headerLevel, key: h.hex, value: h.bytes })
    this.headers.push(h)
  }

  putOperations (hex: string, pass: number, encodedPass: Uint8Array): void {
    const key = operationsKey(hex, pass)
    this.ops.push({ type: 'put', sublevel: this.store.operationsLevel, key, value: encodedPass })
    this.operationLists.push([key, encodedPass])
  }

  putBlockRecord (hex: string, record: BlockRecord): void {
    this.ops.push({ type: 'put', sublevel: this.store.blockLevel, key: hex, value: encodeBlockRecord(record) })
    this.blockRecords.push([hex, record])
  }

  setLevel (level: number, hex: string | undefined): void {
    const key = levelKey(level)
    this.ops.push(hex === undefined
      ? { type: 'del', sublevel: this.store.levelLevel, key }
      : { type: 'put', sublevel: this.store.levelLevel, key, value: new TextEncoder().encode(hex) })
    this.levels.push([level, hex])
  }

  putUndo (hex: string, previous: readonly StateWrite[]): void {
    this.ops.push({ type: 'put', sublevel: this.store.undoLevel, key: hex, value: encodeStateWrites(previous) })
  }

  deleteUndo (hex: string): void {
    this.ops.push({ type: 'del', sublevel: this.store.undoLevel, key: hex })
  }

  writeState (writes: readonly StateWrite[]): void {
    for (const w of writes) {
      this.ops.push(w.value === undefined
        ? { type: 'del', sublevel: this.store.stateLevel, key: w.key }
        : { type: 'put', sublevel: this.store.stateLevel, key: w.key, value: w.value })
      this.state.push(w)
    }
  }

  putInvalid (hex: string, record: InvalidRecord): void {
    this.ops.push({ type: 'put', sublevel: this.store.invalidLevel, key: hex, value: encodeInvalidRecord(record) })
  }

  setHead (h: StoredHeader): void {
    this.ops.push({ type: 'put', sublevel: this.store.metaLevel, key: HEAD_KEY, value: h.hash })
    this.head = h
  }

  setCheckpoint (c: Checkpoint): void {
    const v = new Uint8Array(36)
    v.set(c.hash)
    new DataView(v.buffer).setInt32(32, c.level)
    this.ops.push({ type: 'put', sublevel: this.store.metaLevel, key: CHECKPOINT_KEY, value: v })
    this.checkpoint = c
  }
}

/** Encodes one pass's operations as Octez lists them: each operation uint30-length-prefixed. */
export function encodePassOperations (encodedOperations: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(encodedOperations.reduce((n, b) => n + 4 + b.length, 0) || 1)
  for (const b of encodedOperations) w.bytes(b)
  return w.finish()
}

export function decodePassOperations (b: Uint8Array): Operation[] {
  const r = new Reader(b)
  return r.variableList('operations', Number.MAX_SAFE_INTEGER, r => r.dynamic('operation', OPERATION_MAX_BYTES, operationCodec.decode))
}

function decodeHeader (hash: Uint8Array, hex: string, bytes: Uint8Array): StoredHeader {
  return { hash, hex, header: decodeExact(blockHeaderCodec, bytes), bytes }
}

export function storedHeader (hash: Uint8Array, header: BlockHeader, bytes = encode(blockHeaderCodec, header)): StoredHeader {
  return { hash, hex: toHex(hash), header, bytes }
}

function encodeGenesis (g: Genesis): Uint8Array {
  return new Writer().fixed(g.hash, 32).int64(g.timestamp).string(g.protocol).finish()
}

const untext = new TextDecoder()

/**
 * Writes `ops` atomically as one LevelDB write batch. Through a chained batch: classic-level turns
 * an array of operations into its native batch by reading each element's properties through
 * Node-API (about 2 µs per operation of the thread that applies blocks, some 7 per block), while a
 * chained batch hands each key and value over in one call (about 0.7 µs).
 */
async function writeBatch (db: Database, ops: readonly BatchOp[]): Promise<void> {
  const chained = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') chained.put(op.key, op.value, { sublevel: op.sublevel })
      else chained.del(op.key, { sublevel: op.sublevel })
    }
  } catch (e) {
    await chained.close()
    throw e
  }
  await chained.write()
}

export class ChainStore {
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
  private readonly headerCache: BoundedCache<string, StoredHeader>
  private readonly levelCache: BoundedCache<number, string>
  private readonly stateCache: BoundedCache<string, Uint8Array | null>
  /**
   * Records and operation lists of the last blocks committed. Every peer that hears of a new head
   * asks for its operations within the same second; with 200 peers, serving each request from
   * LevelDB was the largest piece of the node's own work per head (`npm run bench:peers`, CPU
   * profile in docs/profiles.md). Filled only by commits, which are the only writers of both
   * (never removed), so an entry cannot go stale.
   */
  private readonly recentRecords: BoundedCache<string, BlockRecord>
  private readonly recentOperations: BoundedCache<string, Uint8Array>
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
    this.headerCache = new BoundedCache(cache.headers ?? 8192)
    this.levelCache = new BoundedCache(cache.levels ?? 8192)
    this.stateCache = new BoundedCache(cache.state ?? 100_000)
    this.recentRecords = new BoundedCache(cache.recentBlocks ?? 256)
    // A demo block has one or a few validation passes; Octez blocks have four.
    this.recentOperations = new BoundedCache(4 * (cache.recentBlocks ?? 256))
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
    store.currentCheckpoint = { hash: checkpoint.slice(0, 32), level: new DataView(checkpoint.buffer, checkpoint.byteOffset + 32, 4).getInt32(0) }
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
    const cached = this.headerCache.get(hex)
    if (cached !== undefined) return cached
    const bytes = await readThrough(this.inFlight, this.headerLevel, hex)
    if (bytes === undefined) return undefined
    const h = decodeHeader(Uint8Array.from(Buffer.from(hex, 'hex')), hex, bytes)
    this.headerCache.set(hex, h)
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
    const out: Array<StoredHeader | undefined> = hexes.map(h => this.headerCache.get(h))
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
      this.headerCache.set(hex, h)
      out[i] = h
    }
    return out
  }

  /**
   * Headers as stored, for answering peers, who are sent the bytes: nothing is decoded, and nothing
   * is added to the header cache (a peer's bootstrap reads each header once).
   */
  async getHeaderBytesMany (hexes: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    const out: Array<Uint8Array | undefined> = hexes.map(h => this.headerCache.get(h)?.bytes)
    const missing = hexes.filter((_, i) => out[i] === undefined)
    if (missing.length === 0) return out
    const values = await readManyThrough(this.inFlight, this.headerLevel, missing)
    let j = 0
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = values[j++]
    return out
  }

  async getBlockRecord (hex: string): Promise<BlockRecord | undefined> {
    const recent = this.recentRecords.get(hex)
    if (recent !== undefined) return recent
    const b = await readThrough(this.inFlight, this.blockLevel, hex)
    return b === undefined ? undefined : decodeBlockRecord(b)
  }

  async getBlockRecords (hexes: readonly string[]): Promise<Array<BlockRecord | undefined>> {
    if (hexes.length === 0) return []
    return await this.throughRecent(hexes, this.recentRecords, async keys =>
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
    return this.recentOperations.get(key) ?? await readThrough(this.inFlight, this.operationsLevel, key)
  }

  /** Many passes' operation lists at once (one LevelDB multi-get). */
  async getEncodedOperationsMany (keys: ReadonlyArray<{ hex: string, pass: number }>): Promise<Array<Uint8Array | undefined>> {
    if (keys.length === 0) return []
    return await this.throughRecent(keys.map(k => operationsKey(k.hex, k.pass)), this.recentOperations, async missing => await readManyThrough(this.inFlight, this.operationsLevel, missing))
  }

  /** Hex hashes of the current chain's blocks at `levels` (one multi-get for those not cached). */
  async mainChainAtMany (levels: readonly number[]): Promise<Array<string | undefined>> {
    const headLevel = this.currentHead.header.shell.level
    const out: Array<string | undefined> = levels.map(l => l < 0 || l > headLevel ? undefined : this.levelCache.get(l))
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
      if (generation === this.generation) this.levelCache.set(l, hex)
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
    const cached = this.levelCache.get(level)
    if (cached !== undefined) return cached
    const generation = this.generation
    const b = await readThrough(this.inFlight, this.levelLevel, levelKey(level))
    if (b === undefined) return undefined
    const hex = untext.decode(b)
    if (generation === this.generation) this.levelCache.set(level, hex)
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
    const cached = this.stateCache.get(key)
    if (cached !== undefined) return Promise.resolve(cached ?? undefined)
    const generation = this.generation
    return readThrough(this.inFlight, this.stateLevel, key).then(v => {
      if (generation === this.generation) this.stateCache.set(key, v ?? null)
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
    for (const h of batch.headers) this.headerCache.set(h.hex, h)
    for (const [hex, record] of batch.blockRecords) this.recentRecords.set(hex, record)
    for (const [key, list] of batch.operationLists) this.recentOperations.set(key, list)
    for (const [level, hex] of batch.levels) {
      if (hex === undefined) this.levelCache.delete(level)
      else this.levelCache.set(level, hex)
    }
    for (const w of batch.state) this.stateCache.set(w.key, w.value ?? null)
    if (batch.head !== undefined) this.currentHead = batch.head
    if (batch.checkpoint !== undefined) this.currentCheckpoint = batch.checkpoint
    return before
  }

  private async write (batch: StoreBatch, before: { head: StoredHeader, checkpoint: Checkpoint }): Promise<void> {
    try {
      if (batch.ops.length > 0) await writeBatch(this.db, batch.ops)
    } catch (err) {
      // Back to what is on disk: the batch's entries leave the caches (later reads go to LevelDB).
      for (const h of batch.headers) this.headerCache.delete(h.hex)
      for (const [hex] of batch.blockRecords) this.recentRecords.delete(hex)
      for (const [key] of batch.operationLists) this.recentOperations.delete(key)
      for (const [level] of batch.levels) this.levelCache.delete(level)
      for (const w of batch.state) this.stateCache.delete(w.key)
      this.currentHead = before.head
      this.currentCheckpoint = before.checkpoint
      throw err
    } finally {
      this.inFlight = undefined
      this.generation++
    }
  }
}
