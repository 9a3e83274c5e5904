import { multiaddr } from '@multiformats/multiaddr'
import { b58Decode, b58Encode } from '../../crypto/index.ts'
import { DecodeError, Reader } from '../../encoding/index.ts'
import { ADVERTISE_MAX_POINTS, type PeerMessage } from '../../wire/peer-messages.ts'
import {
  decodeP2pMessage, encodeP2pMessage, p2pMessageCodec, P2P_MESSAGE_LENGTH_BYTES, P2P_MESSAGE_TAG_BYTES
} from '../../wire/p2p-message.ts'
import { PEER_ID_BYTES } from '../../wire/hashes.ts'
import { pointStringCodec } from '../../wire/point.ts'
import { InvalidPointError, isIpPoint, pointFromMultiaddr, pointToMultiaddr, type PointAddress } from '../../net/point.ts'

/**
 * Definitions of `/tzp2p/peers/1.0.0` (see `protocols/peers.md`, normative): the protocol id, the
 * messages (Octez's P2P envelope, tags 0x01–0x05, with multiaddr strings for points), their bounds
 * and timings. The engine that runs them is `service.ts`.
 */

export const PEER_EXCHANGE_PROTOCOL = '/tzp2p/peers/1.0.0'

/** A point string is a multiaddr of at most this many UTF-8 bytes (Octez's `ip:port` strings stop at 47). */
export const POINT_MULTIADDR_MAX_BYTES = 256
/** Points put in one Advertise (Octez `list_known_points ~size:50`). */
export const ADVERTISE_MAX_SENT = 50
/** Points accepted in one Advertise (Octez's `Variable.list ~max_length:100`); more greylists the sender. */
export const ADVERTISE_MAX_ACCEPTED = ADVERTISE_MAX_POINTS
/** Octez's per-connection throttle on Bootstrap/Advertise handling. */
export const BOOTSTRAP_THROTTLE_MS = 100
/** Octez's per-connection throttle on Swap_request/Swap_ack handling. */
export const SWAP_THROTTLE_MS = 60_000
/** How long the requesting side waits for the answer to a Bootstrap or a Swap_request. */
export const REPLY_TIMEOUT_MS = 10_000
/** Streams of this protocol open at once on one connection, each way. */
export const MAX_STREAMS_PER_CONNECTION = 2

/**
 * Largest envelope body (tag + payload) a conforming peer sends: an Advertise of 100 points of
 * 256 bytes, each with its 4-byte length. A Swap message is far smaller.
 */
export const MAX_MESSAGE_BODY_BYTES = P2P_MESSAGE_TAG_BYTES + ADVERTISE_MAX_ACCEPTED * (4 + POINT_MULTIADDR_MAX_BYTES)

/** The P2P envelope with multiaddr point strings of at most 256 bytes. */
export const peerExchangeCodec = p2pMessageCodec({
  points: pointStringCodec(POINT_MULTIADDR_MAX_BYTES, 'peers.point'),
  name: 'peers_message'
})

const PEER_MESSAGE_TAGS = new Set<string>(['Disconnect', 'Bootstrap', 'Advertise', 'Swap_request', 'Swap_ack'])

/** Bytes that are not a peer-exchange message: the sender is greylisted. */
export class MalformedPeerMessageError extends Error {
  override readonly name = 'MalformedPeerMessageError'
  readonly misbehaviour = 'malformed-message'
}

/** A well-formed message that has no place where it arrived (a Current_head here, an Advertise opening a stream…). */
export class UnexpectedPeerMessageError extends Error {
  override readonly name = 'UnexpectedPeerMessageError'
  readonly misbehaviour = 'invalid-message'
  readonly tag: string
  constructor (tag: string, where: string) {
    super(`unexpected ${tag} ${where}`)
    this.tag = tag
  }
}

export function encodePeerMessage (message: PeerMessage): Uint8Array {
  return encodeP2pMessage(message, peerExchangeCodec)
}

/**
 * The body length announced by an envelope's first 4 bytes, refused above `MAX_MESSAGE_BODY_BYTES`
 * before anything is buffered for it.
 */
export function announcedBodyLength (prefix: Uint8Array): number {
  // Read as uint32: a prefix beyond uint30 is as malformed as any other out-of-bound length (and
  // must cost the sender the same), not a different error.
  const n = new Reader(prefix).uint32('peers_message.length')
  if (n < P2P_MESSAGE_TAG_BYTES || n > MAX_MESSAGE_BODY_BYTES) {
    throw new MalformedPeerMessageError(`message announces ${n} bytes, outside [${P2P_MESSAGE_TAG_BYTES}, ${MAX_MESSAGE_BODY_BYTES}]`)
  }
  return n
}

/** Decodes one whole envelope (length prefix included) into a peer message. */
export function decodePeerMessage (envelope: Uint8Array): PeerMessage {
  let message
  try {
    message = decodeP2pMessage(envelope, peerExchangeCodec)
  } catch (err) {
    if (err instanceof DecodeError) throw new MalformedPeerMessageError(err.message, { cause: err })
    throw err
  }
  if (!PEER_MESSAGE_TAGS.has(message.tag)) throw new UnexpectedPeerMessageError(message.tag, 'on the peer-exchange stream')
  return message as PeerMessage
}

export { P2P_MESSAGE_LENGTH_BYTES }

/**
 * Reads a point string from a list: `/ip4/…/tcp/<port>` or `/ip6/…/tcp/<port>`, optionally ending
 * with `/p2p/<libp2p peer id>`. Anything else (DNS names included: a peer must not make us resolve
 * names it chose) is malformed. Returns undefined for a well-formed address nobody can dial (the
 * unspecified address), which is skipped without penalty.
 */
export function parseExchangedPoint (text: string): PointAddress | undefined {
  let point: PointAddress
  try {
    point = pointFromMultiaddr(multiaddr(text))
  } catch (err) {
    throw new MalformedPeerMessageError(`point ${JSON.stringify(text.slice(0, 80))}: ${(err as Error).message}`, { cause: err })
  }
  if (!isIpPoint(point)) throw new MalformedPeerMessageError(`point ${JSON.stringify(text.slice(0, 80))} is not an IP address`)
  if (point.host === '0.0.0.0' || point.host === '::') return undefined
  return point
}

/** The string a point travels as (its libp2p PeerId appended when known). */
export function formatExchangedPoint (point: PointAddress): string {
  const text = pointToMultiaddr(point).toString()
  if (new TextEncoder().encode(text).length > POINT_MULTIADDR_MAX_BYTES) {
    throw new InvalidPointError(text, `longer than ${POINT_MULTIADDR_MAX_BYTES} bytes`)
  }
  return text
}

/** A Tezos peer id `id…` as the 16 bytes of a Swap message. */
export function peerIdBytes (tezosPeerId: string): Uint8Array {
  return b58Decode('peerId', tezosPeerId)
}

export function peerIdFromBytes (bytes: Uint8Array): string {
  if (bytes.length !== PEER_ID_BYTES) throw new MalformedPeerMessageError(`a peer id has ${PEER_ID_BYTES} bytes, got ${bytes.length}`)
  return b58Encode('peerId', bytes)
}
