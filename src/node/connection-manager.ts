import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { AdmissionHooks } from '../handshake/admission.ts'
import type { AuthenticatedPeer, AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import { RejectedByPeerError, SelfConnectionError } from '../handshake/errors.ts'
import type { HandshakeFailure } from '../handshake/service.ts'
import { BanList, banTargetOf, type BanRecord } from '../peers/bans.ts'
import { applyDnsChange, DnsBootstrap, type DnsBootstrapError } from '../peers/dns-bootstrap.ts'
import type { PeerExchangeHost, PeerExchangeService, SwapProposal } from '../peers/exchange/index.ts'
import { ipOfMultiaddr, tcpPortOfMultiaddr, type AccessControl, type TrustPolicy } from '../peers/gater.ts'
import { Greylist, type GreylistEntry, type GreylistOptions } from '../peers/greylist.ts'
import { inboundConnectionCap, InboundRateLimiter, maintenanceBounds, type MaintenanceBounds, type P2pLimits, type ReconnectionConfig } from '../peers/limits.ts'
import { Maintenance, type MaintenanceReport } from '../peers/maintenance.ts'
import { PeerMetrics } from '../peers/metrics.ts'
import { PeerStateJournal, PeerStore } from '../peers/peer-store-db.ts'
import { PointBook, type PointInfo } from '../peers/point-book.ts'
import {
  fromOctezPointString, isIpPoint, normaliseIpAddress, pointFromMultiaddr, pointKey, pointToMultiaddr, toOctezPointString, type PointAddress
} from '../peers/point.ts'
import { PeerScores, type Misbehaviour, type PeerScoresOptions, type ScoreVerdict } from '../peers/score.ts'
import type { Database } from '../storage/database.ts'
import { SwapCoordinator } from '../peers/exchange/swap.ts'

/** Where a point was learnt. */
export type PointSource = 'config' | 'dns' | 'connection' | 'advertise' | 'nack' | 'swap'

export interface PointDiscovered {
  key: string
  source: PointSource
  trusted: boolean
}

export interface PeerPenalized extends ScoreVerdict {
  kind: Misbehaviour
  detail?: string
}

/** The events the connection manager adds to the node's (`node.events.on('peer:greylisted', …)`). */
export interface ConnectionManagerEvents {
  'peer:greylisted': [GreylistEntry]
  'peer:banned': [BanRecord]
  'peer:unbanned': [{ kind: BanRecord['kind'], key: string }]
  'peer:penalized': [PeerPenalized]
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

interface Tracked {
  peer: AuthenticatedPeer
  /** Points this connection runs on (the observed one, and the dialled one when it differs: DNS). */
  points: Set<string>
}

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
  private readonly tracked = new Map<string, Tracked>()
  /** Tezos and libp2p ids of peers met on trusted points. */
  private readonly learnedTrusted = new Set<string>()
  private readonly dns: DnsBootstrap | undefined
  private journal: PeerStateJournal | undefined
  private readonly swaps: SwapCoordinator
  private node: ManagedNode | undefined
  private started = false

  constructor (init: ConnectionManagerInit) {
    this.init = init
    this.limits = init.limits
    this.log = init.logger.child({ module: 'connection-manager' })
    this.bounds = maintenanceBounds(init.limits)
    this.inboundCap = inboundConnectionCap(init.limits)
    this.inboundRate = InboundRateLimiter.fromLimits(init.limits)
    this.greylist = new Greylist({
      ipTtlMs: init.limits.ipGreylistCleanupDelayMs,
      maxPeers: init.limits.peerGreylistSize,
      ...init.greylist,
      onChange: change => {
        init.greylist?.onChange?.(change)
        if (change.type === 'add') {
          this.journal?.record(change)
          init.emit('peer:greylisted', change.entry)
        } else if (change.type === 'remove') this.journal?.record(change)
        else this.journal?.record({ type: 'clear-greylist' })
      }
    })
    this.banList = new BanList({
      onChange: change => {
        if (change.type === 'ban') { this.journal?.record(change); init.emit('peer:banned', change.record) } else if (change.type === 'unban') {
          this.journal?.record(change)
          init.emit('peer:unbanned', { kind: change.kind, key: change.key })
        } else this.journal?.record({ type: 'clear-bans' })
      }
    })
    this.scores = new PeerScores(init.scores)
    this.pointBook = new PointBook({
      maxKnownPoints: init.limits.maxKnownPoints,
      reconnection: init.reconnection,
      privateMode: init.privateMode,
      disablePeerDiscovery: init.disablePeerDiscovery,
      isBanned: p => this.pointRefused(p)
    })
    this.pointBook.subscribe(() => { this.journal?.markDirty() })
    if (init.bootstrapDns !== undefined && init.bootstrapDns.length > 0) {
      this.dns = new DnsBootstrap({
        names: init.bootstrapDns,
        servers: init.dnsServers,
        intervalMs: init.dnsRefreshIntervalMs,
        // Maintenance asks when it runs out of candidates; let it, as often as it does.
        minRefreshIntervalMs: Math.min(init.limits.timeBetweenLookingForPeersMs, 30_000),
        onChange: change => {
          applyDnsChange(this.pointBook, change)
          for (const p of change.added) this.discovered(p.key, 'dns', true)
          if (change.added.length > 0) this.maintenance.newContact()
        },
        onError: (err: DnsBootstrapError) => { this.log.warn({ err: err.message, code: err.code }, 'DNS bootstrap') }
      })
    }
    this.metrics = new PeerMetrics(init.metricsRegistry, {
      connections: () => this.directionCounts(),
      greylist: () => {
        const entries = this.greylist.list()
        return { ip: entries.filter(e => e.kind === 'ip').length, peer: entries.filter(e => e.kind === 'peer').length }
      },
      bans: () => this.banList.size,
      knownPoints: () => this.pointBook.size,
      trustedPoints: () => this.pointBook.all().filter(p => p.trusted).length
    })
    this.swaps = new SwapCoordinator({
      swapLingerMs: init.limits.swapLingerMs,
      enabled: !init.privateMode && !init.disablePeerDiscovery,
      connections: () => [...this.tracked.values()].map(t => ({ peer: t.peer, point: this.publicPointOf(t) })),
      connectionOf: id => this.connectionById(id),
      exchange: () => this.attached().exchange,
      isConnected: tezosPeerId => this.attached().peers.hasTezosPeer(tezosPeerId),
      isTrusted: peer => this.isTrustedPeer(peer),
      acceptPoint: (point, source) => this.registerFromPeers([point], source)[0],
      connect: async (point, signal) => await this.connect(point, signal),
      disconnect: async id => { await this.disconnect(id) },
      logger: this.log
    })
    this.maintenance = new Maintenance({
      bounds: this.bounds,
      pointBook: this.pointBook,
      activeConnections: () => this.tracked.size,
      connect: async (point, signal) => await this.connect(point, signal),
      pruneCandidates: () => [...this.tracked.values()].filter(t => !this.isTrustedPeer(t.peer)).map(t => t.peer.connectionId),
      disconnect: async id => { await this.disconnect(id); this.metrics.pruned.inc() },
      askForMoreContacts: async signal => { await this.askForMoreContacts(signal) },
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
    for (const address of init.trustedPoints) {
      const p = this.pointBook.register(address, { trusted: true })
      if (p !== undefined) this.discovered(p.key, 'config', true)
    }
  }

  // --- what libp2p and the handshake consult --------------------------------------------------------

  /** The gater's view: lists, trust, per-IP inbound rate. */
  accessControl (): AccessControl {
    const trust: TrustPolicy = {
      isTrustedAddress: (ip, port) => this.pointAt(ip, port)?.trusted === true,
      isTrustedPeer: id => this.isTrustedId(id),
      hostsTrustedPoint: ip => {
        const host = normaliseIpAddress(ip)?.address
        return this.pointBook.all().some(p => p.trusted && p.address.host === host)
      }
    }
    return { greylist: this.greylist, banList: this.banList, trust, inboundRate: this.inboundRate }
  }

  /** Handshake admission: peer-id pins, private mode, the inbound share and maintenance's threshold. */
  readonly admissionHooks: AdmissionHooks = {
    refuse: (tezosPeerId, connection) => {
      if (connection.direction !== 'outbound') return false
      const ip = ipOfMultiaddr(connection.remoteAddr)
      const port = tcpPortOfMultiaddr(connection.remoteAddr)
      const point = ip === undefined || port === undefined ? undefined : this.pointAt(ip, port)
      if (point?.expectedPeerId === undefined || point.expectedPeerId === tezosPeerId) return false
      // Octez Identity_check_failure: the address is greylisted, not the peer (it may be honest, only not the one expected).
      this.greylist.greylistIp(point.address.host, 'Identity_check_failure')
      this.log.warn({ point: point.key, expected: point.expectedPeerId, found: tezosPeerId }, 'unexpected peer id behind a pinned point')
      return true
    },
    admit: (remote, connection) => {
      const trusted = this.isTrustedRemote(remote.tezosPeerId, remote.advertisedPort, connection)
      if (this.init.privateMode && connection.direction === 'inbound' && !trusted) return 'No_motive'
      if (trusted) return undefined
      const active = this.tracked.size
      if (this.maintenance.enabled && active >= this.bounds.maxThreshold) return 'Too_many_connections'
      if (connection.direction === 'inbound' && this.directionCounts().inbound >= this.inboundCap) return 'Too_many_connections'
      return undefined
    }
  }

  /** Points for a Nack (Octez `list_known_points ~ignore_private:true ~size:50`), in Octez's `ip:port` form. */
  readonly knownPointsForNack = (): string[] =>
    this.pointBook.listKnownPoints({ ignorePrivate: true, size: 50, ipOnly: true }).map(p => toOctezPointString(p.address))

  /** The peer-exchange service's host. */
  readonly exchangeHost: PeerExchangeHost = {
    isAuthenticated: connection => this.tracked.has(connection.id),
    pointsToAdvertise: () => this.pointBook.listKnownPoints({ ignorePrivate: true, size: 50, ipOnly: true }).map(p => p.address),
    onSwapRequest: (connection, proposal) => this.swaps.answer(connection, proposal),
    onDisconnect: connection => { void this.disconnect(connection.id) },
    onMisbehaviour: (connection, kind, detail) => {
      const t = this.tracked.get(connection.id)
      if (t !== undefined) this.penalize(t.peer.tezosPeerId, kind, detail)
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
  async start (): Promise<void> {
    const node = this.attached()
    for (const ma of node.listenAddresses()) {
      try { this.pointBook.markSelf(pointFromMultiaddr(ma)) } catch { /* not a TCP point */ }
    }
    this.started = true
    if (this.dns !== undefined) {
      // The first resolution runs alongside maintenance; its points wake maintenance when they arrive.
      void this.dns.start().catch(() => {})
    }
    this.maintenance.start()
  }

  /** Before libp2p stops: no new dials or resolutions. */
  async stop (): Promise<void> {
    this.started = false
    await Promise.all([this.maintenance.stop(), this.dns?.stop()])
  }

  /** After libp2p stopped (its connections are closed): the last write of the peer state. */
  async afterStop (): Promise<void> {
    await this.journal?.close()
  }

  // --- connection events (wired to the node's events) ----------------------------------------------

  onAuthenticated (peer: AuthenticatedPeer): void {
    const t: Tracked = { peer, points: new Set() }
    this.tracked.set(peer.connectionId, t)
    const address = this.observedPoint(peer)
    if (address !== undefined) {
      const key = pointKey(address)
      let point = this.pointBook.get(key)
      // A private node's address is never recorded from its own connection: nothing to leak.
      if (point === undefined && !(peer.direction === 'inbound' && peer.metadata.privateNode)) {
        point = this.pointBook.register(address)
        if (point !== undefined) this.discovered(point.key, 'connection', false)
      }
      if (point !== undefined) {
        if (point.expectedPeerId === undefined || point.expectedPeerId === peer.tezosPeerId) {
          this.associate(t, point.key)
          if (point.trusted && (peer.direction === 'outbound' || point.expectedPeerId !== undefined)) this.learnTrusted(peer)
        }
      }
    }
    this.journal?.markDirty()
    if (this.tracked.size >= this.limits.maxConnections) this.maintenance.trigger('too-many')
    this.maintenance.newContact()
  }

  onDisconnected (peer: AuthenticatedPeer): void {
    const t = this.tracked.get(peer.connectionId)
    if (t === undefined) return
    this.tracked.delete(peer.connectionId)
    for (const key of t.points) {
      const p = this.pointBook.get(key)
      if (p?.currentPeerId === peer.tezosPeerId) this.pointBook.setDisconnected(key)
    }
    this.journal?.markDirty()
    if (this.started && this.tracked.size < this.limits.minConnections) this.maintenance.trigger('too-few')
  }

  onHandshakeFailed (failure: HandshakeFailure): void {
    this.metrics.handshakeFailures.inc({ reason: failure.error.name })
    if (failure.error instanceof RejectedByPeerError && failure.error.points.length > 0) {
      const addresses: PointAddress[] = []
      for (const text of failure.error.points) {
        try { addresses.push(fromOctezPointString(text)) } catch { /* a Nack point is checked by its codec only; skip bad ones */ }
      }
      if (this.registerFromPeers(addresses, 'nack').some(p => p !== undefined)) this.maintenance.newContact()
    }
  }

  // --- actions --------------------------------------------------------------------------------------

  /**
   * Records a fault of a peer (by Tezos peer id or libp2p PeerId). Below the score threshold the
   * peer is disconnected and greylisted (IP and ids), unless it is trusted. Returns the verdict, or
   * undefined for a peer neither connected nor given by its Tezos id.
   */
  penalize (peer: string | PeerId, kind: Misbehaviour, detail?: string): ScoreVerdict | undefined {
    const connected = this.node?.peers.get(peer)
    const tezosPeerId = connected?.tezosPeerId ?? (typeof peer === 'string' && peer.startsWith('id') ? peer : undefined)
    if (tezosPeerId === undefined) return undefined
    const verdict = this.scores.penalise(tezosPeerId, kind)
    this.metrics.penalties.inc({ kind })
    this.journal?.markDirty()
    this.log.info({ tezosPeerId, kind, detail, score: verdict.score }, 'peer penalised')
    this.init.emit('peer:penalized', { ...verdict, kind, ...(detail !== undefined ? { detail } : {}) })
    if (verdict.action === 'disconnect-and-greylist') {
      const peers = this.node?.peers.list().filter(p => p.tezosPeerId === tezosPeerId) ?? []
      if (peers.some(p => this.isTrustedPeer(p))) {
        this.log.warn({ tezosPeerId, kind }, 'trusted peer below the score threshold: kept (ban it to refuse it)')
        return verdict
      }
      this.metrics.greylistings.inc()
      this.greylist.greylist({ ip: peers[0]?.remoteIp, peers: [tezosPeerId, ...peers.map(p => p.libp2pPeerId)] }, `score: ${kind}`)
      for (const p of peers) void this.disconnect(p.connectionId)
    }
    return verdict
  }

  /** Bans an IP or a peer id (Tezos or libp2p) and closes its connections. */
  ban (target: string | PeerId, reason?: string): BanRecord {
    const record = this.banList.ban(target, reason)
    for (const t of this.tracked.values()) {
      const p = t.peer
      if (p.remoteIp === record.key || p.tezosPeerId === record.key || p.libp2pPeerId.toString() === record.key) void this.disconnect(p.connectionId)
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

  /** Asks for a maintenance pass now (Octez's RPC `maintain`). */
  maintain (): void {
    this.maintenance.trigger('request')
  }

  /** Authenticated connections by direction. */
  directionCounts (): { inbound: number, outbound: number } {
    let inbound = 0
    for (const t of this.tracked.values()) if (t.peer.direction === 'inbound') inbound++
    return { inbound, outbound: this.tracked.size - inbound }
  }

  /** Whether a connected peer is trusted: met on a trusted point, or pinned by one. */
  isTrustedPeer (peer: AuthenticatedPeer): boolean {
    if (this.isTrustedId(peer.tezosPeerId) || this.isTrustedId(peer.libp2pPeerId.toString())) return true
    const t = this.tracked.get(peer.connectionId)
    return t !== undefined && [...t.points].some(k => this.pointBook.get(k)?.trusted === true && peer.direction === 'outbound')
  }

  /** Flushes points and scores to the store now (they are otherwise written every `persistIntervalMs`). */
  async persist (): Promise<void> {
    await this.journal?.flush()
  }

  // --- internals ------------------------------------------------------------------------------------

  /**
   * Dials a point for maintenance or a swap; true once authenticated. A failure lengthens the
   * point's back-off; our own address is remembered and never dialled again.
   */
  private async connect (point: PointInfo, signal: AbortSignal): Promise<boolean> {
    const node = this.attached()
    const key = point.key
    if (!this.started || this.pointBook.get(key)?.state !== 'disconnected') return false
    this.pointBook.setRequested(key)
    let peer: AuthenticatedPeer
    try {
      const timeout = AbortSignal.timeout(this.limits.connectionTimeoutMs + this.limits.authenticationTimeoutMs)
      peer = await node.dial(pointToMultiaddr(point.address), { signal: AbortSignal.any([signal, timeout]) })
    } catch (err) {
      if (this.pointBook.get(key)?.state === 'requested') this.pointBook.setDisconnected(key)
      if (err instanceof SelfConnectionError) this.pointBook.markSelf(point.address)
      this.metrics.dials.inc({ result: 'failed' })
      this.log.debug({ point: key, err: (err as Error).message }, 'dial failed')
      return false
    }
    this.metrics.dials.inc({ result: 'ok' })
    const t = this.tracked.get(peer.connectionId)
    // A DNS point: the connection was recorded under the address it resolved to; it runs this point too.
    if (this.pointBook.get(key)?.state === 'requested') {
      if (t === undefined) { this.pointBook.setDisconnected(key); return false }
      if (point.expectedPeerId !== undefined && point.expectedPeerId !== peer.tezosPeerId) {
        this.pointBook.setDisconnected(key)
        if (peer.remoteIp !== undefined) this.greylist.greylistIp(peer.remoteIp, 'Identity_check_failure')
        await this.disconnect(peer.connectionId)
        return false
      }
      this.associate(t, key)
    }
    if (point.trusted) this.learnTrusted(peer)
    return true
  }

  private async disconnect (connectionId: string): Promise<void> {
    const connection = this.connectionById(connectionId)
    if (connection === undefined) return
    try {
      await connection.close({ signal: AbortSignal.timeout(2000) })
    } catch (err) {
      connection.abort(err as Error)
    }
  }

  /** Octez `ask_for_more_contacts`: Bootstrap to every connected non-private peer, and a DNS refresh. */
  private async askForMoreContacts (signal: AbortSignal): Promise<void> {
    const asks: Array<Promise<unknown>> = []
    if (!this.init.privateMode && !this.init.disablePeerDiscovery) {
      for (const t of this.tracked.values()) {
        if (t.peer.metadata.privateNode) continue
        const connection = this.connectionById(t.peer.connectionId)
        if (connection === undefined) continue
        asks.push(this.attached().exchange.requestPoints(connection).then(points => {
          if (!signal.aborted && this.registerFromPeers(points, 'advertise').some(p => p !== undefined)) this.maintenance.newContact()
        }).catch((err: Error) => { this.log.debug({ err: err.message }, 'Bootstrap got no answer') }))
      }
    }
    if (this.dns !== undefined) asks.push(this.dns.refresh().catch(() => {}))
    await Promise.all(asks)
  }

  /** Points heard from peers (Advertise, Nack, swap): registered unless private mode or discovery is off. */
  private registerFromPeers (addresses: readonly PointAddress[], source: PointSource): Array<PointInfo | undefined> {
    if (this.init.privateMode || this.init.disablePeerDiscovery) return addresses.map(() => undefined)
    return addresses.map(a => {
      const key = pointKey(a)
      const known = this.pointBook.get(key)
      if (known !== undefined) return known
      // A heard address never carries a Tezos pin: only configuration may pin.
      const p = this.pointBook.register({ hostKind: a.hostKind, host: a.host, port: a.port, ...(a.libp2pPeerId !== undefined ? { libp2pPeerId: a.libp2pPeerId } : {}) })
      if (p !== undefined) this.discovered(p.key, source, false)
      return p
    })
  }

  private discovered (key: string, source: PointSource, trusted: boolean): void {
    this.metrics.pointsDiscovered.inc({ source })
    this.init.emit('point:discovered', { key, source, trusted })
  }

  /** Marks the point as run by this connection (Octez: accepted, then running). */
  private associate (t: Tracked, key: string): void {
    const p = this.pointBook.get(key)
    if (p === undefined || (p.state !== 'disconnected' && p.state !== 'requested')) return
    this.pointBook.setAccepted(key, t.peer.tezosPeerId)
    this.pointBook.setRunning(key, t.peer.tezosPeerId)
    this.pointBook.setPrivate(key, t.peer.metadata.privateNode)
    t.points.add(key)
  }

  private learnTrusted (peer: AuthenticatedPeer): void {
    this.learnedTrusted.add(peer.tezosPeerId)
    this.learnedTrusted.add(peer.libp2pPeerId.toString())
  }

  /** The point a connection shows: the dialled `ip:port`, or the remote IP with its advertised port. */
  private observedPoint (peer: AuthenticatedPeer): PointAddress | undefined {
    if (peer.remoteIp === undefined) return undefined
    const ip = normaliseIpAddress(peer.remoteIp)
    if (ip === undefined) return undefined
    const port = peer.direction === 'outbound' ? tcpPortOfMultiaddr(peer.remoteAddress) : peer.advertisedPort
    if (port === undefined || port === 0) return undefined
    return { hostKind: ip.kind, host: ip.address, port }
  }

  /** The point of a connection that may be shared (swap): known to be public. */
  private publicPointOf (t: Tracked): PointAddress | undefined {
    for (const key of t.points) {
      const p = this.pointBook.get(key)
      if (p !== undefined && p.knownPublic && isIpPoint(p.address)) return p.address
    }
    return undefined
  }

  private pointAt (ip: string, port: number): PointInfo | undefined {
    const a = normaliseIpAddress(ip)
    return a === undefined ? undefined : this.pointBook.get(pointKey({ hostKind: a.kind, host: a.address, port }))
  }

  private isTrustedId (id: string): boolean {
    if (this.learnedTrusted.has(id)) return true
    return this.pointBook.all().some(p => p.trusted && (p.expectedPeerId === id || p.libp2pPeerId === id))
  }

  /** During the handshake: is the remote a trusted peer or on a trusted point (pins respected)? */
  private isTrustedRemote (tezosPeerId: string, advertisedPort: number, connection: Connection): boolean {
    if (this.isTrustedId(tezosPeerId) || this.isTrustedId(connection.remotePeer.toString())) return true
    const ip = ipOfMultiaddr(connection.remoteAddr)
    const port = connection.direction === 'outbound' ? tcpPortOfMultiaddr(connection.remoteAddr) : advertisedPort
    if (ip === undefined || port === undefined || port === 0) return false
    const point = this.pointAt(ip, port)
    return point?.trusted === true && (point.expectedPeerId === undefined || point.expectedPeerId === tezosPeerId)
  }

  /** The point book's ban predicate: bans always; the greylist unless the point is trusted. */
  private pointRefused (p: PointInfo): boolean {
    const keys = [isIpPoint(p.address) ? p.address.host : undefined, p.expectedPeerId, p.libp2pPeerId, p.lastEstablishedConnection?.peerId]
      .filter((k): k is string => k !== undefined && k !== '')
    if (this.banList.size > 0 && keys.some(k => banTargetOf(k) !== undefined && this.banList.isBanned(k))) return true
    if (p.trusted || !this.greylist.mayContainEntries) return false
    return keys.some(k => this.greylist.isGreylisted(k))
  }

  private connectionById (id: string): Connection | undefined {
    return this.node?.connections().find(c => c.id === id)
  }

  private attached (): ManagedNode {
    if (this.node === undefined) throw new Error('the connection manager is not attached to a node yet')
    return this.node
  }
}
