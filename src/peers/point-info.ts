import type { PointAddress } from '../net/point.ts'

/**
 * What is known of one point (Octez `P2p_point_state.Info`): its state, pins, connection history
 * and back-off, the times derived from that history, the order in which points are shared, and the
 * record that survives a restart. Apart from the point book, which holds the table and moves points
 * through the states, because the RPC and the peer store read points without the table.
 */

/** Octez's point states: no connection, our dial in progress, their handshake accepted, running. */
export type PointState = 'disconnected' | 'requested' | 'accepted' | 'running'

export interface PeerAt {
  peerId: string
  at: number
}

export interface ReconnectionInfo {
  /** Delay the next failure will impose. */
  delayMs: number
  /** No dial before this time (ms since the epoch). */
  endTime: number
}

export interface PointInfo {
  readonly key: string
  readonly address: PointAddress
  readonly state: PointState
  /** Trusted points (`--peer`, bootstrap, DNS) are always allowed and never pruned or GC'ed. */
  readonly trusted: boolean
  /** Octez `known_public`: set once a handshake told us the node is not private; only those are advertised. */
  readonly knownPublic: boolean
  /** Tezos peer id expected behind the point (`#id…`), checked after the handshake. */
  readonly expectedPeerId?: string
  /** libp2p PeerId pinned for the point (`/p2p/…`). */
  readonly libp2pPeerId?: string
  /** Tezos peer id of the current accepted/running connection. */
  readonly currentPeerId?: string
  readonly addedAt: number
  readonly lastFailedConnection?: number
  readonly lastRejectedConnection?: PeerAt
  readonly lastEstablishedConnection?: PeerAt
  readonly lastDisconnection?: PeerAt
  readonly reconnection?: ReconnectionInfo
}

/** A point as the book changes it. */
export type MutablePoint = { -readonly [K in keyof PointInfo]: PointInfo[K] }

/** What survives a restart: identity, pins and history; the state is always `disconnected` again. */
export interface PointRecord {
  key: string
  knownPublic: boolean
  expectedPeerId?: string
  libp2pPeerId?: string
  addedAt: number
  lastFailedConnection?: number
  lastRejectedConnection?: PeerAt
  lastEstablishedConnection?: PeerAt
  lastDisconnection?: PeerAt
  reconnection?: ReconnectionInfo
}

/** Octez `last_miss`: the latest of a failed dial, a rejected connection and a disconnection. */
export function lastMiss (p: PointInfo): number | undefined {
  const times = [p.lastFailedConnection, p.lastRejectedConnection?.at, p.lastDisconnection?.at].filter(t => t !== undefined)
  return times.length === 0 ? undefined : Math.max(...times)
}

/** Octez `last_seen`: the latest rejection, established connection or disconnection. */
export function lastSeen (p: PointInfo): number | undefined {
  const times = [p.lastRejectedConnection?.at, p.lastEstablishedConnection?.at, p.lastDisconnection?.at].filter(t => t !== undefined)
  return times.length === 0 ? undefined : Math.max(...times)
}

/** Octez `compare_known_point_info` (ascending = best first); ties are left to the prior shuffle. */
export function compareForSharing (a: PointInfo, b: PointInfo): number {
  const aConnected = a.state !== 'disconnected'
  const bConnected = b.state !== 'disconnected'
  if (aConnected !== bConnected) return aConnected ? -1 : 1
  // Connected: the longest-standing (oldest last seen) first. Disconnected: the most recently seen first.
  return aConnected ? compareSeen(lastSeen(a), lastSeen(b)) : compareSeen(lastSeen(b), lastSeen(a))
}

function compareSeen (a: number | undefined, b: number | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -1
  if (b === undefined) return 1
  return a - b
}

/** What of a point the peer store keeps (copied, so later changes to the point do not reach it). */
export function toPointRecord (p: PointInfo): PointRecord {
  const r: PointRecord = { key: p.key, knownPublic: p.knownPublic, addedAt: p.addedAt }
  if (p.expectedPeerId !== undefined) r.expectedPeerId = p.expectedPeerId
  if (p.libp2pPeerId !== undefined) r.libp2pPeerId = p.libp2pPeerId
  if (p.lastFailedConnection !== undefined) r.lastFailedConnection = p.lastFailedConnection
  if (p.lastRejectedConnection !== undefined) r.lastRejectedConnection = { ...p.lastRejectedConnection }
  if (p.lastEstablishedConnection !== undefined) r.lastEstablishedConnection = { ...p.lastEstablishedConnection }
  if (p.lastDisconnection !== undefined) r.lastDisconnection = { ...p.lastDisconnection }
  if (p.reconnection !== undefined) r.reconnection = { ...p.reconnection }
  return r
}
