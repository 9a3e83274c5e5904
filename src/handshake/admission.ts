import type { Connection } from '@libp2p/interface'
import type { NackMotive } from '../wire/ack.ts'
import { ipPoint, toOctezPointString } from '../net/point.ts'
import { MAX_NACK_POINTS_SENT, type AdmissionPolicy, type RemoteCandidate } from './authenticate.ts'
import type { AuthenticatedPeers } from './authenticated-peers.ts'

export interface AdmissionInit {
  /** Authenticated connections at which further ones are answered Too_many_connections. */
  maxConnections: number
  /** Points handed to rejected peers; the default lists authenticated, non-private peers. */
  knownPoints?: () => string[]
  /**
   * The node's rules, consulted once the remote is known: `refuse` (close without a Nack: a banned
   * or greylisted peer id, a peer id other than the one pinned for the point) before the version
   * check, `admit` (a motive to Nack with, e.g. private mode or the inbound share) before the
   * connection limit. The handshake knows no ban list or greylist of its own.
   */
  hooks?: AdmissionHooks
}

/** Connections admitted (our Ack sent) whose handshake has not ended yet, by direction. */
export interface PendingAdmissions {
  inbound: number
  outbound: number
}

export interface AdmissionHooks {
  refuse?: (tezosPeerId: string, connection: Connection) => boolean
  /**
   * `pending` counts the connections already admitted but not yet authenticated: limits must count
   * them too, or a burst of concurrent handshakes all pass a check made against authenticated
   * connections only.
   */
  admit?: (remote: RemoteCandidate, connection: Connection, pending: PendingAdmissions) => NackMotive | undefined
}

/**
 * The node's connect decision (Octez `raw_authenticate`, `src/lib_p2p/p2p_connect_handler.ml`) over
 * the set of authenticated peers. A connection it accepts holds a slot for its Tezos peer id from
 * our Ack until the handshake ends, so two connections of one peer racing through the handshake
 * cannot both get in, and the limit counts them before they finish.
 */
export class ConnectionAdmission {
  private readonly peers: AuthenticatedPeers
  private readonly init: AdmissionInit
  /** Tezos peer id → the connection holding its slot between our Ack and theirs. */
  private readonly reserved = new Map<string, Pick<Connection, 'id' | 'direction'>>()

  constructor (peers: AuthenticatedPeers, init: AdmissionInit) {
    this.peers = peers
    this.init = init
  }

  /** The policy one handshake consults. */
  policyFor (connection: Connection): AdmissionPolicy {
    const hooks = this.init.hooks
    return {
      isRefused: tezosPeerId => hooks?.refuse?.(tezosPeerId, connection) === true,
      admit: (remote: RemoteCandidate): NackMotive | undefined => {
        const motive = hooks?.admit?.(remote, connection, this.pending())
        if (motive !== undefined) return motive
        if (this.peers.size + this.reserved.size >= this.init.maxConnections) return 'Too_many_connections'
        if (this.peers.hasTezosPeer(remote.tezosPeerId) || this.reserved.has(remote.tezosPeerId)) return 'Already_connected'
        this.reserved.set(remote.tezosPeerId, { id: connection.id, direction: connection.direction })
        return undefined
      },
      knownPoints: () => (this.init.knownPoints ?? this.defaultKnownPoints)().slice(0, MAX_NACK_POINTS_SENT)
    }
  }

  /** Frees the slot a connection held, once its handshake is over (either way). */
  release (connection: Pick<Connection, 'id'>, tezosPeerId: string | undefined): void {
    if (tezosPeerId !== undefined && this.reserved.get(tezosPeerId)?.id === connection.id) this.reserved.delete(tezosPeerId)
  }

  private pending (): PendingAdmissions {
    const pending = { inbound: 0, outbound: 0 }
    for (const { direction } of this.reserved.values()) pending[direction]++
    return pending
  }

  clear (): void {
    this.reserved.clear()
  }

  /** Authenticated, non-private peers that announced a listening port, as Octez `ip:port` points. */
  private readonly defaultKnownPoints = (): string[] => {
    const points: string[] = []
    for (const peer of this.peers.list()) {
      if (peer.metadata.privateNode || peer.advertisedPort === 0 || peer.remoteIp === undefined) continue
      points.push(toOctezPointString(ipPoint(peer.remoteIp, peer.advertisedPort)))
      if (points.length >= MAX_NACK_POINTS_SENT) break
    }
    return points
  }
}
