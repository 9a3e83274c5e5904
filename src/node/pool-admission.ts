import type { PeerId } from '@libp2p/interface'
import type { AdmissionHooks } from '../handshake/admission.ts'
import type { ConnectionTable } from '../peers/connection-table.ts'
import type { MaintenanceBounds } from '../peers/limits.ts'
import type { Maintenance } from '../peers/maintenance.ts'
import type { PointInfo } from '../peers/point-book.ts'
import type { PeerTrust } from '../peers/trust.ts'
import { ipOfMultiaddr, tcpPortOfMultiaddr } from '../net/multiaddr.ts'

export interface PoolAdmissionInit {
  trust: PeerTrust
  tracked: ConnectionTable
  maintenance: Maintenance
  bounds: MaintenanceBounds
  /** The most inbound connections (`inboundConnectionCap`). */
  inboundCap: number
  privateMode: boolean
  /** Reports the peer found at a pinned point that is not the pinned one. */
  identityMismatch: (point: PointInfo, found: string, libp2pPeerId: PeerId, ip: string | undefined) => void
}

/**
 * What the connection pool asks of the handshake before it answers Ack (Octez `raw_authenticate`,
 * `src/lib_p2p/p2p_connect_handler.ml`): the peer pinned for a dialled point, private mode, the
 * inbound share and maintenance's upper threshold. Separate from the connection manager because it
 * is a pure decision over the manager's state, taken by the handshake, not by the manager.
 */
export function poolAdmissionHooks (init: PoolAdmissionInit): AdmissionHooks {
  const { trust, tracked, maintenance, bounds } = init
  return {
    refuse: (tezosPeerId, connection) => {
      if (connection.direction !== 'outbound') return false
      const ip = ipOfMultiaddr(connection.remoteAddr)
      const port = tcpPortOfMultiaddr(connection.remoteAddr)
      const point = ip === undefined || port === undefined ? undefined : trust.pointAt(ip, port)
      if (point?.expectedPeerId === undefined || point.expectedPeerId === tezosPeerId) return false
      init.identityMismatch(point, tezosPeerId, connection.remotePeer, point.address.host)
      return true
    },
    admit: (remote, connection, pending) => {
      const trusted = trust.isTrustedRemote(remote.tezosPeerId, remote.advertisedPort, connection)
      if (init.privateMode && connection.direction === 'inbound' && !trusted) return 'No_motive'
      if (trusted) return undefined
      // Handshakes already admitted count: a burst of peers dialling at once must not all get in.
      const active = tracked.size + pending.inbound + pending.outbound
      if (maintenance.enabled && active >= bounds.maxThreshold) return 'Too_many_connections'
      if (connection.direction === 'inbound' && tracked.directionCounts().inbound + pending.inbound >= init.inboundCap) return 'Too_many_connections'
      return undefined
    }
  }
}
