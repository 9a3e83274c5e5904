import { DecodeError } from './errors.ts'

/** Largest value of Data_encoding's `uint30`, used for every length prefix. */
export const UINT30_MAX = 0x3fffffff

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Cursor over a byte buffer following Octez Data_encoding's binary rules: big-endian integers,
 * 4-byte `uint30` length prefixes for dynamic-size values, and "Variable" tails that run to the
 * end of the enclosing block.
 *
 * A reader is bounded to `[start, end)`; `sub()` hands out a nested reader over a length-prefixed
 * block, so a `Variable` field inside it stops at the block's end rather than the buffer's.
 * Every length read is checked against both the remaining bytes and a caller-supplied maximum
 * *before* anything is allocated.
 */
export class Reader {
  private readonly view: DataView
  readonly buf: Uint8Array
  readonly end: number
  offset: number

  constructor (buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.offset = start
    this.end = end
  }

  get remaining (): number {
    return this.end - this.offset
  }

  get atEnd (): boolean {
    return this.offset >= this.end
  }

  fail (what: string, reason: string, offset = this.offset): never {
    throw new DecodeError(what, offset, reason)
  }

  private need (n: number, what: string): number {
    if (n > this.end - this.offset) {
      this.fail(what, `needs ${n} byte(s), only ${this.end - this.offset} left`)
    }
    const at = this.offset
    this.offset += n
    return at
  }

  uint8 (what: string): number {
    return this.view.getUint8(this.need(1, what))
  }

  int8 (what: string): number {
    return this.view.getInt8(this.need(1, what))
  }

  uint16 (what: string): number {
    return this.view.getUint16(this.need(2, what))
  }

  int16 (what: string): number {
    return this.view.getInt16(this.need(2, what))
  }

  int32 (what: string): number {
    return this.view.getInt32(this.need(4, what))
  }

  uint32 (what: string): number {
    return this.view.getUint32(this.need(4, what))
  }

  int64 (what: string): bigint {
    return this.view.getBigInt64(this.need(8, what))
  }

  /**
   * `uint30`: 4 big-endian bytes whose value is at most 2^30 - 1. Read unsigned, so that a value
   * with the top bit set is reported as the large number it is, not as a negative one.
   */
  uint30 (what: string): number {
    const at = this.offset
    const v = this.uint32(what)
    if (v > UINT30_MAX) {
      this.fail(what, `uint30 out of range: ${v} (0x${v.toString(16).padStart(8, '0')}); at most ${UINT30_MAX} (2^30 - 1)`, at)
    }
    return v
  }

  /** Data_encoding `bool`: the writer emits 0x00/0xFF; the reader takes any non-zero as true. */
  bool (what: string): boolean {
    return this.uint8(what) !== 0
  }

  /** `Fixed.bytes n`. Returns a copy so the result outlives the input buffer. */
  fixed (n: number, what: string): Uint8Array {
    const at = this.need(n, what)
    return this.buf.slice(at, at + n)
  }

  /** Reads a `uint30` length prefix and checks it against `max` and the bytes left. */
  length (what: string, max: number): number {
    const at = this.offset
    const n = this.uint30(what)
    if (n > max) this.fail(what, `length ${n} exceeds the bound ${max}`, at)
    if (n > this.end - this.offset) {
      this.fail(what, `length ${n} exceeds the ${this.end - this.offset} byte(s) left`, at)
    }
    return n
  }

  /** A nested reader over the next `n` bytes (which are consumed from this one). */
  take (n: number, what: string): Reader {
    const at = this.need(n, what)
    return new Reader(this.buf, at, at + n)
  }

  /** `dynamic_size(x)`: a uint30 length prefix, then a block that `decode` must consume exactly. */
  dynamic<T> (what: string, max: number, decode: (r: Reader) => T): T {
    const n = this.length(what, max)
    const sub = this.take(n, what)
    const v = decode(sub)
    sub.expectEnd(what)
    return v
  }

  /** `bytes` (dynamic): uint30 length + raw bytes. */
  bytes (what: string, max: number): Uint8Array {
    return this.fixed(this.length(what, max), what)
  }

  /** `string` (dynamic), decoded as UTF-8; invalid UTF-8 is a DecodeError. */
  string (what: string, max: number): string {
    const at = this.offset
    const raw = this.bytes(what, max)
    try {
      return utf8.decode(raw)
    } catch {
      this.fail(what, 'invalid UTF-8', at)
    }
  }

  /** `Variable.bytes`: everything up to the end of the enclosing block. */
  rest (what: string, max = Number.MAX_SAFE_INTEGER): Uint8Array {
    if (this.remaining > max) this.fail(what, `${this.remaining} byte(s) exceed the bound ${max}`)
    return this.fixed(this.remaining, what)
  }

  /**
   * `list` (dynamic): uint30 byte length, then elements until that block ends.
   * `maxBytes` bounds the block, `maxLength` the element count (Data_encoding `~max_length`).
   */
  list<T> (what: string, maxBytes: number, maxLength: number, decode: (r: Reader, i: number) => T): T[] {
    return this.dynamic(what, maxBytes, sub => sub.variableList(what, maxLength, decode))
  }

  /** `Variable.list`: elements until the end of the enclosing block, at most `maxLength`. */
  variableList<T> (what: string, maxLength: number, decode: (r: Reader, i: number) => T): T[] {
    const out: T[] = []
    while (!this.atEnd) {
      if (out.length >= maxLength) this.fail(what, `more than ${maxLength} element(s)`)
      const before = this.offset
      out.push(decode(this, out.length))
      // A zero-width element would loop forever; no tzp2p element type is zero-width.
      if (this.offset === before) this.fail(what, 'element consumed no bytes')
    }
    return out
  }

  /** `opt` field of a dynamic encoding: 0x00 = absent, 0xFF = present (anything else rejected). */
  optional<T> (what: string, decode: (r: Reader) => T): T | undefined {
    const at = this.offset
    const tag = this.uint8(what)
    if (tag === 0x00) return undefined
    if (tag === 0xff) return decode(this)
    this.fail(what, `invalid option tag 0x${tag.toString(16).padStart(2, '0')}`, at)
  }

  /** Fails unless the reader consumed its whole block (Data_encoding's `Extra_bytes`). */
  expectEnd (what: string): void {
    if (this.offset !== this.end) this.fail(what, `${this.end - this.offset} unexpected trailing byte(s)`)
  }
}
