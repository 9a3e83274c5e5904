import type { AuthenticatedPeer } from '../handshake/authenticated-peers.ts'
import type { BanRecord } from '../peers/bans.ts'
import type { GreylistEntry } from '../peers/greylist.ts'
import { lastMiss, lastSeen, type PeerAt, type PointInfo } from '../peers/point-info.ts'
import { isIpPoint, toOctezPointString } from '../net/point.ts'
import type { OctezPeer } from '../node/octez-peer.ts'
import type { OctezPointInfo } from '../node/octez-points.ts'

/**
 * The JSON shapes of the `/network/*` RPCs. Octez's names and layout are kept where tzp2p has the
 * same fact (`id_point`, `announced_version`, `conn_metadata`, timestamps in RFC 3339); facts
 * only tzp2p has (the libp2p PeerId, the direction, the ping latency) are extra fields.
 */

/** RFC 3339 in UTC, as Octez prints timestamps. */
export function rfc3339 (ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export interface IdPointJson {
  addr: string
  port?: number
}

/** Octez `id_point`: the peer's address and the port it says it listens on (none when 0). */
export function idPointOf (peer: AuthenticatedPeer): IdPointJson {
  const addr = peer.remoteIp ?? peer.remoteAddress.toString()
  return peer.advertisedPort > 0 ? { addr, port: peer.advertisedPort } : { addr }
}

function remoteSocketPort (peer: AuthenticatedPeer): number | undefined {
  const tcp = peer.remoteAddress.getComponents().find(c => c.name === 'tcp')
  return tcp?.value === undefined ? undefined : Number(tcp.value)
}

export interface ConnectionJson {
  /** The wire the peer is on: `libp2p`, or `octez` (Octez's raw TCP). */
  wire: 'libp2p' | 'octez'
  incoming: boolean
  peer_id: string
  id_point: IdPointJson
  remote_socket_port?: number
  announced_version: { chain_name: string, distributed_db_version: number, p2p_version: number }
  private: boolean
  local_metadata: { disable_mempool: boolean, private_node: boolean }
  remote_metadata: { disable_mempool: boolean, private_node: boolean }
  /** libp2p wire only. */
  libp2p_peer_id?: string
  remote_multiaddr?: string
  established_at?: string
}

/** Octez `connection_info` of one authenticated connection. */
export function connectionJson (peer: AuthenticatedPeer, local: { disableMempool: boolean, privateNode: boolean }): ConnectionJson {
  const port = remoteSocketPort(peer)
  return {
    wire: 'libp2p',
    incoming: peer.direction === 'inbound',
    peer_id: peer.tezosPeerId,
    id_point: idPointOf(peer),
    ...(port !== undefined ? { remote_socket_port: port } : {}),
    announced_version: {
      chain_name: peer.version.chainName,
      distributed_db_version: peer.version.distributedDbVersion,
      p2p_version: peer.version.p2pVersion
    },
    private: peer.metadata.privateNode,
    local_metadata: { disable_mempool: local.disableMempool, private_node: local.privateNode },
    remote_metadata: { disable_mempool: peer.metadata.disableMempool, private_node: peer.metadata.privateNode },
    libp2p_peer_id: peer.libp2pPeerId.toString(),
    remote_multiaddr: peer.remoteAddress.toString(),
    established_at: rfc3339(peer.authenticatedAt)
  }
}

export interface PeerInfoJson {
  /** The wire the peer is on: `libp2p`, or `octez` (Octez's raw TCP). */
  wire: 'libp2p' | 'octez'
  score: number
  trusted: boolean
  conn_metadata: { disable_mempool: boolean, private_node: boolean }
  state: 'running'
  reachable_at?: IdPointJson
  last_established_connection?: [IdPointJson, string]
  last_seen?: [IdPointJson, string]
  /** libp2p wire only. */
  libp2p_peer_id?: string
  direction: 'inbound' | 'outbound'
  /** Round trip of the last libp2p ping, ms; null before the first one. */
  latency_ms: number | null
  announced_version: ConnectionJson['announced_version']
}

export interface PeerFacts {
  score: number
  trusted: boolean
  latencyMs: number | null
}

/** Octez `peer_info` of a connected peer (tzp2p lists the peers it is connected to). */
export function peerInfoJson (peer: AuthenticatedPeer, facts: PeerFacts): PeerInfoJson {
  const point = idPointOf(peer)
  const at = rfc3339(peer.authenticatedAt)
  return {
    wire: 'libp2p',
    score: facts.score,
    trusted: facts.trusted,
    conn_metadata: { disable_mempool: peer.metadata.disableMempool, private_node: peer.metadata.privateNode },
    state: 'running',
    ...(point.port !== undefined ? { reachable_at: point } : {}),
    last_established_connection: [point, at],
    last_seen: [point, at],
    libp2p_peer_id: peer.libp2pPeerId.toString(),
    direction: peer.direction,
    latency_ms: facts.latencyMs,
    announced_version: {
      chain_name: peer.version.chainName,
      distributed_db_version: peer.version.distributedDbVersion,
      p2p_version: peer.version.p2pVersion
    }
  }
}

export interface GreylistEntryJson {
  reason: string
  since: string
  until: string
}

export interface GreylistJson {
  ips: Array<{ addr: string } & GreylistEntryJson>
  peers: Array<{ peer_id: string } & GreylistEntryJson>
}

export function greylistJson (entries: readonly GreylistEntry[]): GreylistJson {
  const out: GreylistJson = { ips: [], peers: [] }
  for (const e of entries) {
    const times = { reason: e.reason, since: rfc3339(e.since), until: rfc3339(e.until) }
    if (e.kind === 'ip') out.ips.push({ addr: e.key, ...times })
    else out.peers.push({ peer_id: e.key, ...times })
  }
  return out
}

export interface BanJson {
  kind: 'ip' | 'peer'
  target: string
  since: string
  reason?: string
}

export function banJson (r: BanRecord): BanJson {
  return { kind: r.kind, target: r.key, since: rfc3339(r.since), ...(r.reason !== undefined ? { reason: r.reason } : {}) }
}

export interface PointInfoJson {
  /** The wire the point speaks: `libp2p` (multiaddrs and `--peer` points), or `octez`. */
  wire?: 'libp2p' | 'octez'
  trusted: boolean
  greylisted_until?: string
  state: { event_kind: PointInfo['state'], p2p_peer_id?: string }
  p2p_peer_id?: string
  expected_peer_id?: string
  libp2p_peer_id?: string
  last_failed_connection?: string
  last_rejected_connection?: [string, string]
  last_established_connection?: [string, string]
  last_disconnection?: [string, string]
  last_seen?: [string, string]
  last_miss?: string
  /** No dial to the point before this time (reconnection back-off). */
  reconnection_delay_end?: string
}

/** Octez's point text (`1.2.3.4:9732`, `[::1]:9732`), or the name's `host:port` for DNS points. */
export function pointText (p: PointInfo): string {
  const a = p.address
  return isIpPoint(a) ? toOctezPointString(a) : `${a.host}:${a.port}`
}

const peerAt = (x: PeerAt): [string, string] => [x.peerId, rfc3339(x.at)]

/** Octez `point_info`. */
export function pointInfoJson (p: PointInfo, greylistedUntil?: number): PointInfoJson {
  const seen = lastSeen(p)
  const seenBy = [p.lastRejectedConnection, p.lastEstablishedConnection, p.lastDisconnection].find(x => x?.at === seen)
  const miss = lastMiss(p)
  const peer = p.currentPeerId
  return {
    wire: 'libp2p',
    trusted: p.trusted,
    ...(greylistedUntil !== undefined ? { greylisted_until: rfc3339(greylistedUntil) } : {}),
    state: { event_kind: p.state, ...(peer !== undefined ? { p2p_peer_id: peer } : {}) },
    ...(peer !== undefined ? { p2p_peer_id: peer } : {}),
    ...(p.expectedPeerId !== undefined ? { expected_peer_id: p.expectedPeerId } : {}),
    ...(p.libp2pPeerId !== undefined ? { libp2p_peer_id: p.libp2pPeerId } : {}),
    ...(p.lastFailedConnection !== undefined ? { last_failed_connection: rfc3339(p.lastFailedConnection) } : {}),
    ...(p.lastRejectedConnection !== undefined ? { last_rejected_connection: peerAt(p.lastRejectedConnection) } : {}),
    ...(p.lastEstablishedConnection !== undefined ? { last_established_connection: peerAt(p.lastEstablishedConnection) } : {}),
    ...(p.lastDisconnection !== undefined ? { last_disconnection: peerAt(p.lastDisconnection) } : {}),
    ...(seenBy !== undefined ? { last_seen: peerAt(seenBy) } : {}),
    ...(miss !== undefined ? { last_miss: rfc3339(miss) } : {}),
    ...(p.reconnection !== undefined ? { reconnection_delay_end: rfc3339(p.reconnection.endTime) } : {})
  }
}

/** Octez `id_point` of an Octez-wire peer: its address and the port it listens on, when known. */
function octezIdPoint (peer: OctezPeer): IdPointJson {
  const port = peer.listeningPort
  return port === undefined ? { addr: peer.remoteIp } : { addr: peer.remoteIp, port }
}

function announcedVersion (peer: OctezPeer): ConnectionJson['announced_version'] {
  return { chain_name: peer.version.chainName, distributed_db_version: peer.version.distributedDbVersion, p2p_version: peer.version.p2pVersion }
}

/** Octez `connection_info` of a connection on Octez's wire. */
export function octezConnectionJson (peer: OctezPeer, local: { disableMempool: boolean, privateNode: boolean }): ConnectionJson {
  return {
    wire: 'octez',
    incoming: peer.incoming,
    peer_id: peer.tezosPeerId,
    id_point: octezIdPoint(peer),
    remote_socket_port: peer.connection.remotePort,
    announced_version: announcedVersion(peer),
    private: peer.metadata.privateNode,
    local_metadata: { disable_mempool: local.disableMempool, private_node: local.privateNode },
    remote_metadata: { disable_mempool: peer.metadata.disableMempool, private_node: peer.metadata.privateNode }
  }
}

/** Octez `peer_info` of a peer on Octez's wire (no ping there: no latency). */
export function octezPeerInfoJson (peer: OctezPeer, facts: Omit<PeerFacts, 'latencyMs'>): PeerInfoJson {
  const point = octezIdPoint(peer)
  return {
    wire: 'octez',
    score: facts.score,
    trusted: facts.trusted,
    conn_metadata: { disable_mempool: peer.metadata.disableMempool, private_node: peer.metadata.privateNode },
    state: 'running',
    ...(point.port !== undefined ? { reachable_at: point } : {}),
    direction: peer.incoming ? 'inbound' : 'outbound',
    latency_ms: null,
    announced_version: announcedVersion(peer)
  }
}

/** An Octez-wire point (`ip:port`), in the shape of Octez `point_info`. */
export function octezPointJson (p: OctezPointInfo): PointInfoJson & { wire: 'octez' } {
  return {
    wire: 'octez',
    trusted: p.trusted,
    state: { event_kind: p.state === 'connected' ? 'running' : 'disconnected', ...(p.state === 'connected' && p.peerId !== undefined ? { p2p_peer_id: p.peerId } : {}) },
    ...(p.state === 'connected' && p.peerId !== undefined ? { p2p_peer_id: p.peerId } : {}),
    ...(p.lastFailed !== undefined ? { last_failed_connection: rfc3339(p.lastFailed) } : {}),
    ...(p.lastSeen !== undefined && p.peerId !== undefined ? { last_seen: [p.peerId, rfc3339(p.lastSeen)] as [string, string] } : {})
  }
}
