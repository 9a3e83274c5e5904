import { DecodeError, Reader } from '../encoding/index.ts'
import { serializeStateWrites, type StateWrite } from '../protocol/state.ts'

/**
 * Binary records the chain store keeps besides Octez structures (headers and operations are
 * stored in their Octez encodings). All integers big-endian.
 */

/** Whether a stored block has been applied (hence found valid) at least once. */
export const BLOCK_STORED = 0
export const BLOCK_VALID = 1

/**
 * Per-block record: status (uint8) ‖ pass count (uint8) ‖ the Lo hash of each pass (32 B each).
 * The Lo hashes let the sync service build the Merkle path of any pass without reading the
 * other passes.
 */
export interface BlockRecord {
  status: typeof BLOCK_STORED | typeof BLOCK_VALID
  listHashes: Uint8Array[]
}

export function encodeBlockRecord (r: BlockRecord): Uint8Array {
  const out = new Uint8Array(2 + 32 * r.listHashes.length)
  out[0] = r.status
  out[1] = r.listHashes.length
  r.listHashes.forEach((h, i) => out.set(h, 2 + 32 * i))
  return out
}

export function decodeBlockRecord (b: Uint8Array): BlockRecord {
  const r = new Reader(b)
  const status = r.uint8('block_record.status')
  if (status !== BLOCK_STORED && status !== BLOCK_VALID) r.fail('block_record.status', `unknown status ${status}`, 0)
  const n = r.uint8('block_record.passes')
  const listHashes: Uint8Array[] = []
  for (let i = 0; i < n; i++) listHashes.push(r.fixed(32, 'block_record.list_hash'))
  r.expectEnd('block_record')
  return { status: status as BlockRecord['status'], listHashes }
}

/**
 * A list of state writes (an undo record holds the previous values of the keys a block wrote):
 * count (uint32) then per write: UTF-8 key as a `string` (uint30 length + bytes) ‖ option tag
 * (0x00 absent / 0xFF present) ‖ value as `bytes`.
 */
export function encodeStateWrites (writes: readonly StateWrite[]): Uint8Array {
  return serializeStateWrites(writes, { countPrefix: true, keyLengthBytes: 4 })
}

export function decodeStateWrites (b: Uint8Array): StateWrite[] {
  const r = new Reader(b)
  const n = r.uint32('state_writes.count')
  if (n > b.length) r.fail('state_writes.count', `count ${n} cannot fit ${b.length} bytes`, 0)
  const out: StateWrite[] = []
  for (let i = 0; i < n; i++) {
    const key = r.string('state_writes.key', r.remaining)
    const value = r.optional('state_writes.value', r => r.bytes('state_writes.value', r.remaining))
    out.push({ key, value })
  }
  r.expectEnd('state_writes')
  return out
}

/** Why a block is known invalid (stored as UTF-8 JSON: it is read by people and the RPC). */
export interface InvalidRecord {
  level: number
  code: string
  message: string
  /** Milliseconds since the epoch when it was found invalid. */
  at: number
  /**
   * It passed validation and failed only when applied (Octez's "inapplicable after validation"):
   * peers may have advertised it in good faith, and are not blamed for it (gossip.md §9).
   */
  afterValidation?: true
}

const text = new TextEncoder()
const untext = new TextDecoder()

export function encodeInvalidRecord (r: InvalidRecord): Uint8Array {
  return text.encode(JSON.stringify(r))
}

export function decodeInvalidRecord (b: Uint8Array): InvalidRecord {
  try {
    const v = JSON.parse(untext.decode(b)) as InvalidRecord
    if (typeof v.code !== 'string' || typeof v.message !== 'string') throw new Error('missing fields')
    return v
  } catch (e) {
    throw new DecodeError('invalid_record', 0, (e as Error).message)
  }
}

/** Level index keys: 8 hex digits, so LevelDB's byte order is level order. */
export function levelKey (level: number): string {
  return level.toString(16).padStart(8, '0')
}

/** Operations of one validation pass of a block: `<hex block hash>:<pass>`. */
export function operationsKey (hashHex: string, pass: number): string {
  return `${hashHex}:${pass}`
}
