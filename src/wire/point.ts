import type { Codec, Reader, Writer } from '../encoding/index.ts'

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
 * decide what a malformed address means (ignore it, or penalise the peer); the text is parsed by
 * `net/point.ts` (`fromOctezPointString`, `pointFromMultiaddr`).
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
