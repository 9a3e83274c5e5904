import type { AdmissionPolicy } from '../handshake/authenticate.ts'
import { SUPPORTED_DISTRIBUTED_DB_VERSIONS, SUPPORTED_P2P_VERSIONS } from '../handshake/versions.ts'
import type { Identity } from '../identity/identity.ts'
import { makePowTarget } from '../identity/pow.ts'
import type { ConnectionMetadata } from '../wire/metadata.ts'
import { chunkPlaintextSize } from './chunks.ts'
import { DEFAULT_MESSAGE_QUEUE_BYTES, type OctezConnectionLimits } from './connection.ts'
import type { OctezDecide, OctezDecision, OctezLocalParty, OctezRemote } from './handshake.ts'

/** Octez's `authentication_timeout` (`src/lib_p2p_services/p2p_limits.ml`): an incoming connection's handshake. */
export const DEFAULT_AUTHENTICATION_TIMEOUT_MS = 5000
/** Octez's `connection_timeout`: an outgoing connection, TCP connect and handshake together. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000

/** What both ends of the Octez wire are configured with. */
export interface OctezWireOptions {
  identity: Identity
  chainName: string
  /** Proof-of-work difficulty demanded from every remote. */
  expectedPow: number
  /** Supported versions; the greatest is announced. Default: distributed_db 0–2, p2p 0–1, as Octez. */
  distributedDbVersions?: readonly number[]
  p2pVersions?: readonly number[]
  /** Sent as our metadata chunk. Default: mempool enabled, not private. */
  metadata?: ConnectionMetadata
  /** Listening port announced in the connection message; 0 (default) = none. */
  advertisedPort?: number
  /** The connect decision; default: accept every peer that shares a version (see `decideWithPolicy`). */
  decide?: OctezDecide
  /** Octez `incoming_message_queue_size` / `outgoing_message_queue_size`, in bytes (8 MiB each). */
  incomingQueueBytes?: number
  outgoingQueueBytes?: number
  /** Octez `binary_chunks_size`, in bytes, header and tag included: 19 to 65535 (default). */
  binaryChunksSize?: number
  /** Fixed connection-message nonce: only for replaying a captured session. */
  messageNonce?: Uint8Array
}

export function localPartyOf (options: OctezWireOptions): OctezLocalParty {
  return {
    identity: options.identity,
    powTarget: makePowTarget(options.expectedPow),
    expectedPow: options.expectedPow,
    versions: {
      chainName: options.chainName,
      distributedDbVersions: options.distributedDbVersions ?? SUPPORTED_DISTRIBUTED_DB_VERSIONS,
      p2pVersions: options.p2pVersions ?? SUPPORTED_P2P_VERSIONS
    },
    metadata: options.metadata ?? { disableMempool: false, privateNode: false },
    advertisedPort: options.advertisedPort ?? 0,
    messageNonce: options.messageNonce
  }
}

function positiveInteger (what: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive integer, got ${String(value)}`)
  return v
}

export function limitsOf (options: OctezWireOptions): OctezConnectionLimits {
  return {
    incomingQueueBytes: positiveInteger('incomingQueueBytes', options.incomingQueueBytes, DEFAULT_MESSAGE_QUEUE_BYTES),
    outgoingQueueBytes: positiveInteger('outgoingQueueBytes', options.outgoingQueueBytes, DEFAULT_MESSAGE_QUEUE_BYTES),
    chunkPlaintextBytes: chunkPlaintextSize(options.binaryChunksSize)
  }
}

export function positiveOption (what: string, value: number | undefined, fallback: number): number {
  return positiveInteger(what, value, fallback)
}

/** Accepts every remote that shares a version with us; otherwise Nacks with the selection's motive. */
export const acceptCompatible: OctezDecide = (remote: OctezRemote): OctezDecision =>
  remote.versionSelection.ok ? { accept: true } : { nack: remote.versionSelection.motive }

/**
 * The libp2p handshake's admission policy (`AdmissionPolicy`, as `ConnectionAdmission.policyFor`
 * builds it) as an Octez-wire decision, in Octez's order (`P2p_connect_handler.raw_authenticate`):
 * a banned peer is closed without a Nack; then version selection (Unknown_chain_name,
 * Deprecated_*_version); then capacity and duplicates (`admit`, which may hold a slot). Nacks carry
 * the policy's known points.
 */
export function decideWithPolicy (policy: AdmissionPolicy): OctezDecide {
  return (remote: OctezRemote): OctezDecision => {
    if (policy.isRefused(remote.tezosPeerId)) return { refuse: true }
    if (!remote.versionSelection.ok) return { nack: remote.versionSelection.motive, points: policy.knownPoints() }
    const motive = policy.admit(remote)
    if (motive !== undefined) return { nack: motive, points: policy.knownPoints() }
    return { accept: true }
  }
}
