/**
 * Typed failures of the binary codec. Every decoder in tzp2p throws only `DecodeError` on bad
 * input (never a RangeError, never a hang), so a caller can tell "the peer sent garbage" apart
 * from a bug in our own code with a single `instanceof`.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError'
  /** From a peer, bytes that do not decode are its fault (`src/misbehaviour/index.ts`; Octez greylists it). */
  readonly misbehaviour = 'malformed-message'
  /** What was being decoded when it failed, e.g. `connection_message.chain_name`. */
  readonly what: string
  /** Byte offset (from the start of the decoded buffer) where the failure was detected. */
  readonly offset: number
  /** What is wrong, without the place (`what` and `offset` give it). */
  readonly reason: string

  constructor (what: string, offset: number, reason: string) {
    super(`${what} at offset ${offset}: ${reason}`)
    this.what = what
    this.offset = offset
    this.reason = reason
  }
}

/** A value that cannot be encoded (out of range, too long for its bound). A bug on our side. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError'
  readonly what: string

  constructor (what: string, reason: string) {
    super(`${what}: ${reason}`)
    this.what = what
  }
}
