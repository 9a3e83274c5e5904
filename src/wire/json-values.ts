import { b58Decode, b58Encode, type Base58Kind } from '../crypto/index.ts'
import { DecodeError, hexDigitsProblem, toHex } from '../encoding/index.ts'

/** A JSON value as `JSON.parse` returns it and `JSON.stringify` prints it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

/** A JSON value that does not describe a valid structure; `path` locates it (`$.header.level`). */
export class WireJsonError extends Error {
  override readonly name = 'WireJsonError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`${path}: ${reason}`)
    this.path = path
  }
}

function describe (v: unknown): string {
  if (v === undefined) return 'nothing'
  const s = JSON.stringify(v)
  return s === undefined ? typeof v : s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/**
 * A JSON object being read: fields are taken one by one and `done()` rejects any key nobody took,
 * as Data_encoding's JSON reader does ("unexpected field").
 */
export class JsonFields {
  readonly path: string
  private readonly o: Record<string, unknown>
  private readonly taken = new Set<string>()

  constructor (value: unknown, path: string) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new WireJsonError(path, `expected an object, got ${describe(value)}`)
    }
    this.o = value as Record<string, unknown>
    this.path = path
  }

  has (key: string): boolean {
    return Object.hasOwn(this.o, key)
  }

  /** The raw value of a required field. */
  get (key: string): unknown {
    if (!this.has(key)) throw new WireJsonError(`${this.path}.${key}`, 'missing field')
    this.taken.add(key)
    return this.o[key]
  }

  /** The raw value of an optional field, `undefined` when absent. */
  opt (key: string): unknown {
    if (!this.has(key)) return undefined
    this.taken.add(key)
    return this.o[key]
  }

  at (key: string): string {
    return `${this.path}.${key}`
  }

  done (): void {
    for (const k of Object.keys(this.o)) {
      if (!this.taken.has(k)) throw new WireJsonError(`${this.path}.${k}`, 'unexpected field')
    }
  }
}

export function jsonString (v: unknown, path: string): string {
  if (typeof v !== 'string') throw new WireJsonError(path, `expected a string, got ${describe(v)}`)
  return v
}

export function jsonBool (v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new WireJsonError(path, `expected true or false, got ${describe(v)}`)
  return v
}

/** An integer in [min, max]; JSON numbers or decimal strings (Data_encoding prints int64 as strings). */
export function jsonInt (v: unknown, path: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new WireJsonError(path, `expected an integer in [${min}, ${max}], got ${describe(v)}`)
  }
  return n
}

export function jsonArray (v: unknown, path: string, maxLength = Number.MAX_SAFE_INTEGER): unknown[] {
  if (!Array.isArray(v)) throw new WireJsonError(path, `expected an array, got ${describe(v)}`)
  if (v.length > maxLength) throw new WireJsonError(path, `${v.length} elements, at most ${maxLength}`)
  return v
}

/** Raw bytes as hex, optionally of an exact size. */
export function jsonHex (v: unknown, path: string, size?: number): Uint8Array {
  const s = jsonString(v, path)
  const notHex = hexDigitsProblem(s)
  if (notHex !== undefined) throw new WireJsonError(path, `expected hexadecimal bytes, got ${describe(v)}: ${notHex}`)
  if (size !== undefined && s.length !== size * 2) {
    throw new WireJsonError(path, `expected ${size} bytes (${size * 2} hex characters), got ${s.length / 2}`)
  }
  return new Uint8Array(Buffer.from(s, 'hex'))
}

/** A base58check hash of the given kind (`B…`, `o…`, `LLo…`, `Net…`, `id…`). */
export function jsonB58 (v: unknown, path: string, kind: Base58Kind): Uint8Array {
  const s = jsonString(v, path)
  try {
    return b58Decode(kind, s)
  } catch (e) {
    if (e instanceof DecodeError) throw new WireJsonError(path, e.message.replace(/^\S+ at offset 0: /, ''))
    throw e
  }
}

export const b58 = b58Encode
export const hex = toHex

/** Years 0000–9999, the range RFC 3339 notation covers. */
const MIN_RFC3339_SECONDS = -62167219200n
const MAX_RFC3339_SECONDS = 253402300799n
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i

/**
 * `Time.Protocol` in JSON as Octez prints it: RFC 3339 in UTC without fractions
 * (`"2018-12-13T15:10:48Z"`) when the year fits four digits, else the int64 as a decimal string.
 */
export function timestampToJson (seconds: bigint): string {
  if (seconds < MIN_RFC3339_SECONDS || seconds > MAX_RFC3339_SECONDS) return seconds.toString()
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, 'Z')
}

/** Accepts RFC 3339 (any offset; fractions dropped) or seconds since the epoch (number or string). */
export function jsonTimestamp (v: unknown, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const n = BigInt(v)
    if (n < -(1n << 63n) || n >= (1n << 63n)) throw new WireJsonError(path, `${v} is outside int64`)
    return n
  }
  if (typeof v === 'string' && RFC3339_RE.test(v)) {
    const ms = Date.parse(v)
    if (!Number.isNaN(ms)) return BigInt(Math.floor(ms / 1000))
  }
  throw new WireJsonError(path, `expected an RFC 3339 time like "2018-12-13T15:10:48Z" or seconds since 1970, got ${describe(v)}`)
}
