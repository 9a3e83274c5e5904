import type { Logger } from 'pino'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { GossipService } from '../gossip/service.ts'
import { SelfConnectionError } from '../handshake/errors.ts'
import type { Identity } from '../identity/identity.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import { normaliseIp } from '../peers/greylist.ts'
import { dialOctez } from '../octez/dial.ts'
import { listenOctez, type OctezIncomingFailure, type OctezListener } from '../octez/listen.ts'
import type { OctezConnection } from '../octez/connection.ts'
import { decideWithPolicy } from '../octez/options.ts'
import type { OctezRemote } from '../octez/handshake.ts'
import type { SyncService } from '../sync/service.ts'
import type { ConnectionMetadata } from '../wire/metadata.ts'
import type { NackMotive } from '../wire/ack.ts'
import type { NetworkPeers } from './network-peers.ts'
import { OctezPeer } from './octez-peer.ts'
import { OctezPoints, type OctezPointInfo } from './octez-points.ts'
import { runOctezSession } from './octez-session.ts'

/** How often trusted Octez points that are not connected are dialled again. */
const REDIAL_INTERVAL_MS = 5000

export interface OctezWireInit {
  identity: Identity
  chainName: string
  expectedPow: number
  distributedDbVersions: readonly number[]
  p2pVersions: readonly number[]
  metadata: ConnectionMetadata
  /** `--octez-net-addr`: where to listen; undefined: no listener. */
  listen?: { host: string, port: number }
  /** `--octez-peer` points (trusted), as host and port. */
  trusted: ReadonlyArray<{ host: string, port: number }>
  /** Authenticated connections on both wires at which more are refused with Too_many_connections. */
  maxConnections: number
  /** `--private-mode`: incoming connections only from the address of a trusted point, no points given out. */
  privateMode?: boolean
  /** `--disable-peer-discovery`: peer lists (Advertise, Swap, Nack points) are neither read nor sent. */
  disablePeerDiscovery?: boolean
  network: NetworkPeers
  /** Banned or greylisted (and not trusted) Tezos peer id or IP. */
  isRefused: (key: string) => boolean
  report: ReportPeer
  onConnected: (peer: OctezPeer) => void
  onClosed: (peer: OctezPeer) => void
  chain: () => ChainReader | undefined
  gossip: () => GossipService | undefined
  sync: () => SyncService | undefined
  logger: Logger
  authenticationTimeoutMs?: number
  connectionTimeoutMs?: number
}

/**
 * Octez's raw-TCP wire inside a node: the `--octez-net-addr` listener, the `--octez-peer` dials
 * (redialled while disconnected), and each authenticated connection as an `OctezPeer` in the
 * node's peer directory, read by `runOctezSession`. Admission is the libp2p handshake's policy
 * (`decideWithPolicy`): bans and greylist first, then the connection limit, which counts both
 * wires, and Already_connected for a peer id connected on either wire.
 */
export class OctezWire {
  readonly points = new OctezPoints()
  private readonly init: OctezWireInit
  private readonly log: Logger
  private listener: OctezListener | undefined
  private readonly peers = new Set<OctezPeer>()
  private readonly dialling = new Set<string>()
  private timer: ReturnType<typeof setInterval> | undefined
  private stopping = new AbortController()
  private running = false

  constructor (init: OctezWireInit) {
    this.init = init
    this.log = init.logger.child({ module: 'octez-wire' })
    for (const t of init.trusted) this.points.add(t.host, t.port, { trusted: true })
  }

  /** The address the listener is bound to, once started. */
  get listenAddress (): { host: string, port: number } | undefined {
    return this.listener === undefined ? undefined : { host: this.listener.host, port: this.listener.port }
  }

  connected (): OctezPeer[] {
    return [...this.peers]
  }

  /** Private nodes and nodes without peer discovery give out no points (Octez sends an empty Advertise). */
  private get sharesPoints (): boolean {
    return this.init.privateMode !== true && this.init.disablePeerDiscovery !== true
  }

  /** A peer met on a trusted point (`--octez-peer`): the policy never greylists or disconnects it. */
  isTrusted (peer: OctezPeer): boolean {
    return peer.point !== undefined && this.points.get(peer.point)?.trusted === true
  }

  async start (): Promise<void> {
    this.running = true
    this.stopping = new AbortController()
    const l = this.init.listen
    if (l !== undefined) {
      this.listener = await listenOctez({
        ...this.wireOptions(),
        host: l.host,
        port: l.port,
        isAddressRefused: address => this.init.isRefused(normaliseIp(address) ?? address),
        onConnection: connection => { this.accept(connection) },
        onFailure: failure => { this.incomingFailed(failure) },
        ...(this.init.authenticationTimeoutMs === undefined ? {} : { authenticationTimeoutMs: this.init.authenticationTimeoutMs })
      })
      this.log.info({ host: this.listener.host, port: this.listener.port }, 'listening on the Octez wire')
    }
    this.redial()
    this.timer = setInterval(() => { this.redial() }, REDIAL_INTERVAL_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.timer)
    this.stopping.abort(new Error('the node is stopping'))
    await this.listener?.close()
    this.listener = undefined
    await Promise.all([...this.peers].map(async p => await p.connection.close('the node is stopping', { flush: true })))
  }

