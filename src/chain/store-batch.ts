import type { Sublevel } from '../storage/database.ts'
import { Reader, Writer, decodeExact, encode, toHex } from '../encoding/index.ts'
import { blockHeaderCodec, type BlockHeader } from '../wire/block-header.ts'
import { operationCodec, OPERATION_MAX_BYTES, type Operation } from '../wire/operation.ts'
import type { StateWrite } from '../protocol/state.ts'
import type { BatchOp } from './write-overlay.ts'
import type { Genesis } from './genesis.ts'
import { encodeBlockRecord, encodeInvalidRecord, encodeStateWrites, levelKey, operationsKey, type BlockRecord, type InvalidRecord } from './records.ts'

/**
 * What the chain store holds and how one atomic change to it is built: the stored header and
 * checkpoint types, the values' encodings, and `StoreBatch`. Kept apart from `ChainStore` (store.ts),
 * which reads, caches and writes: the chain, its transitions and checkpoint starts build batches
 * and only hand them to `ChainStore.commit`. The sublevels and keys are listed in store.ts.
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

/** The sublevels of the chain store a batch writes to (`ChainStore` has them all). */
export interface StoreSublevels {
  readonly metaLevel: Sublevel
  readonly headerLevel: Sublevel
  readonly blockLevel: Sublevel
  readonly operationsLevel: Sublevel
  readonly levelLevel: Sublevel
  readonly undoLevel: Sublevel
  readonly invalidLevel: Sublevel
  readonly stateLevel: Sublevel
}

/** Keys of the `chain` sublevel. */
export const HEAD_KEY = 'head'
export const GENESIS_KEY = 'genesis'
export const CHECKPOINT_KEY = 'checkpoint'

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
  private readonly store: StoreSublevels

  constructor (store: StoreSublevels) {
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
    this.ops.push({ type: 'put', sublevel: this.store.metaLevel, key: CHECKPOINT_KEY, value: encodeCheckpoint(c) })
    this.checkpoint = c
  }
}

/** A checkpoint as stored: its hash, then its level as a big-endian int32. */
function encodeCheckpoint (c: Checkpoint): Uint8Array {
  const v = new Uint8Array(36)
  v.set(c.hash)
  new DataView(v.buffer).setInt32(32, c.level)
  return v
}

export function decodeCheckpoint (b: Uint8Array): Checkpoint {
  return { hash: b.slice(0, 32), level: new DataView(b.buffer, b.byteOffset + 32, 4).getInt32(0) }
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

export function decodeHeader (hash: Uint8Array, hex: string, bytes: Uint8Array): StoredHeader {
  return { hash, hex, header: decodeExact(blockHeaderCodec, bytes), bytes }
}

export function storedHeader (hash: Uint8Array, header: BlockHeader, bytes = encode(blockHeaderCodec, header)): StoredHeader {
  return { hash, hex: toHex(hash), header, bytes }
}

/** The genesis record: what a store was created for, checked each time it is opened. */
export function encodeGenesis (g: Genesis): Uint8Array {
  return new Writer().fixed(g.hash, 32).int64(g.timestamp).string(g.protocol).finish()
}
