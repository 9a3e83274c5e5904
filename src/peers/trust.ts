import type { Connection } from '@libp2p/interface'
import type { AuthenticatedPeer } from '../handshake/authenticated-peers.ts'
import type { PeerRef } from '../misbehaviour/index.ts'
import { banTargetOf, type BanList } from './bans.ts'
import { ipOfMultiaddr, tcpPortOfMultiaddr } from '../net/multiaddr.ts'
import type { TrustPolicy } from './gater.ts'
import type { Greylist } from './greylist.ts'
import type { PointBook, PointInfo } from './point-book.ts'
import { isIpPoint, normaliseIpAddress, pointKey } from '../net/point.ts'

/**
 * Who is trusted (Octez: trusted points and trusted peers). A point is trusted by configuration
 * (`--peer`, bootstrap list, DNS bootstrap); a peer is trusted when a trusted point pins its id, or
 * once we reached it by dialling a trusted point (Octez marks the peer of a trusted point trusted).
 * Trusted points and peers are always allowed (the greylist does not apply to them), redialled,
 * and never pruned or swapped away; only a ban refuses them.
 */
export class PeerTrust {
  private readonly book: () => PointBook
  private readonly greylist: Greylist
  private readonly banList: BanList
  /** Tezos and libp2p ids of peers met on trusted points. */
  private readonly learnt = new Set<string>()

  constructor (book: () => PointBook, greylist: Greylist, banList: BanList) {
    this.book = book
    this.greylist = greylist
    this.banList = banList
  }

  /** The peer behind a trusted point: trusted from now on, by both its ids. */
  learn (peer: AuthenticatedPeer): void {
    this.learnt.add(peer.tezosPeerId)
    this.learnt.add(peer.libp2pPeerId.toString())
  }

  /** A Tezos peer id or libp2p PeerId that is trusted. */
  isTrustedId (id: string): boolean {
    if (this.learnt.has(id)) return true
    return this.book().all().some(p => p.trusted && (p.expectedPeerId === id || p.libp2pPeerId === id))
  }

  isTrustedPeer (peer: AuthenticatedPeer): boolean {
    return this.isTrustedId(peer.tezosPeerId) || this.isTrustedId(peer.libp2pPeerId.toString())
  }

  /** Whether the peer policy spares a peer: one of its ids is trusted, or one of its connections (`connected`) is. */
  isTrustedRef (peer: PeerRef, connected: readonly AuthenticatedPeer[]): boolean {
    const ids = [peer.tezosPeerId, peer.libp2pPeerId?.toString()].filter((id): id is string => id !== undefined)
    if (ids.some(id => this.isTrustedId(id))) return true
    return connected.some(p => (ids.includes(p.tezosPeerId) || ids.includes(p.libp2pPeerId.toString())) && this.isTrustedPeer(p))
  }

  /** The known point at `ip:port`, however the IP is spelt. */
  pointAt (ip: string, port: number): PointInfo | undefined {
    const a = normaliseIpAddress(ip)
    return a === undefined ? undefined : this.book().get(pointKey({ hostKind: a.kind, host: a.address, port }))
  }

  /**
   * During the handshake: a trusted peer, or a remote on a trusted point (its dialled `ip:port`, or
   * its IP and advertised port when it dialled us) whose pin, if any, it matches.
   */
  isTrustedRemote (tezosPeerId: string, advertisedPort: number, connection: Pick<Connection, 'direction' | 'remoteAddr' | 'remotePeer'>): boolean {
    if (this.isTrustedId(tezosPeerId) || this.isTrustedId(connection.remotePeer.toString())) return true
    const ip = ipOfMultiaddr(connection.remoteAddr)
    const port = connection.direction === 'outbound' ? tcpPortOfMultiaddr(connection.remoteAddr) : advertisedPort
    if (ip === undefined || port === undefined || port === 0) return false
    const point = this.pointAt(ip, port)
    return point?.trusted === true && (point.expectedPeerId === undefined || point.expectedPeerId === tezosPeerId)
  }

  /** The point book's ban predicate: bans always apply; the greylist only to untrusted points. */
  pointRefused (p: PointInfo): boolean {
    const keys = [isIpPoint(p.address) ? p.address.host : undefined, p.expectedPeerId, p.libp2pPeerId, p.lastEstablishedConnection?.peerId]
      .filter((k): k is string => k !== undefined && k !== '')
    if (this.banList.size > 0 && keys.some(k => banTargetOf(k) !== undefined && this.banList.isBanned(k))) return true
    if (p.trusted || !this.greylist.mayContainEntries) return false
    return keys.some(k => this.greylist.isGreylisted(k))
  }

  /** The connection gater's view of trust. */
  policy (): TrustPolicy {
    return {
      isTrustedAddress: (ip, port) => this.pointAt(ip, port)?.trusted === true,
      isTrustedPeer: id => this.isTrustedId(id),
      hostsTrustedPoint: ip => {
        const host = normaliseIpAddress(ip)?.address
        return this.book().all().some(p => p.trusted && p.address.host === host)
      }
    }
  }
}
