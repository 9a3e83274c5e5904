import { DecodeError, EncodeError, Reader, Writer, type Codec } from '../encoding/index.ts'
import { DDB_CASES, type DistributedDbMessage, type MessageCase } from './ddb-messages.ts'
import { peerMessageCases, type PeerMessage } from './peer-messages.ts'
import { pointCodec } from './point.ts'
import { TZP2P_CASES, type Tzp2pMessage } from './tzp2p-messages.ts'

/**
 * The application-message envelope (`P2p_message.encoding`): `check_size 100 MiB (dynamic_size
 * (union ~tag_size:Uint16 …))`, i.e. a 4-byte length, a 2-byte tag, the payload; at most 100 MiB
 * including the length itself.
 */
export const P2P_MESSAGE_MAX_BYTES = 100 * 1024 * 1024
export const P2P_MESSAGE_LENGTH_BYTES = 4
export const P2P_MESSAGE_TAG_BYTES = 2

/** Every message that travels in the envelope (Octez's, and tzp2p's own on libp2p gossip streams). */
export type P2pMessage = PeerMessage | DistributedDbMessage | Tzp2pMessage
export type P2pMessageTag = P2pMessage['tag']

export interface P2pMessageCodecOptions {
  /** Codec of the point strings in Advertise / Swap messages (Octez: `check_size 51 string`). */
  points?: Codec<string>
  /** Name used in errors and by `tzp2p codec`. */
  name?: string
}

interface CaseTable {
  byTag: Map<string, MessageCase<P2pMessage>>
  byCode: Map<number, MessageCase<P2pMessage>>
}

function caseTable (points: Codec<string>): CaseTable {
  const all = { ...peerMessageCases(points), ...DDB_CASES, ...TZP2P_CASES } as Record<string, MessageCase<P2pMessage>>
  const byTag = new Map(Object.entries(all))
  const byCode = new Map([...byTag.values()].map(c => [c.code, c]))
  return { byTag, byCode }
}

function hex4 (n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`
}

/** The 2-byte tag of a message kind, e.g. `Current_head` → 0x14. */
export function p2pMessageCode (tag: P2pMessageTag): number {
  return (DEFAULT_TABLE.byTag.get(tag) as MessageCase<P2pMessage>).code
}

/** tag ‖ payload, no length: the body of the envelope (the payload fills it exactly). */
export function p2pMessageBodyCodec (options: P2pMessageCodecOptions = {}): Codec<P2pMessage> {
  const table = options.points === undefined ? DEFAULT_TABLE : caseTable(options.points)
  const name = options.name ?? 'p2p_message.body'
  return {
    name,
    maxSize: P2P_MESSAGE_MAX_BYTES - P2P_MESSAGE_LENGTH_BYTES,
    encode (w: Writer, m: P2pMessage): void {
      const c = table.byTag.get(m.tag)
      if (c === undefined) throw new EncodeError(name, `unknown message ${JSON.stringify(m.tag)}`)
      w.uint16(c.code)
      c.encode(w, m)
    },
    decode (r: Reader): P2pMessage {
      const at = r.offset
      const code = r.uint16(`${name}.tag`)
      const c = table.byCode.get(code)
      if (c === undefined) r.fail(`${name}.tag`, `unknown message tag ${hex4(code)}`, at)
      return c.decode(r)
    }
  }
}

/** The whole envelope: 4-byte length ‖ tag ‖ payload, bounded to 100 MiB. */
export function p2pMessageCodec (options: P2pMessageCodecOptions = {}): Codec<P2pMessage> {
  const name = options.name ?? 'p2p_message'
  const body = p2pMessageBodyCodec({ ...options, name })
  const maxBody = P2P_MESSAGE_MAX_BYTES - P2P_MESSAGE_LENGTH_BYTES
  return {
    name,
    maxSize: P2P_MESSAGE_MAX_BYTES,
    encode (w: Writer, m: P2pMessage): void {
      w.dynamic(w => body.encode(w, m), name, maxBody)
    },
    decode (r: Reader): P2pMessage {
      return r.dynamic(name, maxBody, sub => body.decode(sub))
    }
  }
}

const DEFAULT_TABLE = caseTable(pointCodec)

/** Octez's envelope codec, point strings ≤ 51 bytes. */
export const octezP2pMessageCodec: Codec<P2pMessage> = p2pMessageCodec()

/**
 * For stream readers: the body length announced by the first 4 bytes of an envelope, checked
 * against the 100 MiB bound so nothing is allocated for an inflated length.
 */
export function p2pMessageBodyLength (prefix: Uint8Array): number {
  const n = new Reader(prefix).uint30('p2p_message.length')
  const max = P2P_MESSAGE_MAX_BYTES - P2P_MESSAGE_LENGTH_BYTES
  if (n > max) throw new DecodeError('p2p_message.length', 0, `length ${n} exceeds the bound ${max}`)
  if (n < P2P_MESSAGE_TAG_BYTES) throw new DecodeError('p2p_message.length', 0, `length ${n} leaves no room for the 2-byte tag`)
  return n
}

/** Decodes one whole envelope; trailing bytes are an error. */
export function decodeP2pMessage (bytes: Uint8Array, codec: Codec<P2pMessage> = octezP2pMessageCodec): P2pMessage {
  if (bytes.length > P2P_MESSAGE_MAX_BYTES) {
    throw new DecodeError(codec.name, 0, `${bytes.length} bytes exceed the bound ${P2P_MESSAGE_MAX_BYTES}`)
  }
  const r = new Reader(bytes)
  const m = codec.decode(r)
  r.expectEnd(codec.name)
  return m
}

export function encodeP2pMessage (message: P2pMessage, codec: Codec<P2pMessage> = octezP2pMessageCodec): Uint8Array {
  const w = new Writer()
  codec.encode(w, message)
  return w.finish()
}
