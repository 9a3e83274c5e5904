import { isIPv4, isIPv6 } from 'node:net'
import { DecodeError, EncodeError, type Codec, type Reader, type Writer } from '../encoding/index.ts'

/**
 * `P2p_point.Id.encoding` is `check_size 51 string`: the whole encoding (4-byte length prefix
 * included) may not exceed 51 bytes, so the text itself is at most 47 bytes — enough for the
 * longest `[ipv6]:port`.
 */
export const POINT_MAX_ENCODED_BYTES = 51
export const POINT_MAX_TEXT_BYTES = POINT_MAX_ENCODED_BYTES - 4

/**
 * A point string codec (4-byte length + UTF-8 text) whose text bound is a parameter: Octez points
 * are ≤ 47 bytes, while tzp2p's own peer exchange carries multiaddr strings of up to 256 bytes.
 *
 * The codec does not check the text's syntax. Octez parses while decoding, but the wire bytes of
 * a point are fully determined by the text, and keeping the check out of the codec lets callers
 * decide what a malformed address means (ignore it, or penalise the peer) — see `parsePoint`.
 */
export function pointStringCodec (maxTextBytes: number, name = 'p2p_point.id'): Codec<string> {
  return {
    name,
    maxSize: maxTextBytes + 4,
    encode (w: Writer, point: string): void {
      w.string(point, name, maxTextBytes)
    },
    decode (r: Reader): string {
      return r.string(name, maxTextBytes)
    }
  }
}

/** Octez's `P2p_point.Id.encoding`. */
export const pointCodec: Codec<string> = pointStringCodec(POINT_MAX_TEXT_BYTES)

/** A parsed point: `address` is a dotted IPv4 or an RFC 5952-compressed IPv6 (no brackets). */
export interface Point {
  address: string
  port: number
}

const PORT_RE = /^(?:0|[1-9][0-9]{0,4})$/
const MAPPED_V4_RE = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i

/** Thrown by `parsePoint` for text that is not `a.b.c.d:port` or `[ipv6]:port`. */
export class InvalidPointError extends Error {
  override readonly name = 'InvalidPointError'
  readonly text: string

  constructor (text: string, reason: string) {
    super(`invalid point ${JSON.stringify(text)}: ${reason}`)
    this.text = text
  }
}

/**
 * Parses Octez's point syntax: `a.b.c.d:port` or `[ipv6]:port` (port 0–65535, decimal).
 * IPv4-mapped IPv6 addresses are returned as plain IPv4, as Octez prints them.
 */
export function parsePoint (text: string): Point {
  let host: string
  let port: string
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || text[close + 1] !== ':') throw new InvalidPointError(text, 'expected [ipv6]:port')
    host = text.slice(1, close)
    port = text.slice(close + 2)
    if (!isIPv6(host) || host.includes('%')) throw new InvalidPointError(text, 'not an IPv6 address')
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) throw new InvalidPointError(text, 'missing :port')
    host = text.slice(0, colon)
    port = text.slice(colon + 1)
    if (!isIPv4(host)) throw new InvalidPointError(text, 'not an IPv4 address (IPv6 needs brackets)')
  }
  if (!PORT_RE.test(port) || Number(port) > 65535) throw new InvalidPointError(text, `bad port ${JSON.stringify(port)}`)
  return { address: canonicalAddress(host), port: Number(port) }
}

/** Formats a point as Octez does: `a.b.c.d:port` or `[ipv6]:port`. */
export function formatPoint (point: Point): string {
  if (!Number.isInteger(point.port) || point.port < 0 || point.port > 65535) {
    throw new EncodeError('p2p_point.id', `bad port ${point.port}`)
  }
  if (isIPv4(point.address)) return `${point.address}:${point.port}`
  if (isIPv6(point.address)) {
    const a = canonicalAddress(point.address)
    return isIPv4(a) ? `${a}:${point.port}` : `[${a}]:${point.port}`
  }
  throw new EncodeError('p2p_point.id', `not an IP address: ${JSON.stringify(point.address)}`)
}

/** Compressed lowercase IPv6 (WHATWG URL host serialisation is RFC 5952), mapped IPv4 unwrapped. */
function canonicalAddress (host: string): string {
  if (isIPv4(host)) return host
  const v6 = new URL(`http://[${host}]/`).hostname.slice(1, -1)
  const mapped = MAPPED_V4_RE.exec(v6)
  if (mapped !== null) return mapped[1]
  // URL serialises a mapped IPv4 as hex groups (::ffff:a00:1); unwrap that form too.
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6)
  if (hexMapped !== null) {
    const hi = parseInt(hexMapped[1], 16)
    const lo = parseInt(hexMapped[2], 16)
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  }
  return v6
}

/** `parsePoint` that reports failure as a `DecodeError` (for decoders that want strict points). */
export function parsePointStrict (text: string, what: string, offset: number): Point {
  try {
    return parsePoint(text)
  } catch (e) {
    throw new DecodeError(what, offset, (e as Error).message)
  }
}
