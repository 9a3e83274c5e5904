/**
 * The protocol state: a flat key/value map (string keys, byte values) that lives in the chain
 * store. A protocol never writes to the store directly: it reads through a `StateReader` and
 * returns the changes it wants as `StateWrite`s, which the chain commits in the same atomic batch
 * as the block that caused them.
 */

/** Read access to the state as of some block (the head, or a block being applied). */
export interface StateReader {
  get: (key: string) => Promise<Uint8Array | undefined>
}

/** One change: `value === undefined` deletes the key. */
export interface StateWrite {
  key: string
  value: Uint8Array | undefined
}

/**
 * Lays a list of state writes out in one pre-sized buffer (it runs once per block, for undo records
 * and for the context digest): optionally a uint32 count, then per write the UTF-8 key behind a
 * big-endian length of `keyLengthBytes` (2 or 4) ‖ 0x00 for a deletion, or 0xFF ‖ value length
 * (uint32 BE) ‖ value. The callers' layouts are fixed (stored on disk, hashed into headers).
 */
export function serializeStateWrites (
  writes: readonly StateWrite[],
  layout: { countPrefix: boolean, keyLengthBytes: 2 | 4 }
): Buffer {
  const k = layout.keyLengthBytes
  let size = layout.countPrefix ? 4 : 0
  for (const { key, value } of writes) size += k + Buffer.byteLength(key, 'utf8') + 1 + (value === undefined ? 0 : 4 + value.length)
  const out = Buffer.allocUnsafe(size)
  let at = 0
  if (layout.countPrefix) { out.writeUInt32BE(writes.length, 0); at = 4 }
  for (const { key, value } of writes) {
    const n = out.write(key, at + k, 'utf8')
    if (k === 2) out.writeUInt16BE(n, at)
    else out.writeUInt32BE(n, at)
    at += k + n
    if (value === undefined) {
      out[at++] = 0x00
    } else {
      out[at++] = 0xff
      out.writeUInt32BE(value.length, at)
      out.set(value, at + 4)
      at += 4 + value.length
    }
  }
  return out
}

/**
 * Copy-on-write view over a base state: reads see the local changes first, writes stay local.
 * Protocols use it to apply a block's operations one after the other (each sees the previous
 * ones' effects); the mempool uses it to check pending operations in sequence against the head.
 */
export class ScratchState implements StateReader {
  private readonly base: StateReader
  /** Changed keys; `undefined` = deleted here. */
  private readonly changes = new Map<string, Uint8Array | undefined>()

  constructor (base: StateReader) {
    this.base = base
  }

  // Not `async`: reads are the hot path of block application, and scratch states nest (protocol
  // over chain over store), so each level hands on its base's promise instead of wrapping it.
  get (key: string): Promise<Uint8Array | undefined> {
    if (this.changes.has(key)) return Promise.resolve(this.changes.get(key))
    return this.base.get(key)
  }

  set (key: string, value: Uint8Array | undefined): void {
    this.changes.set(key, value)
  }

  get size (): number {
    return this.changes.size
  }

  /** The changes in key order, so that two nodes applying the same block produce the same list. */
  writes (): StateWrite[] {
    const keys = [...this.changes.keys()].sort()
    return keys.map(key => ({ key, value: this.changes.get(key) }))
  }
}

/** A state with nothing in it (tests, and protocols whose genesis state is empty). */
export const EMPTY_STATE: StateReader = { get: () => Promise.resolve(undefined) }
