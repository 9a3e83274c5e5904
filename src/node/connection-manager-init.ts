import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { AuthenticatedPeer, AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import type { BanRecord } from '../peers/bans.ts'
import type { PointSource } from '../peers/exchange/discovery.ts'
import type { PeerExchangeService } from '../peers/exchange/index.ts'
import type { GreylistEntry, GreylistOptions } from '../peers/greylist.ts'
import type { P2pLimits, ReconnectionConfig } from '../peers/limits.ts'
import type { MaintenanceReport } from '../peers/maintenance.ts'
import type { PeerScoresOptions } from '../peers/score.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import type { PointAddress } from '../net/point.ts'

// The connection manager's side of its contract with the node, apart from the manager itself so
// createNode, the package entry and the manager's parts can name it without the class: what the
// node gives it (options, then the libp2p parts it drives) and the events it announces.

export type { PointSource }

export interface PointDiscovered {
  key: string
  source: PointSource
  trusted: boolean
}

/** The events the connection manager adds to the node's (`node.events.on('peer:greylisted', …)`). */
export interface ConnectionManagerEvents {
  'peer:greylisted': [GreylistEntry]
  'peer:banned': [BanRecord]
  'peer:unbanned': [{ kind: BanRecord['kind'], key: string }]
  'point:discovered': [PointDiscovered]
  'maintenance:run': [MaintenanceReport]
}

export interface ConnectionManagerInit {
  limits: P2pLimits
  reconnection: ReconnectionConfig
  /** `--peer` and bootstrap peers: trusted, always allowed, redialled, never pruned. */
  trustedPoints: readonly PointAddress[]
  /** DNS bootstrap names `host[:port][#peer_id]`. */
  bootstrapDns?: readonly string[]
  /** DNS servers for bootstrap names (`ip[:port]`); the system's when empty. */
  dnsServers?: readonly string[]
  /** Re-resolution period of bootstrap names; null: only when out of candidates. Default 10 min. */
  dnsRefreshIntervalMs?: number | null
  privateMode: boolean
  disablePeerDiscovery: boolean
  greylist?: GreylistOptions
  scores?: PeerScoresOptions
  /** The node's peer policy: the pinned-point check and the peer exchange report faults there. */
  report: ReportPeer
  /** How often points and scores are written to the store (default 30 s). */
  persistIntervalMs?: number
  metricsRegistry: Registry
  logger: Logger
  emit: <K extends keyof ConnectionManagerEvents>(name: K, ...args: ConnectionManagerEvents[K]) => void
}

/** The parts of the node the manager drives, given once libp2p exists. */
export interface ManagedNode {
  peers: AuthenticatedPeers
  exchange: PeerExchangeService
  connections: () => Connection[]
  dial: (address: Multiaddr, options: { signal: AbortSignal }) => Promise<AuthenticatedPeer>
  listenAddresses: () => Multiaddr[]
}
