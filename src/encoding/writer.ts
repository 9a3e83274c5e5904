import { EncodeError } from './errors.ts'
import { UINT30_MAX } from './reader.ts'

const utf8 = new TextEncoder()

/**
 * Growable big-endian writer with Data_encoding's binary rules (see `Reader`). Length-prefixed
 * blocks are written in place: `dynamic()` reserves the 4-byte prefix, runs the body, then patches
 * the prefix, so nested encodings never build intermediate buffers.
 */
export class Writer {
  private buf: Uint8Array
  private view: DataView
  length = 0

  constructor (initialSize = 256) {
    this.buf = new Uint8Array(initialSize)
    this.view = new DataView(this.buf.buffer)
  }

  /**
   * Reserves n bytes and returns their offset. It may replace `buf` and `view`, so callers take the
   * offset first and only then touch the buffer (`this.view.setX(this.grow(n), v)` would write into
   * the old buffer: the receiver is evaluated before the argument).
   */
  private grow (n: number): number {
    const need = this.length + n
    if (need > this.buf.length) {
      let size = this.buf.length * 2
      while (size < need) size *= 2
      const next = new Uint8Array(size)
      next.set(this.buf.subarray(0, this.length))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    const at = this.length
    this.length = need
    return at
  }

  private checkInt (what: string, v: number, min: number, max: number): void {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new EncodeError(what, `${v} is not an integer in [${min}, ${max}]`)
    }
  }

  uint8 (v: number, what = 'uint8'): this {
    this.checkInt(what, v, 0, 0xff)
    const at = this.grow(1)
    this.view.setUint8(at, v)
    return this
  }

  int8 (v: number, what = 'int8'): this {
    this.checkInt(what, v, -0x80, 0x7f)
    const at = this.grow(1)
    this.view.setInt8(at, v)
    return this
  }

  uint16 (v: number, what = 'uint16'): this {
    this.checkInt(what, v, 0, 0xffff)
    const at = this.grow(2)
    this.view.setUint16(at, v)
    return this
  }

  int16 (v: number, what = 'int16'): this {
    this.checkInt(what, v, -0x8000, 0x7fff)
    const at = this.grow(2)
    this.view.setInt16(at, v)
    return this
  }

  int32 (v: number, what = 'int32'): this {
    this.checkInt(what, v, -0x80000000, 0x7fffffff)
    const at = this.grow(4)
    this.view.setInt32(at, v)
    return this
  }

  uint32 (v: number, what = 'uint32'): this {
    this.checkInt(what, v, 0, 0xffffffff)
    const at = this.grow(4)
    this.view.setUint32(at, v)
    return this
  }

  uint30 (v: number, what = 'uint30'): this {
    this.checkInt(what, v, 0, UINT30_MAX)
    const at = this.grow(4)
    this.view.setInt32(at, v)
    return this
  }

  int64 (v: bigint, what = 'int64'): this {
    if (v < -(1n << 63n) || v >= (1n << 63n)) throw new EncodeError(what, `${v} out of int64 range`)
    const at = this.grow(8)
    this.view.setBigInt64(at, v)
    return this
  }

  bool (v: boolean): this {
    return this.uint8(v ? 0xff : 0x00)
  }

  /** Raw bytes, no prefix (`Fixed.bytes` / `Variable.bytes`). */
  raw (b: Uint8Array): this {
    const at = this.grow(b.length)
    this.buf.set(b, at)
    return this
  }

  /** `Fixed.bytes n`: checks the length is exactly n. */
  fixed (b: Uint8Array, n: number, what = 'fixed bytes'): this {
    if (b.length !== n) throw new EncodeError(what, `expected ${n} bytes, got ${b.length}`)
    return this.raw(b)
  }

  /** `dynamic_size`: 4-byte length prefix patched after `body` wrote the block. */
  dynamic (body: (w: this) => void, what = 'dynamic', max = UINT30_MAX): this {
    const at = this.grow(4)
    body(this)
    const n = this.length - at - 4
    if (n > max) throw new EncodeError(what, `${n} bytes exceed the bound ${max}`)
    this.view.setInt32(at, n)
    return this
  }

  bytes (b: Uint8Array, what = 'bytes', max = UINT30_MAX): this {
    if (b.length > max) throw new EncodeError(what, `${b.length} bytes exceed the bound ${max}`)
    return this.uint30(b.length, what).raw(b)
  }

  string (s: string, what = 'string', max = UINT30_MAX): this {
    return this.bytes(utf8.encode(s), what, max)
  }

  optional<T> (v: T | undefined, body: (w: this, v: T) => void): this {
    if (v === undefined) return this.uint8(0x00)
    this.uint8(0xff)
    body(this, v)
    return this
  }

  /** A copy of what was written (the internal buffer keeps growing if the writer is reused). */
  finish (): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}
