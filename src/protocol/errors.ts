/**
 * Typed verdicts of a protocol. A block or an operation is refused with a stable `code` (what a
 * test, a log line or a peer score can switch on) and a human message.
 */

/** Why an operation is refused (mempool admission, or inside a block). */
export type InvalidOperationCode =
  | 'malformed' // the bytes do not decode as an operation of this protocol
  | 'bad_signature'
  | 'bad_public_key' // the public key does not hash to the claimed source
  | 'unknown_account'
  | 'counter_in_the_past' // counter ≤ the account's current counter (already used)
  | 'counter_in_the_future' // counter > current + 1 (an earlier one is missing)
  | 'balance_too_low' // amount + fee exceed the balance (overspend)
  | 'invalid_amount'
  | 'wrong_validation_pass' // in a block, the operation sits in another pass than its own
  // Demo v3 (src/protocol/demo-v3): consensus, anonymous and manager operations.
  | 'unrevealed_key' // a manager operation before the source revealed its public key
  | 'already_revealed'
  | 'not_a_delegate' // delegation to, or endorsement by, an account that is not a registered delegate
  | 'delegate_unchangeable' // a registered delegate cannot delegate elsewhere
  | 'unknown_contract' // a transaction to a KT1 that was never originated
  | 'wrong_endorsement_level' // an endorsement of another level than the block it must endorse
  | 'wrong_endorsed_block' // an endorsement whose branch is not the block it endorses
  | 'wrong_slot' // the slot is not the signer's first endorsement slot at that level
  | 'duplicate_endorsement'
  | 'not_equivocation' // evidence that does not prove two different signed blocks or endorsements
  | 'evidence_too_old' // evidence about a level outside the window of preserved cycles
  | 'already_denounced'
  | 'invalid_activation' // no blinded commitment for this key hash and secret
  | 'unexpected_nonce' // a seed nonce revelation for a level without an open commitment
  | 'bad_nonce' // the revealed nonce does not hash to the commitment
  | 'refused' // generic refusal by a protocol

export class InvalidOperationError extends Error {
  override readonly name = 'InvalidOperationError'
  readonly code: InvalidOperationCode

  constructor (code: InvalidOperationCode, message: string) {
    super(`${code}: ${message}`)
    this.code = code
  }
}

/** Why a block is refused. */
export type InvalidBlockCode =
  | 'malformed_protocol_data'
  | 'bad_level'
  | 'bad_proto_level'
  | 'bad_validation_passes'
  | 'bad_fitness'
  | 'non_increasing_timestamp'
  | 'bad_baker' // the block is not signed by the configured baker key
  | 'bad_block_signature'
  | 'bad_context' // the header's context does not commit to the state the block produces
  | 'timestamp_too_early' // demo v3: before the block's priority may be baked (Emmy*'s minimal delay)
  | 'bad_priority' // demo v3: the priority is beyond the protocol's bound
  | 'bad_nonce_commitment' // demo v3: a seed nonce hash missing where expected, or present where not
  | 'invalid_operation' // see `operation`
  | 'operation_branch_not_live' // an operation's branch is unknown or too old
  | 'invalid_predecessor' // the predecessor is itself known invalid
  | 'refused'

/** Where in the block the offending operation sits, and why it is refused. */
export interface OperationFault {
  pass: number
  index: number
  error: InvalidOperationError
}

export class InvalidBlockError extends Error {
  override readonly name = 'InvalidBlockError'
  readonly code: InvalidBlockCode
  readonly operation?: OperationFault
  /** The block found invalid (set by the chain, which knows the hash). */
  block?: { hash: string, level: number }
  /**
   * The block passed the protocol's `validateBlock` and failed only when applied (Octez's
   * `Inapplicable_after_validation`): it may have been advertised in good faith (gossip.md §9).
   */
  afterValidation?: true

  /**
   * Octez "kickban": the peer that sent an invalid block is greylisted; not for a block that
   * failed after validation (`src/lib_shell/peer_validator.ml` does not kickban for it).
   */
  get misbehaviour (): 'invalid-data' | undefined {
    return this.afterValidation === true ? undefined : 'invalid-data'
  }

  constructor (code: InvalidBlockCode, message: string, operation?: OperationFault) {
    super(`${code}: ${message}`)
    this.code = code
    if (operation !== undefined) this.operation = operation
  }

  static ofOperation (fault: OperationFault): InvalidBlockError {
    return new InvalidBlockError('invalid_operation',
      `operation ${fault.index} of validation pass ${fault.pass} is invalid (${fault.error.message})`, fault)
  }
}

/** The outcome of a cheap check: valid, or the typed reason it is not. */
export type Verdict<E extends Error> = { ok: true } | { ok: false, error: E }

export const VALID: { ok: true } = { ok: true }

export function invalid<E extends Error> (error: E): { ok: false, error: E } {
  return { ok: false, error }
}
