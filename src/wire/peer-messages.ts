import { EncodeError, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { PEER_ID_BYTES } from './hashes.ts'
import { pointCodec } from './point.ts'
import type { MessageCase } from './ddb-messages.ts'

/** Octez greylists a peer whose Advertise lists more points than this. */
export const ADVERTISE_MAX_POINTS = 100

/** The P2P layer's own messages (Octez `src/lib_p2p/p2p_message.ml`), tags 0x01–0x05. */
export type PeerMessage =
  | { tag: 'Disconnect' }
  | { tag: 'Bootstrap' }
  | { tag: 'Advertise', points: string[] }
  | { tag: 'Swap_request', point: string, peerId: Uint8Array }
  | { tag: 'Swap_ack', point: string, peerId: Uint8Array }

export type PeerMessageTag = PeerMessage['tag']
type Of<T extends PeerMessageTag> = Extract<PeerMessage, { tag: T }>

function swapCase<T extends 'Swap_request' | 'Swap_ack'> (tag: T, code: number, points: Codec<string>): MessageCase<Of<T>> {
  const what = tag.toLowerCase()
  return {
    code,
    encode: (w: Writer, m: Of<T>) => {
      const swap = m as { point: string, peerId: Uint8Array }
      points.encode(w, swap.point)
      w.fixed(swap.peerId, PEER_ID_BYTES, `${what}.peer_id`)
    },
    decode: (r: Reader) => ({ tag, point: points.decode(r), peerId: r.fixed(PEER_ID_BYTES, `${what}.peer_id`) }) as Of<T>
  }
}

/**
 * Payload codecs of the peer messages. `points` encodes each point string: Octez's is
 * `check_size 51 string`; tzp2p's peer exchange passes a wider one for multiaddr strings.
 */
export function peerMessageCases (points: Codec<string> = pointCodec): { readonly [T in PeerMessageTag]: MessageCase<Of<T>> } {
  return {
    Disconnect: { code: 0x01, encode: () => {}, decode: () => ({ tag: 'Disconnect' }) },
    Bootstrap: { code: 0x02, encode: () => {}, decode: () => ({ tag: 'Bootstrap' }) },
    Advertise: {
      code: 0x03,
      encode: (w, m) => {
        if (m.points.length > ADVERTISE_MAX_POINTS) {
          throw new EncodeError('advertise', `${m.points.length} points, at most ${ADVERTISE_MAX_POINTS}`)
        }
        for (const p of m.points) points.encode(w, p)
      },
      // Variable.list: the point strings run back to back to the end of the message.
      decode: r => ({ tag: 'Advertise', points: r.variableList('advertise', ADVERTISE_MAX_POINTS, sub => points.decode(sub)) })
    },
    Swap_request: swapCase('Swap_request', 0x04, points),
    Swap_ack: swapCase('Swap_ack', 0x05, points)
  }
}
