import type { Connection, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { AuthenticatedPeer, AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import type { PeerRef, ReportPeer } from '../misbehaviour/index.ts'
import { banTargetOf, InvalidBanTargetError, type BanList, type BanRecord } from '../peers/bans.ts'
import type { AccessControl } from '../peers/gater.ts'
import type { Greylist } from '../peers/greylist.ts'
import { PointBook, type PointInfo } from '../peers/point-book.ts'
import { parsePoint, pointKey, type PointAddress } from '../net/point.ts'
import { PeerPolicy, type PeerPenalized, type PeerPolicyOptions } from '../peers/policy.ts'
import { PeerScores, type PeerScoresOptions } from '../peers/score.ts'
import { PeerTrust } from '../peers/trust.ts'
import type { ConnectionManager } from './connection-manager.ts'
import type { OctezPeer } from './octez-peer.ts'

/** A connected peer with what the node thinks of it. */
export interface PeerInfo {
  peer: AuthenticatedPeer
  /** Its score (0: nothing held against it; -100: the worst). */
  score: number
  /** Met on a trusted point, or pinned by one: never greylisted, pruned or swapped away. */
  trusted: boolean
}

/**
 * The node's peers as embedders and the RPC use them, the same with or without a connection
 * manager: the peer policy (`report`), bans, trusted points, the point list and the peer list.
 */
export interface NodePeerApi {
  /** Reports a peer's misbehaviour to the peer policy (`src/peers/policy.ts`): score, disconnect, greylist. */
  report: ReportPeer
  /**
   * Bans an IP or a peer (Tezos peer id or libp2p PeerId) and closes its connections; a connected
   * peer is banned by both its ids, so that lifting either ban lifts both. Resolves with the records
   * set once the connections are closed. Throws `InvalidBanTargetError` for anything else.
   */
  ban: (target: string | PeerId, reason?: string) => Promise<BanRecord[]>
  /** Lifts the ban on an IP or peer id (and on the other id of a peer banned by both); false if it was not banned. */
  unban: (target: string | PeerId) => boolean
  /** Trusts a point (`ip:port`, `[ipv6]:port`, `host:port#id…` or a multiaddr), as `--peer` does at start. */
  trust: (point: string | PointAddress) => PointInfo | undefined
  /** Stops trusting a point; false for a point the node does not know. */
  untrust: (point: string | PointAddress) => boolean
  /** Known points (a node without a connection manager knows only those it was told to trust). */
  points: () => PointInfo[]
  /** One known point, or undefined. */
  point: (point: string | PointAddress) => PointInfo | undefined
  /** Authenticated peers with their score and trust. */
  peerList: () => PeerInfo[]
  /** One connected peer by Tezos peer id or libp2p PeerId, or undefined. */
  peerInfo: (id: string | PeerId) => PeerInfo | undefined
}

export interface NodePeersInit {
  /** The connection manager, when the node runs one: it owns the scores, the point book and trust. */
  manager: ConnectionManager | undefined
  greylist: Greylist
  banList: BanList
  score?: PeerScoresOptions & PeerPolicyOptions
  logger: Logger
  onPenalized: (event: PeerPenalized) => void
}

/** What the node's peers need from libp2p, given once it exists. */
export interface AttachedNode {
  peers: AuthenticatedPeers
  connections: () => Connection[]
  /** Peers on Octez's wire, when the node speaks it: the policy disconnects and trusts them too. */
  octez?: {
    peers: () => OctezPeer[]
    /** Met on a trusted Octez point (`--octez-peer`). */
    isTrusted: (peer: OctezPeer) => boolean
  }
}

/** How long a disconnected peer's connection may take to close politely before it is cut. */
const CLOSE_TIMEOUT_MS = 2000

/** The node's `NodePeerApi` and the peer policy every layer reports to. */
export class NodePeers implements NodePeerApi {
  readonly policy: PeerPolicy
  readonly scores: PeerScores
  private readonly init: NodePeersInit
  private readonly book: PointBook
  private readonly peerTrust: PeerTrust
  private node: AttachedNode | undefined
  /** The other id of a peer banned by both (either lifts both while the node runs). */
  private readonly banCompanions = new Map<string, string>()

  constructor (init: NodePeersInit) {
    this.init = init
    const { manager } = init
    this.scores = manager?.scores ?? new PeerScores(init.score)
    // Without a connection manager the node keeps only the points it is told to trust.
    this.book = manager?.pointBook ?? new PointBook({ maxKnownPoints: null })
    this.peerTrust = manager?.trust ?? new PeerTrust(() => this.book, init.greylist, init.banList)
    this.policy = new PeerPolicy({
      scores: this.scores,
      greylist: init.greylist,
      ...(init.score?.penalties === undefined ? {} : { penalties: init.score.penalties }),
      connected: peer => [
        ...this.connectedPeers(peer).map(p => ({ tezosPeerId: p.tezosPeerId, libp2pPeerId: p.libp2pPeerId, ...(p.remoteIp === undefined ? {} : { ip: p.remoteIp }) })),
        ...this.octezPeersOf(peer).map(p => ({ tezosPeerId: p.tezosPeerId, ip: p.remoteIp }))
      ],
      isTrusted: peer => this.peerTrust.isTrustedRef(peer, this.node?.peers.list() ?? []) ||
        this.octezPeersOf(peer).some(p => this.node?.octez?.isTrusted(p) === true),
      disconnect: (peer, detail) => {
        void this.disconnect(this.connectedPeers(peer))
        for (const p of this.octezPeersOf(peer)) void p.connection.close(detail)
      },
      logger: init.logger,
      onPenalized: event => {
        manager?.metrics.penalties.inc({ kind: event.kind })
        init.onPenalized(event)
      },
      onScoreChanged: () => { manager?.scoresChanged() },
      onGreylisted: () => { manager?.metrics.greylistings.inc() }
    })
  }

  /** The connection gater's and the handshake's view: lists, trust (and the manager's per-IP rate). */
  accessControl (): AccessControl {
    return this.init.manager?.accessControl() ?? { greylist: this.init.greylist, banList: this.init.banList, trust: this.peerTrust.policy() }
  }

  attach (node: AttachedNode): void {
    this.node = node
  }

  readonly report: ReportPeer = (peer, misbehaviour, detail) => this.policy.report(peer, misbehaviour, detail)

  readonly ban = async (target: string | PeerId, reason?: string): Promise<BanRecord[]> => {
    const t = banTargetOf(target)
    if (t === undefined) throw new InvalidBanTargetError(String(target))
    const { banList } = this.init
    const peer = t.kind === 'peer' ? this.node?.peers.get(target) : undefined
    const records = [banList.ban(target, reason)]
    if (peer !== undefined) {
      const other = peer.tezosPeerId === t.key ? peer.libp2pPeerId.toString() : peer.tezosPeerId
      records.push(banList.ban(other, reason))
      this.banCompanions.set(t.key, other)
      this.banCompanions.set(other, t.key)
    }
    const banned = new Set(records.map(r => r.key))
    const octez = this.node?.octez?.peers().filter(p => banned.has(p.tezosPeerId) || banned.has(p.remoteIp)) ?? []
    await Promise.all([
      this.disconnect(this.node?.peers.list().filter(p =>
        banned.has(p.tezosPeerId) || banned.has(p.libp2pPeerId.toString()) || (p.remoteIp !== undefined && banned.has(p.remoteIp))) ?? []),
      ...octez.map(async p => { await p.connection.close(`banned: ${reason ?? 'no reason'}`) })
    ])
    return records
  }

  readonly unban = (target: string | PeerId): boolean => {
    const key = banTargetOf(target)?.key
    if (key === undefined) return false
    const lifted = this.init.banList.unban(target)
    const other = this.banCompanions.get(key)
    if (other !== undefined) {
      this.banCompanions.delete(key)
      this.banCompanions.delete(other)
      this.init.banList.unban(other)
    }
    return lifted
  }

  readonly trust = (point: string | PointAddress): PointInfo | undefined => {
    const address = typeof point === 'string' ? parsePoint(point) : point
    return this.init.manager?.addTrustedPoint(address) ?? this.book.register(address, { trusted: true })
  }

  readonly untrust = (point: string | PointAddress): boolean => {
    const address = typeof point === 'string' ? parsePoint(point) : point
    if (this.init.manager !== undefined) return this.init.manager.removeTrustedPoint(address)
    const key = pointKey(address)
    if (this.book.get(key) === undefined) return false
    this.book.setTrusted(key, false)
    return true
  }

  readonly points = (): PointInfo[] => this.book.all()

  readonly point = (point: string | PointAddress): PointInfo | undefined =>
    this.book.get(pointKey(typeof point === 'string' ? parsePoint(point) : point))

  readonly peerList = (): PeerInfo[] => (this.node?.peers.list() ?? []).map(p => this.infoOf(p))

  readonly peerInfo = (id: string | PeerId): PeerInfo | undefined => {
    const peer = this.node?.peers.get(id)
    return peer === undefined ? undefined : this.infoOf(peer)
  }

  private infoOf (peer: AuthenticatedPeer): PeerInfo {
    return { peer, score: this.scores.score(peer.tezosPeerId), trusted: this.peerTrust.isTrustedPeer(peer) }
  }

  /** Authenticated connections sharing an id with `peer`. */
  private connectedPeers (peer: PeerRef): AuthenticatedPeer[] {
    const ids = [peer.tezosPeerId, peer.libp2pPeerId?.toString()].filter((id): id is string => id !== undefined)
    if (ids.length === 0) return []
    return this.node?.peers.list().filter(p => ids.includes(p.tezosPeerId) || ids.includes(p.libp2pPeerId.toString())) ?? []
  }

  /** Octez-wire peers sharing the Tezos peer id of `peer`. */
  private octezPeersOf (peer: PeerRef): OctezPeer[] {
    if (peer.tezosPeerId === undefined) return []
    return this.node?.octez?.peers().filter(p => p.tezosPeerId === peer.tezosPeerId) ?? []
  }

  /** Closes these peers' connections, politely first (a handshake still running closes its own). */
  private async disconnect (peers: readonly AuthenticatedPeer[]): Promise<void> {
    const node = this.node
    if (node === undefined || peers.length === 0) return
    const ids = new Set(peers.map(p => p.connectionId))
    await Promise.all(node.connections().filter(c => ids.has(c.id)).map(async c => {
      try {
        await c.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
      } catch (err) {
        c.abort(err as Error)
      }
    }))
  }
}