  /** Trusts an Octez point (`--octez-peer`) and dials it. */
  trust (host: string, port: number): OctezPointInfo | undefined {
    const info = this.points.add(host, port, { trusted: true })
    if (this.running) this.redial()
    return info
  }

  /** Dials `host:port` on the Octez wire; resolves with the peer once authenticated. */
  async dial (host: string, port: number): Promise<OctezPeer> {
    const info = this.points.add(host, port)
    const point = info?.point ?? `${host}:${port}`
    if (this.points.own.has(point)) throw new SelfConnectionError(point)
    try {
      const connection = await dialOctez({
        ...this.wireOptions(),
        host,
        port,
        signal: this.stopping.signal,
        ...(this.init.connectionTimeoutMs === undefined ? {} : { connectionTimeoutMs: this.init.connectionTimeoutMs })
      })
      const peer = this.accept(connection, info)
      if (peer === undefined) throw new Error(`the connection to ${point} closed at once (already connected)`)
      return peer
    } catch (err) {
      // Octez's `Myself`: the point is ours, never dialled again.
      if (err instanceof SelfConnectionError) this.points.own.add(point)
      else this.points.failed(point, Date.now())
      throw err
    }
  }

  private wireOptions (): Parameters<typeof dialOctez>[0] & Parameters<typeof listenOctez>[0] {
    const i = this.init
    const options = {
      identity: i.identity,
      chainName: i.chainName,
      expectedPow: i.expectedPow,
      distributedDbVersions: i.distributedDbVersions,
      p2pVersions: i.p2pVersions,
      metadata: i.metadata,
      advertisedPort: this.listener?.port ?? i.listen?.port ?? 0,
      decide: decideWithPolicy({
        isRefused: id => i.isRefused(id),
        admit: (candidate): NackMotive | undefined => {
          // decideWithPolicy hands its policy the Octez remote it decides on.
          const remote = candidate as OctezRemote
          // Private mode, as on libp2p: an incoming peer must come from a trusted point's address.
          if (i.privateMode === true && remote.incoming && !this.points.list().some(p => p.trusted && p.host === normaliseIp(remote.address))) return 'No_motive'
          if (i.network.size >= i.maxConnections) return 'Too_many_connections'
          if (i.network.has(remote.tezosPeerId)) return 'Already_connected'
          return undefined
        },
        knownPoints: () => this.sharesPoints ? this.points.advertisable().slice(0, 50) : []
      })
    }
    return options as Parameters<typeof dialOctez>[0] & Parameters<typeof listenOctez>[0]
  }

  private redial (): void {
    if (!this.running) return
    for (const info of this.points.trustedToDial()) {
      if (this.dialling.has(info.point)) continue
      this.dialling.add(info.point)
      this.dial(info.host, info.port)
        .catch((err: Error) => { this.log.debug({ point: info.point, err: err.message }, 'Octez-wire dial failed') })
        .finally(() => { this.dialling.delete(info.point) })
    }
  }

  /** An authenticated connection becomes a peer of the node (or is closed if the peer id raced in on another). */
  private accept (connection: OctezConnection, dialled?: OctezPointInfo): OctezPeer | undefined {
    if (!this.running || this.init.network.has(connection.tezosPeerId)) {
      void connection.close('already connected')
      return undefined
    }
    const peer = new OctezPeer(connection)
    const port = connection.listeningPort
    const info = dialled ?? (port === undefined ? undefined : this.points.add(peer.remoteIp, port))
    peer.point = info?.point
    if (info !== undefined) this.points.connected(info, peer.tezosPeerId, peer.metadata.privateNode, Date.now())
    this.peers.add(peer)
    this.init.network.addOctez(peer)
    this.log.info({ peer: peer.tezosPeerId, address: `${peer.remoteIp}:${connection.remotePort}`, incoming: connection.incoming }, 'Octez-wire peer connected')
    this.init.onConnected(peer)
    void runOctezSession(peer, {
      chain: this.init.chain,
      gossip: this.init.gossip,
      sync: this.init.sync,
      tezosPeerId: this.init.identity.peerId,
      report: this.init.report,
      points: {
        advertise: to => this.sharesPoints ? this.points.advertisable(info?.point ?? `${to.remoteIp}:0`) : [],
        learn: points => { if (this.init.disablePeerDiscovery !== true) this.points.learn(points) }
      },
      logger: this.init.logger
    })
    void connection.closed.then(close => {
      this.peers.delete(peer)
      this.init.network.removeOctez(peer)
      if (info !== undefined) this.points.disconnected(info.point, Date.now())
      this.log.info({ peer: peer.tezosPeerId, by: close.by, reason: close.reason }, 'Octez-wire peer disconnected')
      this.init.onClosed(peer)
    })
    return peer
  }

  /** An incoming handshake failed: the peer's fault goes to the policy, as on the libp2p wire. */
  private incomingFailed (failure: OctezIncomingFailure): void {
    const kind = misbehaviourOf(failure.error)
    const ip = normaliseIp(failure.address) ?? failure.address
    this.log.debug({ address: `${failure.address}:${failure.port}`, err: failure.error.message }, 'Octez-wire handshake failed')
    if (kind === undefined) return
    this.init.report({ ip, ...(failure.tezosPeerId === undefined ? {} : { tezosPeerId: failure.tezosPeerId }) }, kind, `octez wire handshake: ${failure.error.message}`)
  }
}
