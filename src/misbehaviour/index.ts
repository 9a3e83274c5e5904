import type { PeerId } from '@libp2p/interface'

/**
 * What a peer can do wrong, and how a thrown error says which. Every error that is a peer's fault
 * carries its kind in a `misbehaviour` property, from `DecodeError` up to the chain's invalid-block
 * errors; `misbehaviourOf` reads it, and `PeerPolicy` (`src/peers/policy.ts`) decides what each
 * kind costs. This module sits above every layer (it imports nothing of the project), so the
 * errors of each layer, and both wires, can name their kind without depending on the peer layer.
 */
export const MISBEHAVIOURS = [
  /** A message that does not decode, or is larger than its protocol allows (Octez greylists at once). */
  'malformed-message',
  /** An invalid block, operation, locator or answer, or a head naming a known-invalid block (Octez "kickban"). */
  'invalid-data',
  /** A well-formed message that breaks the protocol: an unexpected message kind, too many requests on a stream. */
  'invalid-message',
  /** An answer to something never asked, or asked once and answered twice. */
  'unrequested-data',
  /** An answer that carries nothing of what was asked (another chain's branch, head or checkpoint). */
  'useless-answer',
  /** Requests that keep coming while the protocol's throttle refuses them. */
  'flooding',
  /** A handshake whose proof of work misses our difficulty (Octez `Not_enough_proof_of_work`). */
  'insufficient-pow',
  /** A handshake chunk that does not decipher: forged, corrupted or relayed (Octez `Decipher_error`). */
  'undecipherable',
  /** A peer other than the one pinned for the point answered at its address (Octez `Identity_check_failure`). */
  'identity-mismatch'
] as const

export type Misbehaviour = typeof MISBEHAVIOURS[number]

const KINDS: ReadonlySet<string> = new Set(MISBEHAVIOURS)

export function isMisbehaviour (value: unknown): value is Misbehaviour {
  return typeof value === 'string' && KINDS.has(value)
}

/** An error that is a peer's fault, and which kind of fault. */
export interface PeerFault extends Error {
  readonly misbehaviour: Misbehaviour
}

/**
 * The kind of misbehaviour a thrown value is, or undefined when it is nobody's fault (a closed
 * stream, a timeout, our own bug). The one place that classifies errors: by the property each
 * error class carries, never by its name.
 */
export function misbehaviourOf (error: unknown): Misbehaviour | undefined {
  if (typeof error !== 'object' || error === null || !('misbehaviour' in error)) return undefined
  const kind = error.misbehaviour
  return isMisbehaviour(kind) ? kind : undefined
}

/**
 * A peer as the policy knows it, whatever its wire: its Tezos peer id (absent only before a
 * handshake proved it), the libp2p PeerId on the libp2p wire, and its remote IP when known.
 */
export interface PeerRef {
  tezosPeerId?: string
  libp2pPeerId?: PeerId
  ip?: string
}

/** What reporting a misbehaviour did to the peer. */
export interface ReportOutcome {
  misbehaviour: Misbehaviour
  /** The peer's score after the report; undefined when it has no Tezos peer id to score. */
  score?: number
  /** Its connections are being closed. */
  disconnected: boolean
  /** Its IP and/or ids were greylisted. */
  greylisted: boolean
  /** A trusted peer: scored and logged, never disconnected or greylisted (the operator's to ban). */
  trusted: boolean
}

/** The one way to cost a peer anything (`PeerPolicy.report`), as the layers below the node see it. */
export type ReportPeer = (peer: PeerRef, misbehaviour: Misbehaviour, detail: string) => ReportOutcome
