import type { Connection, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { AdmissionHooks } from '../handshake/admission.ts'
import type { AuthenticatedPeer } from '../handshake/authenticated-peers.ts'
import { RejectedByPeerError } from '../handshake/errors.ts'
import type { HandshakeFailure } from '../handshake/service.ts'
import type { BanList, BanRecord } from '../peers/bans.ts'
import type { PeerExchangeHost } from '../peers/exchange/index.ts'
import { ConnectionTable, observedPoint } from '../peers/connection-table.ts'
import type { AccessControl } from '../peers/gater.ts'
import type { Greylist } from '../peers/greylist.ts'
import { InboundRateLimiter } from '../peers/inbound-rate.ts'
import { inboundConnectionCap, maintenanceBounds, type MaintenanceBounds, type P2pLimits } from '../peers/limits.ts'
import { Maintenance } from '../peers/maintenance.ts'
import { PeerMetrics } from '../peers/metrics.ts'
import { PeerStateJournal, PeerStore } from '../peers/peer-store-db.ts'
import { PointBook, type PointInfo } from '../peers/point-book.ts'
import { pointFromMultiaddr, pointKey, toOctezPointString, type PointAddress } from '../net/point.ts'
import { PeerScores } from '../peers/score.ts'
import type { Database } from '../storage/database.ts'
import { SwapCoordinator } from '../peers/exchange/swap.ts'
import { PeerDiscovery, type PointSource } from '../peers/exchange/discovery.ts'
import { PeerTrust } from '../peers/trust.ts'
import { PointDialer } from './point-dialer.ts'
import { journalledPeerLists } from './peer-lists.ts'
import { poolAdmissionHooks } from './pool-admission.ts'

import type { ConnectionManagerInit, ManagedNode } from './connection-manager-init.ts'

export type { ConnectionManagerEvents, ConnectionManagerInit, ManagedNode, PointDiscovered, PointSource } from './connection-manager-init.ts'

/**
 * What an embedder may use of the connection manager (`node.connectionManager`): its state and its
 * actions. Its life cycle (attach, load, start, stop, connection events) is `createNode`'s alone.
 */
export type ConnectionManagerApi = Pick<ConnectionManager,
  'pointBook' | 'scores' | 'greylist' | 'banList' | 'bounds' | 'maintenance' | 'metrics' | 'limits' | 'trust' |
  'ban' | 'unban' | 'addTrustedPoint' | 'removeTrustedPoint' | 'proposeSwap' | 'maintain' | 'directionCounts' |
  'isTrustedPeer' | 'persist' | 'knownPointsForNack'>

/**
 * The node's connection manager: Octez's pool and maintenance on libp2p. It owns the point book,
 * the peer scores, the greylist and ban list (persisted in the node's store), the maintenance loop,
 * trusted points and private mode, DNS bootstrap, and the peer-exchange host; the connection gater
 * and the handshake consult it. Built before libp2p (the gater needs it), attached once libp2p
 * exists, started with the node.
 */
export class ConnectionManager {
  readonly pointBook: PointBook
  readonly scores: PeerScores
  readonly greylist: Greylist
  readonly banList: BanList
  readonly bounds: MaintenanceBounds
  readonly maintenance: Maintenance
  readonly metrics: PeerMetrics
  readonly limits: P2pLimits

  private readonly init: ConnectionManagerInit
  private readonly log: Logger
  private readonly inboundCap: number
  private readonly inboundRate: InboundRateLimiter | undefined
  private readonly tracked: ConnectionTable
  /** Trusted points and peers (what the gater, the handshake and the peer policy spare). */
  readonly trust: PeerTrust
  private readonly discovery: PeerDiscovery
  private journal: PeerStateJournal | undefined
  private readonly swaps: SwapCoordinator
  private readonly dialer: PointDialer
  private node: ManagedNode | undefined
  private started = false

  constructor (init: ConnectionManagerInit) {
    this.init = init
    this.limits = init.limits
    this.log = init.logger.child({ module: 'connection-manager' })
    this.bounds = maintenanceBounds(init.limits)
    this.inboundCap = inboundConnectionCap(init.limits)
    this.inboundRate = InboundRateLimiter.fromLimits(init.limits)
    const lists = journalledPeerLists(init, () => this.journal)
    this.greylist = lists.greylist
    this.banList = lists.banList
    this.scores = new PeerScores(init.scores)
    this.trust = new PeerTrust(() => this.pointBook, this.greylist, this.banList)
    this.pointBook = new PointBook({
      maxKnownPoints: init.limits.maxKnownPoints,
      reconnection: init.reconnection,
      privateMode: init.privateMode,
      disablePeerDiscovery: init.disablePeerDiscovery,
      isBanned: p => this.trust.pointRefused(p)
    })
    this.tracked = new ConnectionTable(this.pointBook)
    this.pointBook.subscribe(() => { this.journal?.markDirty() })
    this.discovery = new PeerDiscovery({
      book: this.pointBook,
      privateMode: init.privateMode,
      disablePeerDiscovery: init.disablePeerDiscovery,
      bootstrapDns: init.bootstrapDns,
      dnsServers: init.dnsServers,
      dnsRefreshIntervalMs: init.dnsRefreshIntervalMs,
      // Maintenance asks when it runs out of candidates; let it, as often as it does.
      minDnsRefreshIntervalMs: Math.min(init.limits.timeBetweenLookingForPeersMs, 30_000),
      askable: () => this.tracked.all().filter(t => !t.peer.metadata.privateNode)
        .map(t => this.dialer.connectionById(t.peer.connectionId)).filter((c): c is Connection => c !== undefined),
      exchange: () => this.attached().exchange,
      onDiscovered: (point, source) => {
        this.discovered(point.key, source, point.trusted)
        this.maintenance.newContact()
      },
      logger: this.log
    })
    this.metrics = new PeerMetrics(init.metricsRegistry, {
      connections: () => this.tracked.directionCounts(),
      greylist: () => {
        const entries = this.greylist.list()
        return { ip: entries.filter(e => e.kind === 'ip').length, peer: entries.filter(e => e.kind === 'peer').length }
      },
      bans: () => this.banList.size,
      knownPoints: () => this.pointBook.size,
      trustedPoints: () => this.pointBook.all().filter(p => p.trusted).length
    })
    this.dialer = new PointDialer({
      pointBook: this.pointBook,
      tracked: this.tracked,
      trust: this.trust,
      metrics: this.metrics,
      limits: init.limits,
      report: init.report,
      started: () => this.started,
      node: () => this.attached(),
      connections: () => this.node?.connections() ?? [],
      logger: this.log
    })
    this.swaps = new SwapCoordinator({
      swapLingerMs: init.limits.swapLingerMs,
      enabled: !init.privateMode && !init.disablePeerDiscovery,
      connections: () => this.tracked.all().map(t => ({ peer: t.peer, point: this.tracked.publicPointOf(t) })),
      connectionOf: id => this.dialer.connectionById(id),
      exchange: () => this.attached().exchange,
      isConnected: tezosPeerId => this.attached().peers.hasTezosPeer(tezosPeerId),
      isTrusted: peer => this.isTrustedPeer(peer),
      acceptPoint: (point, source) => this.discovery.fromPeers([point], source)[0],
      connect: async (point, signal) => await this.dialer.connect(point, signal),
      disconnect: async id => { await this.dialer.disconnect(id) },
      logger: this.log
    })
    this.maintenance = new Maintenance({
      bounds: this.bounds,
      pointBook: this.pointBook,
      activeConnections: () => this.tracked.size,
      connect: async (point, signal) => await this.dialer.connect(point, signal),
      pruneCandidates: () => this.tracked.all().filter(t => !this.isTrustedPeer(t.peer)).map(t => t.peer.connectionId),
      disconnect: async id => { await this.dialer.disconnect(id); this.metrics.pruned.inc() },
      askForMoreContacts: async signal => { await this.discovery.askForMore(signal) },
      trySwap: async signal => await this.swaps.propose(signal),
      privateMode: init.privateMode,
      idleTimeMs: init.limits.maintenanceIdleTimeMs,
      timeBetweenLookingForPeersMs: init.limits.timeBetweenLookingForPeersMs,
      onRun: report => {
        this.metrics.maintenanceRuns.inc({ trigger: report.trigger })
        init.emit('maintenance:run', report)
      },
      onError: err => { this.log.error({ err: err.message }, 'maintenance pass failed') }
    })
    this.admissionHooks = poolAdmissionHooks({
      trust: this.trust,
      tracked: this.tracked,
      maintenance: this.maintenance,
      bounds: this.bounds,
      inboundCap: this.inboundCap,
      privateMode: init.privateMode,
      identityMismatch: (point, found, libp2pPeerId, ip) => { this.dialer.identityMismatch(point, found, libp2pPeerId, ip) }
    })
    for (const address of init.trustedPoints) {
      const p = this.pointBook.register(address, { trusted: true })
      if (p !== undefined) this.discovered(p.key, 'config', true)
    }
  }

  // --- what libp2p and the handshake consult --------------------------------------------------------

  /** The gater's view: lists, trust, per-IP inbound rate. */
  accessControl (): AccessControl {
    return { greylist: this.greylist, banList: this.banList, trust: this.trust.policy(), inboundRate: this.inboundRate }
  }

  /** Handshake admission: peer-id pins, private mode, the inbound share and maintenance's threshold. */
  readonly admissionHooks: AdmissionHooks

  /** Points for a Nack (Octez `list_known_points ~ignore_private:true ~size:50`), in Octez's `ip:port` form. */
  readonly knownPointsForNack = (): string[] =>
    this.pointBook.listKnownPoints({ ignorePrivate: true, size: 50, ipOnly: true }).map(p => toOctezPointString(p.address))

  /** The peer-exchange service's host. */
  readonly exchangeHost: PeerExchangeHost = {
    isAuthenticated: connection => this.tracked.has(connection.id),
    pointsToAdvertise: () => this.pointBook.listKnownPoints({ ignorePrivate: true, size: 50, ipOnly: true }).map(p => p.address),
    onSwapRequest: (connection, proposal) => this.swaps.answer(connection, proposal),
    onDisconnect: connection => { void this.dialer.disconnect(connection.id) },
    report: (connection, kind, detail) => {
      const t = this.tracked.get(connection.id)
      if (t !== undefined) this.init.report({ tezosPeerId: t.peer.tezosPeerId, libp2pPeerId: t.peer.libp2pPeerId, ...(t.peer.remoteIp === undefined ? {} : { ip: t.peer.remoteIp }) }, kind, detail)
    }
  }

  // --- life cycle ---------------------------------------------------------------------------------

  attach (node: ManagedNode): void {
    this.node = node
  }

  /** The node's store (sublevel `peers`); without one nothing survives a restart. */
  useStore (store: Database | undefined): void {
    if (store === undefined) return
    this.journal = new PeerStateJournal(new PeerStore(store), this, {
      flushIntervalMs: this.init.persistIntervalMs,
      onError: err => { this.log.error({ err: err.message }, 'cannot write the peer state to the store') }
    })
  }

  /** Restores the persisted state; before libp2p listens, so the gater already knows the greylist and bans. */
  async load (): Promise<void> {
    if (this.journal === undefined) return
    const loaded = await this.journal.load()
    this.log.info(loaded, 'peer state restored')
  }

  /** Once libp2p listens: our own addresses are marked, DNS resolution and maintenance start. */
  start (): Promise<void> {
    const node = this.attached()
    for (const ma of node.listenAddresses()) {
      try { this.pointBook.markSelf(pointFromMultiaddr(ma)) } catch { /* not a TCP point */ }
    }
    this.started = true
    // The first DNS resolution runs alongside maintenance; its points wake maintenance when they arrive.
    this.discovery.start()
    this.maintenance.start()
    return Promise.resolve()
  }

  /** Before libp2p stops: no new dials or resolutions. */
  async stop (): Promise<void> {
    this.started = false
    await Promise.all([this.maintenance.stop(), this.discovery.stop()])
  }

  /** After libp2p stopped (its connections are closed): the last write of the peer state. */
  async afterStop (): Promise<void> {
    await this.journal?.close()
  }

  // --- connection events (wired to the node's events) ----------------------------------------------

  onAuthenticated (peer: AuthenticatedPeer): void {
    const t = this.tracked.add(peer)
    const address = observedPoint(peer)
    if (address !== undefined) {
      let point = this.pointBook.get(pointKey(address))
      // A private node's address is never recorded from its own connection: nothing to leak.
      if (point === undefined && !(peer.direction === 'inbound' && peer.metadata.privateNode)) {
        point = this.pointBook.register(address)
        if (point !== undefined) this.discovered(point.key, 'connection', false)
      }
      // A peer other than the one pinned for the point does not run it (an inbound peer could claim any port).
      if (point !== undefined && (point.expectedPeerId === undefined || point.expectedPeerId === peer.tezosPeerId)) {
        this.tracked.associate(t, point.key)
        if (point.trusted && (peer.direction === 'outbound' || point.expectedPeerId !== undefined)) this.trust.learn(peer)
      }
    }
    this.journal?.markDirty()
    if (this.tracked.size >= this.limits.maxConnections) this.maintenance.trigger('too-many')
    this.maintenance.newContact()
  }

  onDisconnected (peer: AuthenticatedPeer): void {
    if (this.tracked.remove(peer.connectionId) === undefined) return
    this.journal?.markDirty()
    if (this.started && this.tracked.size < this.limits.minConnections) this.maintenance.trigger('too-few')
  }

  onHandshakeFailed (failure: HandshakeFailure): void {
    this.metrics.handshakeFailures.inc({ reason: failure.error.name })
    if (failure.error instanceof RejectedByPeerError) this.discovery.fromNack(failure.error.points)
  }

  // --- actions --------------------------------------------------------------------------------------

  /** Bans an IP or a peer id (Tezos or libp2p) and closes its connections. */
  ban (target: string | PeerId, reason?: string): BanRecord {
    const record = this.banList.ban(target, reason)
    for (const t of this.tracked.all()) {
      const p = t.peer
      if (p.remoteIp === record.key || p.tezosPeerId === record.key || p.libp2pPeerId.toString() === record.key) void this.dialer.disconnect(p.connectionId)
    }
    return record
  }

  unban (target: string | PeerId): boolean {
    return this.banList.unban(target)
  }

  /** Adds a trusted point at run time (as `--peer` does at start). */
  addTrustedPoint (address: PointAddress): PointInfo | undefined {
    const p = this.pointBook.register(address, { trusted: true })
    if (p !== undefined) { this.discovered(p.key, 'config', true); this.maintenance.trigger('request') }
    return p
  }

  /** Stops trusting a point (the reverse of `addTrustedPoint`); false for an unknown point. */
  removeTrustedPoint (address: PointAddress): boolean {
    const key = pointKey(address)
    if (this.pointBook.get(key) === undefined) return false
    this.pointBook.setTrusted(key, false)
    this.journal?.markDirty()
    return true
  }

  /**
   * Proposes a swap now, as maintenance does after a pass within bounds; resolves once it is done
   * (false when swapping is off, lingering, or there is nobody to swap).
   */
  async proposeSwap (): Promise<boolean> {
    return await this.swaps.propose(AbortSignal.timeout(this.limits.connectionTimeoutMs + this.limits.authenticationTimeoutMs))
  }

  /** Asks for a maintenance pass now (Octez's RPC `maintain`). */
  maintain (): void {
    this.maintenance.trigger('request')
  }

  /** Authenticated connections by direction. */
  directionCounts (): { inbound: number, outbound: number } {
    return this.tracked.directionCounts()
  }

  /** Whether a connected peer is trusted: met on a trusted point, or pinned by one. */
  isTrustedPeer (peer: AuthenticatedPeer): boolean {
    return this.trust.isTrustedPeer(peer)
  }

  /** The peer policy changed a score: it goes out with the next write of the peer state. */
  scoresChanged (): void {
    this.journal?.markDirty()
  }

  /** Flushes points and scores to the store now (they are otherwise written every `persistIntervalMs`). */
  async persist (): Promise<void> {
    await this.journal?.flush()
  }

  // --- internals ------------------------------------------------------------------------------------

  /**
   * A point entered the book (`PointSource`: config, DNS, a connection, Advertise, Nack, swap):
   * counted by source and announced as `point:discovered`. Asking for more is `PeerDiscovery.askForMore`.
   */
  private discovered (key: string, source: PointSource, trusted: boolean): void {
    this.metrics.pointsDiscovered.inc({ source })
    this.init.emit('point:discovered', { key, source, trusted })
  }

  private attached (): ManagedNode {
    if (this.node === undefined) throw new Error('the connection manager is not attached to a node yet')
    return this.node
  }
}
