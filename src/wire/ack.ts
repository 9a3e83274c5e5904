import { EncodeError, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { POINT_MAX_ENCODED_BYTES, pointCodec } from './point.ts'

/** Octez rejection motives (`P2p_rejection`, an int16 on the wire). */
export const NACK_MOTIVE_CODES = {
  No_motive: 0,
  Too_many_connections: 1,
  Unknown_chain_name: 2,
  Deprecated_p2p_version: 3,
  Deprecated_distributed_db_version: 4,
  Already_connected: 5
} as const

export type KnownNackMotive = keyof typeof NACK_MOTIVE_CODES
/** A known motive by name, or any other int16 code kept as it is. */
export type NackMotive = KnownNackMotive | { unknown: number }

/** Octez greylists a peer that sends more points than this in a Nack. */
export const NACK_MAX_POINTS = 100

/** Encrypted chunk #1 of the handshake. */
export type AckMessage =
  | { tag: 'Ack' }
  /** Nack without motive, for peers whose p2p version (0) predates Nack with points. */
  | { tag: 'Nack_v_0' }
  | { tag: 'Nack', motive: NackMotive, points: string[] }

const ACK_TAG = 0x00
const NACK_TAG = 0x01
const NACK_V_0_TAG = 0xff

const MOTIVE_BY_CODE = new Map<number, KnownNackMotive>(
  Object.entries(NACK_MOTIVE_CODES).map(([name, code]) => [code, name as KnownNackMotive])
)

export function nackMotiveCode (motive: NackMotive): number {
  return typeof motive === 'string' ? NACK_MOTIVE_CODES[motive] : motive.unknown
}

/** Maps a code to its motive; codes Octez does not define stay `{ unknown: code }`. */
export function nackMotiveOfCode (code: number): NackMotive {
  return MOTIVE_BY_CODE.get(code) ?? { unknown: code }
}

/** Human-readable motive, e.g. `Too_many_connections` or `Unknown_motive(7)`. */
export function nackMotiveName (motive: NackMotive): string {
  return typeof motive === 'string' ? motive : `Unknown_motive(${motive.unknown})`
}

export const ackCodec: Codec<AckMessage> = {
  name: 'ack',
  encode (w: Writer, m: AckMessage): void {
    switch (m.tag) {
      case 'Ack':
        w.uint8(ACK_TAG)
        return
      case 'Nack_v_0':
        w.uint8(NACK_V_0_TAG)
        return
      case 'Nack':
        if (m.points.length > NACK_MAX_POINTS) {
          throw new EncodeError('ack.nack.potential_peers_to_connect', `${m.points.length} points, at most ${NACK_MAX_POINTS}`)
        }
        w.uint8(NACK_TAG)
        w.int16(nackMotiveCode(m.motive), 'ack.nack.motive')
        w.dynamic(w => { for (const p of m.points) pointCodec.encode(w, p) }, 'ack.nack.potential_peers_to_connect')
    }
  },
  decode (r: Reader): AckMessage {
    const at = r.offset
    const tag = r.uint8('ack.tag')
    switch (tag) {
      case ACK_TAG: return { tag: 'Ack' }
      case NACK_V_0_TAG: return { tag: 'Nack_v_0' }
      case NACK_TAG: {
        const motive = nackMotiveOfCode(r.int16('ack.nack.motive'))
        // Each point takes at most 51 bytes, so a longer list is over the count bound anyway.
        const points = r.list('ack.nack.potential_peers_to_connect', NACK_MAX_POINTS * POINT_MAX_ENCODED_BYTES,
          NACK_MAX_POINTS, sub => pointCodec.decode(sub))
        return { tag: 'Nack', motive, points }
      }
      default:
        return r.fail('ack.tag', `unknown tag 0x${tag.toString(16).padStart(2, '0')}`, at)
    }
  }
}
