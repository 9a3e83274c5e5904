import type { Misbehaviour } from '../misbehaviour/index.ts'
import type { NackMotive } from '../wire/ack.ts'
import { nackMotiveName } from '../wire/ack.ts'

/**
 * Why a handshake failed. `misbehaviour` is the peer's fault, reported to the peer policy (which
 * greylists the remote IP and peer ids for each of these), exactly where Octez's `raw_authenticate`
 * (`src/lib_p2p/p2p_connect_handler.ml`) greylists: a peer that cannot do the work, cannot encrypt to us or
 * sends malformed bytes is punished; a slow peer, a closed socket or a version mismatch is not
 * (`misbehaviour` undefined).
 */
export abstract class HandshakeError extends Error {
  abstract readonly misbehaviour: Misbehaviour | undefined
}

/** The remote's stamp does not meet our expected difficulty (Octez `Not_enough_proof_of_work`). */
export class NotEnoughProofOfWorkError extends HandshakeError {
  override readonly name = 'NotEnoughProofOfWorkError'
  readonly misbehaviour = 'insufficient-pow'
  readonly tezosPeerId: string
  constructor (tezosPeerId: string, expected: number) {
    super(`peer ${tezosPeerId} does not meet the expected proof-of-work difficulty ${expected}`)
    this.tezosPeerId = tezosPeerId
  }
}

/**
 * A frame or chunk that breaks the layout: a length out of bounds, a body that does not decode, a
 * chunk shorter than its tag, a Nack with more than 100 points (Octez `Decoding_error`,
 * `Invalid_message_size`, `Invalid_incoming_ciphertext_size`, `Unexpected_size_of_encoded_value`).
 */
export class MalformedHandshakeError extends HandshakeError {
  override readonly name = 'MalformedHandshakeError'
  readonly misbehaviour = 'malformed-message'
  constructor (what: string, options?: ErrorOptions) {
    super(`malformed handshake: ${what}`, options)
  }
}

/** A chunk whose Poly1305 tag does not verify (Octez `Decipher_error`). */
export class HandshakeDecipherError extends HandshakeError {
  override readonly name = 'HandshakeDecipherError'
  readonly misbehaviour = 'undecipherable'
  constructor (chunk: string, options?: ErrorOptions) {
    super(`cannot decipher ${chunk}: wrong key or nonce (forged, corrupted or relayed)`, options)
  }
}

/** `authentication-timeout` elapsed before Ack both ways (Octez `Canceled`; never greylists). */
export class HandshakeTimeoutError extends HandshakeError {
  override readonly name = 'HandshakeTimeoutError'
  readonly misbehaviour = undefined
  constructor (timeoutMs: number) {
    super(`connection not authenticated within ${timeoutMs} ms`)
  }
}

/** The peer closed the stream or connection mid-handshake (Octez `Connection_closed`). */
export class HandshakeClosedError extends HandshakeError {
  override readonly name = 'HandshakeClosedError'
  readonly misbehaviour = undefined
  constructor (detail: string, options?: ErrorOptions) {
    super(`connection closed during the handshake: ${detail}`, options)
  }
}

/** The remote answered chunk #1 with a Nack (Octez `Rejected_by_nack`). */
export class RejectedByPeerError extends HandshakeError {
  override readonly name = 'RejectedByPeerError'
  readonly misbehaviour = undefined
  readonly motive: NackMotive
  /** Points the remote suggested instead (at most 100, else the Nack would not have decoded). */
  readonly points: string[]
  constructor (motive: NackMotive, points: string[]) {
    super(`rejected by the remote peer: ${nackMotiveName(motive)}`)
    this.motive = motive
    this.points = points
  }
}

/** We answered chunk #1 with a Nack. */
export class PeerRejectedError extends HandshakeError {
  override readonly name = 'PeerRejectedError'
  readonly misbehaviour = undefined
  readonly motive: NackMotive
  constructor (motive: NackMotive) {
    super(`rejected the remote peer: ${nackMotiveName(motive)}`)
    this.motive = motive
  }
}

/** The remote peer id is banned or greylisted: the connection is closed without a Nack. */
export class PeerRefusedError extends HandshakeError {
  override readonly name = 'PeerRefusedError'
  readonly misbehaviour = undefined
  constructor (tezosPeerId: string) {
    super(`peer ${tezosPeerId} is banned or greylisted`)
  }
}

/** The remote has our own Tezos identity (Octez `Myself`): the address is one of ours. */
export class SelfConnectionError extends HandshakeError {
  override readonly name = 'SelfConnectionError'
  readonly misbehaviour = undefined
  constructor (address: string) {
    super(`connected to ourselves at ${address}`)
  }
}

/** The peer broke tzp2p's stream rules (a second handshake stream, a handshake from the wrong side). */
export class HandshakeProtocolError extends HandshakeError {
  override readonly name = 'HandshakeProtocolError'
  readonly misbehaviour = undefined
}
