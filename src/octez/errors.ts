import { HandshakeError } from '../handshake/errors.ts'
import type { Misbehaviour } from '../misbehaviour/index.ts'

/**
 * What a misbehaving peer did on the Octez wire, named as the node's peer policy names it
 * (`src/misbehaviour/index.ts`), so the node can report the peer without looking at error classes:
 * - `malformed-message`: bytes that do not decode as a P2P message. Octez greylists for it
 *   (`src/lib_p2p/p2p_conn.ml`: a `Decoding_error` from the socket calls the greylister).
 * - `invalid-message`: a chunk that breaks the chunk layer (shorter than its tag, or sealed under
 *   another key or nonce). Octez only closes the connection (`p2p_conn.ml` treats these as
 *   unexpected errors), so this kind costs score but does not greylist on its own.
 */
export type OctezMisbehaviour = Extract<Misbehaviour, 'malformed-message' | 'invalid-message'>

/** Why an authenticated Octez-wire connection ended in error. */
export abstract class OctezWireError extends Error {
  /** The peer's fault, or undefined when nobody is to blame (the peer left, we closed). */
  abstract readonly misbehaviour: OctezMisbehaviour | undefined
}

/**
 * A chunk whose 2-byte length is below the 16-byte authentication tag (Octez
 * `Invalid_incoming_ciphertext_size`).
 */
export class ShortChunkError extends OctezWireError {
  override readonly name = 'ShortChunkError'
  readonly misbehaviour = 'invalid-message'
  readonly length: number
  constructor (length: number) {
    super(`a chunk announces ${length} byte(s), less than its 16-byte tag`)
    this.length = length
  }
}

/** A chunk whose Poly1305 tag does not verify under the connection's key and nonce (Octez `Decipher_error`). */
export class ChunkDecipherError extends OctezWireError {
  override readonly name = 'ChunkDecipherError'
  readonly misbehaviour = 'invalid-message'
  /** 0-based index of the chunk among those received after the Ack. */
  readonly chunkIndex: number
  constructor (chunkIndex: number) {
    super(`cannot decipher chunk #${chunkIndex} after the handshake: forged, corrupted or sealed with another key or nonce`)
    this.chunkIndex = chunkIndex
  }
}

/**
 * Plaintext that does not decode as a P2P envelope: a length outside [2, 100 MiB - 4], an unknown
 * tag, a payload that breaks its encoding (Octez `Decoding_error`; the peer is greylisted).
 */
export class MalformedMessageError extends OctezWireError {
  override readonly name = 'MalformedMessageError'
  readonly misbehaviour = 'malformed-message'
  constructor (detail: string, options?: ErrorOptions) {
    super(`malformed P2P message: ${detail}`, options)
  }
}

/** The connection is closed: by the peer, by a socket error, or by us (Octez `Connection_closed`). */
export class OctezConnectionClosedError extends OctezWireError {
  override readonly name = 'OctezConnectionClosedError'
  readonly misbehaviour = undefined
}

/**
 * During the handshake, a chunk shorter than its tag. Octez's `raw_authenticate` does not greylist
 * for `Invalid_incoming_ciphertext_size` (it is not in its list), so neither does tzp2p here.
 */
export class HandshakeShortChunkError extends HandshakeError {
  override readonly name = 'HandshakeShortChunkError'
  readonly misbehaviour = undefined
  constructor (what: string, length: number) {
    super(`malformed handshake: ${what} announces ${length} byte(s), less than its 16-byte tag`)
  }
}

/** The TCP connection to the point could not be opened (Octez `Connection_failed`). */
export class OctezConnectError extends Error {
  override readonly name = 'OctezConnectError'
  constructor (host: string, port: number, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super(`cannot open a TCP connection to ${host}:${port}${cause}`, options)
  }
}
