import {
  DecodeError, EncodeError, Reader, UINT30_MAX, Writer, decodeExact, encode, type Codec
} from '../encoding/index.ts'

/** X25519 public key and PoW stamp sizes (`src/lib_crypto/crypto_box.ml`), message nonce size (`src/lib_p2p/p2p_socket.ml`). */
export const PUBLIC_KEY_BYTES = 32
export const POW_STAMP_BYTES = 24
export const MESSAGE_NONCE_BYTES = 24

/** The 2-byte big-endian length that precedes a connection message on the wire. */
export const CONNECTION_FRAME_HEADER_BYTES = 2
/** The length field is a uint16, so a body is at most 65535 bytes. */
export const CONNECTION_MESSAGE_MAX_BYTES = 0xffff

/** `Network_version.encoding`: the chain name and the greatest versions a node supports. */
export interface NetworkVersion {
  chainName: string
  distributedDbVersion: number
  p2pVersion: number
}

/** `Connection_message.encoding`: what each side sends in clear text to open a connection. */
export interface ConnectionMessage {
  /** Advertised listening port; 0 = none. */
  port: number
  publicKey: Uint8Array
  proofOfWorkStamp: Uint8Array
  /** Fresh random bytes that make the frame, hence the derived nonces, unique per connection. */
  messageNonce: Uint8Array
  version: NetworkVersion
}

export const networkVersionCodec: Codec<NetworkVersion> = {
  name: 'network_version',
  encode (w: Writer, v: NetworkVersion): void {
    w.string(v.chainName, 'network_version.chain_name')
    w.uint16(v.distributedDbVersion, 'network_version.distributed_db_version')
    w.uint16(v.p2pVersion, 'network_version.p2p_version')
  },
  decode (r: Reader): NetworkVersion {
    // The chain name has no bound of its own; the enclosing frame (< 64 KiB) bounds it, and the
    // reader checks the length against the bytes left before allocating.
    const chainName = r.string('network_version.chain_name', UINT30_MAX)
    const distributedDbVersion = r.uint16('network_version.distributed_db_version')
    const p2pVersion = r.uint16('network_version.p2p_version')
    return { chainName, distributedDbVersion, p2pVersion }
  }
}

/** The body of a connection message (without its 2-byte length). */
export const connectionMessageCodec: Codec<ConnectionMessage> = {
  name: 'connection_message',
  maxSize: CONNECTION_MESSAGE_MAX_BYTES,
  encode (w: Writer, m: ConnectionMessage): void {
    w.uint16(m.port, 'connection_message.port')
    w.fixed(m.publicKey, PUBLIC_KEY_BYTES, 'connection_message.pubkey')
    w.fixed(m.proofOfWorkStamp, POW_STAMP_BYTES, 'connection_message.proof_of_work_stamp')
    w.fixed(m.messageNonce, MESSAGE_NONCE_BYTES, 'connection_message.message_nonce')
    networkVersionCodec.encode(w, m.version)
  },
  decode (r: Reader): ConnectionMessage {
    const port = r.uint16('connection_message.port')
    const publicKey = r.fixed(PUBLIC_KEY_BYTES, 'connection_message.pubkey')
    const proofOfWorkStamp = r.fixed(POW_STAMP_BYTES, 'connection_message.proof_of_work_stamp')
    const messageNonce = r.fixed(MESSAGE_NONCE_BYTES, 'connection_message.message_nonce')
    const version = networkVersionCodec.decode(r)
    return { port, publicKey, proofOfWorkStamp, messageNonce, version }
  }
}

/**
 * The whole frame as it goes on the wire: 2-byte length ‖ body. The handshake hashes exactly
 * these bytes (prefix included) to derive the channel nonces, so callers keep the returned buffer.
 */
export function encodeConnectionFrame (message: ConnectionMessage): Uint8Array {
  const body = encode(connectionMessageCodec, message)
  if (body.length > CONNECTION_MESSAGE_MAX_BYTES) {
    throw new EncodeError('connection_message', `${body.length} bytes do not fit a 2-byte length`)
  }
  const w = new Writer(CONNECTION_FRAME_HEADER_BYTES + body.length)
  w.uint16(body.length).raw(body)
  return w.finish()
}

/** Reads the body length from the first two bytes of a frame (for stream readers). */
export function connectionFrameBodyLength (header: Uint8Array): number {
  if (header.length < CONNECTION_FRAME_HEADER_BYTES) {
    throw new DecodeError('connection_message.length', 0, `needs ${CONNECTION_FRAME_HEADER_BYTES} bytes, got ${header.length}`)
  }
  return (header[0] << 8) | header[1]
}

/** Decodes a body that must be consumed exactly (Octez rejects extra bytes). */
export function decodeConnectionMessage (body: Uint8Array): ConnectionMessage {
  return decodeExact(connectionMessageCodec, body)
}

/**
 * Decodes a whole frame: the length prefix must announce exactly the bytes that follow, and the
 * body must decode exactly. Offsets in errors are relative to the frame.
 */
export function decodeConnectionFrame (frame: Uint8Array): ConnectionMessage {
  const length = connectionFrameBodyLength(frame)
  const actual = frame.length - CONNECTION_FRAME_HEADER_BYTES
  if (length !== actual) {
    throw new DecodeError('connection_message.length', 0, `announces ${length} byte(s) but ${actual} follow`)
  }
  const r = new Reader(frame, CONNECTION_FRAME_HEADER_BYTES)
  const message = connectionMessageCodec.decode(r)
  r.expectEnd('connection_message')
  return message
}

/** The frame (2-byte length ‖ body) as a codec, for tools that handle whole frames. */
export const connectionFrameCodec: Codec<ConnectionMessage> = {
  name: 'connection_message.frame',
  maxSize: CONNECTION_FRAME_HEADER_BYTES + CONNECTION_MESSAGE_MAX_BYTES,
  encode (w: Writer, m: ConnectionMessage): void {
    w.raw(encodeConnectionFrame(m))
  },
  decode (r: Reader): ConnectionMessage {
    const n = r.uint16('connection_message.length')
    const sub = r.take(n, 'connection_message')
    const m = connectionMessageCodec.decode(sub)
    sub.expectEnd('connection_message')
    return m
  }
}
