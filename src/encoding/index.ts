import { Reader } from './reader.ts'
import { Writer } from './writer.ts'
import { DecodeError } from './errors.ts'

export { Reader, UINT30_MAX } from './reader.ts'
export { Writer } from './writer.ts'
export { DecodeError, EncodeError } from './errors.ts'

/**
 * A binary codec for one Octez structure. `encode` appends to a writer; `decode` reads from a
 * reader positioned at the value and leaves it after the value (callers that own the whole buffer
 * use `decodeExact`, which also rejects trailing bytes as Data_encoding does).
 */
export interface Codec<T> {
  /** Octez-style name, e.g. `block_header`; used in error messages and by `tzp2p codec`. */
  readonly name: string
  /** `check_size` bound: the encoded value may not exceed this many bytes. */
  readonly maxSize?: number
  encode: (w: Writer, value: T) => void
  decode: (r: Reader) => T
}

export function encode<T> (codec: Codec<T>, value: T): Uint8Array {
  const w = new Writer()
  codec.encode(w, value)
  return w.finish()
}

/** Decodes a whole buffer: bounds it by `maxSize` first, then requires every byte to be used. */
export function decodeExact<T> (codec: Codec<T>, bytes: Uint8Array): T {
  if (codec.maxSize !== undefined && bytes.length > codec.maxSize) {
    throw new DecodeError(codec.name, 0, `${bytes.length} bytes exceed the bound ${codec.maxSize}`)
  }
  const r = new Reader(bytes)
  const v = codec.decode(r)
  r.expectEnd(codec.name)
  return v
}

const NOT_HEX_DIGIT = /[^0-9a-fA-F]/

/**
 * What keeps `digits` from being bytes in hexadecimal, or undefined when they are: the first
 * character that is not a hex digit and its position (counted from 1, plus `start` characters
 * before `digits` in what the user typed), else an odd count of digits.
 */
export function hexDigitsProblem (digits: string, start = 0): string | undefined {
  const bad = NOT_HEX_DIGIT.exec(digits)
  if (bad !== null) {
    return `not hexadecimal: ${JSON.stringify(bad[0])} at character ${start + bad.index + 1} is not a digit 0-9 or a letter a-f`
  }
  if (digits.length % 2 !== 0) return `an odd number of hexadecimal digits (${digits.length}): each byte takes two`
  return undefined
}

/**
 * `toHex` copies inputs up to this size into one long-lived buffer: a typed array of 64 bytes or
 * less (a hash) lives on V8's heap until its `.buffer` is asked for, which then gives it a backing
 * store of its own (allocated, copied into, later freed on a GC thread) for the sake of one string.
 */
const hexScratch = Buffer.allocUnsafeSlow(128)

export function toHex (b: Uint8Array): string {
  if (b.length <= hexScratch.length) {
    hexScratch.set(b)
    return hexScratch.toString('hex', 0, b.length)
  }
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/**
 * Strict hex parsing (Buffer.from silently drops bad characters, which would hide input errors).
 * Surrounding whitespace and a `0x` prefix are allowed; the error's offset is the position, in
 * `s`, of the first bad character (or of the digits, when their count is odd).
 */
export function fromHex (s: string, what = 'hex'): Uint8Array {
  const lead = s.length - s.trimStart().length
  const t = s.trim()
  const start = lead + (t.startsWith('0x') ? 2 : 0)
  const digits = t.startsWith('0x') ? t.slice(2) : t
  const problem = hexDigitsProblem(digits, start)
  if (problem !== undefined) {
    const bad = NOT_HEX_DIGIT.exec(digits)
    throw new DecodeError(what, start + (bad?.index ?? 0), problem)
  }
  return new Uint8Array(Buffer.from(digits, 'hex'))
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}
