import type { Connection, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { AuthenticatedPeer } from '../handshake/authenticated-peers.ts'
import { SelfConnectionError } from '../handshake/errors.ts'
import type { ConnectionTable } from '../peers/connection-table.ts'
import type { P2pLimits } from '../peers/limits.ts'
import type { PeerMetrics } from '../peers/metrics.ts'
import type { PointBook, PointInfo } from '../peers/point-book.ts'
import type { PeerTrust } from '../peers/trust.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import { pointToMultiaddr } from '../net/point.ts'
import type { ManagedNode } from './connection-manager-init.ts'

export interface PointDialerInit {
  pointBook: PointBook
  tracked: ConnectionTable
  trust: PeerTrust
  metrics: PeerMetrics
  limits: P2pLimits
  report: ReportPeer
  /** False before the manager starts and once it stops: no dial then. */
  started: () => boolean
  /** The libp2p side, once attached (throws before). */
  node: () => ManagedNode
  /** Open connections by id, whether attached or not (none before). */
  connections: () => Connection[]
  logger: Logger
}

/**
 * The connection manager's hands on libp2p connections: dialling a point for maintenance or a swap
 * (its state in the point book, its back-off, the peer pinned for it) and closing a connection.
 * Separate from the manager, which decides when to dial and whom to drop; this decides nothing.
 */
export class PointDialer {
  private readonly init: PointDialerInit

  constructor (init: PointDialerInit) {
    this.init = init
  }

  /**
   * Dials a point; true once authenticated. A failure lengthens the point's back-off; our own
   * address is remembered and never dialled again.
   */
  async connect (point: PointInfo, signal: AbortSignal): Promise<boolean> {
    const { pointBook, tracked, metrics, limits } = this.init
    const node = this.init.node()
    const key = point.key
    if (!this.init.started() || pointBook.get(key)?.state !== 'disconnected') return false
    pointBook.setRequested(key)
    let peer: AuthenticatedPeer
    try {
      const timeout = AbortSignal.timeout(limits.connectionTimeoutMs + limits.authenticationTimeoutMs)
      peer = await node.dial(pointToMultiaddr(point.address), { signal: AbortSignal.any([signal, timeout]) })
    } catch (err) {
      if (pointBook.get(key)?.state === 'requested') pointBook.setDisconnected(key)
      if (err instanceof SelfConnectionError) pointBook.markSelf(point.address)
      metrics.dials.inc({ result: 'failed' })
      this.init.logger.debug({ point: key, err: (err as Error).message }, 'dial failed')
      return false
    }
    metrics.dials.inc({ result: 'ok' })
    const t = tracked.get(peer.connectionId)
    // A DNS point: the connection was recorded under the address it resolved to; it runs this point too.
    if (pointBook.get(key)?.state === 'requested') {
      if (t === undefined) { pointBook.setDisconnected(key); return false }
      if (point.expectedPeerId !== undefined && point.expectedPeerId !== peer.tezosPeerId) {
        pointBook.setDisconnected(key)
        this.identityMismatch(point, peer.tezosPeerId, peer.libp2pPeerId, peer.remoteIp)
        await this.disconnect(peer.connectionId)
        return false
      }
      tracked.associate(t, key)
    }
    if (point.trusted) this.init.trust.learn(peer)
    return true
  }

  /**
   * Octez `Identity_check_failure`: the peer at a pinned point is not the one pinned. Reported by
   * its address (the policy greylists the address, not the peer: it may be honest, only not the one
   * expected), whether the point was dialled by its address or through a DNS name.
   */
  identityMismatch (point: PointInfo, found: string, libp2pPeerId: PeerId, ip: string | undefined): void {
    this.init.report({ libp2pPeerId, ...(ip === undefined ? {} : { ip }) }, 'identity-mismatch',
      `Identity_check_failure: ${found} at ${point.key}, pinned to ${point.expectedPeerId ?? 'none'}`)
  }

  async disconnect (connectionId: string): Promise<void> {
    const connection = this.connectionById(connectionId)
    if (connection === undefined) return
    try {
      await connection.close({ signal: AbortSignal.timeout(2000) })
    } catch (err) {
      connection.abort(err as Error)
    }
  }

  connectionById (id: string): Connection | undefined {
    return this.init.connections().find(c => c.id === id)
  }
}
