import type { AuthenticatedPeer } from '../handshake/authenticated-peers.ts'
import { tcpPortOfMultiaddr } from '../net/multiaddr.ts'
import type { PointBook } from './point-book.ts'
import { isIpPoint, normaliseIpAddress, type PointAddress } from '../net/point.ts'

/** An authenticated connection and the points it runs on. */
export interface TrackedConnection {
  peer: AuthenticatedPeer
  /** The observed point, and the dialled one when it differs (a DNS name). */
  points: Set<string>
}

/**
 * The authenticated connections the connection manager counts, each tied to the points it runs
 * on, so the point book follows connections (Octez: a point is accepted, then running, then
 * disconnected with its back-off) and maintenance, admission and swaps count by direction.
 */
export class ConnectionTable {
  private readonly book: PointBook
  private readonly byConnection = new Map<string, TrackedConnection>()

  constructor (book: PointBook) {
    this.book = book
  }

  get size (): number {
    return this.byConnection.size
  }

  get (connectionId: string): TrackedConnection | undefined {
    return this.byConnection.get(connectionId)
  }

  has (connectionId: string): boolean {
    return this.byConnection.has(connectionId)
  }

  all (): TrackedConnection[] {
    return [...this.byConnection.values()]
  }

  add (peer: AuthenticatedPeer): TrackedConnection {
    const t: TrackedConnection = { peer, points: new Set() }
    this.byConnection.set(peer.connectionId, t)
    return t
  }

  /** Forgets a connection; the points it ran on are disconnected (back-off reset, disconnection delay). */
  remove (connectionId: string): TrackedConnection | undefined {
    const t = this.byConnection.get(connectionId)
    if (t === undefined) return undefined
    this.byConnection.delete(connectionId)
    for (const key of t.points) {
      if (this.book.get(key)?.currentPeerId === t.peer.tezosPeerId) this.book.setDisconnected(key)
    }
    return t
  }

  /** Marks a point as run by this connection (Octez: accepted, then running), unless another holds it. */
  associate (t: TrackedConnection, key: string): void {
    const p = this.book.get(key)
    if (p === undefined || (p.state !== 'disconnected' && p.state !== 'requested')) return
    this.book.setAccepted(key, t.peer.tezosPeerId)
    this.book.setRunning(key, t.peer.tezosPeerId)
    this.book.setPrivate(key, t.peer.metadata.privateNode)
    t.points.add(key)
  }

  directionCounts (): { inbound: number, outbound: number } {
    let inbound = 0
    for (const t of this.byConnection.values()) if (t.peer.direction === 'inbound') inbound++
    return { inbound, outbound: this.byConnection.size - inbound }
  }

  /** The point of a connection that may be shared (in a swap): an IP point known to be public. */
  publicPointOf (t: TrackedConnection): PointAddress | undefined {
    for (const key of t.points) {
      const p = this.book.get(key)
      if (p !== undefined && p.knownPublic && isIpPoint(p.address)) return p.address
    }
    return undefined
  }
}

/**
 * The point a connection shows (Octez: the dialled point, or the remote address with the port the
 * peer announced): the remote `ip:port` when we dialled, the remote IP and advertised port when it
 * dialled us (none if it announced no port).
 */
export function observedPoint (peer: AuthenticatedPeer): PointAddress | undefined {
  if (peer.remoteIp === undefined) return undefined
  const ip = normaliseIpAddress(peer.remoteIp)
  if (ip === undefined) return undefined
  const port = peer.direction === 'outbound' ? tcpPortOfMultiaddr(peer.remoteAddress) : peer.advertisedPort
  if (port === undefined || port === 0) return undefined
  return { hostKind: ip.kind, host: ip.address, port }
}
