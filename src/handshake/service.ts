import type { Connection, PeerId, PeerStore, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Identity } from '../identity/identity.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import { makePowTarget } from '../identity/pow.ts'
import { ipOfMultiaddr, withCopiedValues } from '../net/multiaddr.ts'
import type { ConnectionMetadata } from '../wire/metadata.ts'
import { ipPoint, toOctezPointString } from '../net/point.ts'
import { ConnectionAdmission, type AdmissionHooks } from './admission.ts'
import { authenticate } from './authenticate.ts'
import { AuthenticatedPeers, type AuthenticatedPeer } from './authenticated-peers.ts'
import { HandshakeClosedError, HandshakeProtocolError, SelfConnectionError } from './errors.ts'
import { closeAfterFailure, pendingConnection, type PendingConnection } from './pending-connection.ts'
import type { LocalVersions } from './versions.ts'
import { AuthenticatedPeerTags } from './peer-store-tags.ts'

export const HANDSHAKE_PROTOCOL = '/tzp2p/handshake/1.0.0'
/** Octez `authentication_timeout`. */
export const DEFAULT_AUTHENTICATION_TIMEOUT_MS = 5000
export { AUTHENTICATED_TAG, TEZOS_PEER_ID_METADATA } from './peer-store-tags.ts'

/** Why a connection failed to authenticate, as reported to listeners. */
export interface HandshakeFailure {
  libp2pPeerId: PeerId
  remoteAddress: string
  direction: 'inbound' | 'outbound'
  /** The Tezos peer id the remote claimed, once its connection message was read. */
  tezosPeerId?: string
  error: Error
  /** Whether the peer policy greylisted the remote IP or peer ids for it. */
  greylisted: boolean
}

/** Callbacks through which the service reports to the node (which turns them into events). */
export interface HandshakeListener {
  authenticated: (peer: AuthenticatedPeer) => void
  disconnected: (peer: AuthenticatedPeer) => void
  failed: (failure: HandshakeFailure) => void
}

export interface HandshakeInit {
  identity: Identity
  /** Difficulty demanded from every remote (Octez `p2p.expected-proof-of-work`). */
  expectedPow: number
  versions: LocalVersions
  metadata: ConnectionMetadata
  /** Octez `authentication-timeout`, in milliseconds. */
  authenticationTimeoutMs?: number
  /** Authenticated connections at which further ones are answered Too_many_connections. */
  maxConnections: number
  /**
   * Open libp2p connections (authenticated or not) above which authenticated peers are tagged in
   * the peer store (`AuthenticatedPeerTags`); default `maxConnections`.
   */
  tagAboveConnections?: number
  /** Port announced in our connection messages (0 = none); read when each handshake starts. */
  advertisedPort: () => number
  /** Points handed to rejected peers; the default lists authenticated, non-private peers. */
  knownPoints?: () => string[]
  /** The node's admission rules (see `AdmissionHooks`): bans, greylist, pins, private mode, shares. */
  hooks?: AdmissionHooks
  /** The peer policy: a failure that is the remote's fault is reported there (it greylists). */
  report: ReportPeer
  logger: Logger
  listener?: Partial<HandshakeListener>
  maxInboundStreams?: number
}

/** The libp2p components the service uses (a structural subset of libp2p's own). */
export interface HandshakeComponents {
  peerId: PeerId
  registrar: {
    handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
  events: EventTarget
  peerStore: PeerStore
}

/**
 * `/tzp2p/handshake/1.0.0` as a libp2p service: the dialer opens the handshake stream as soon as a
 * connection opens, the listener answers, and a connection that is not authenticated within the
 * timeout is closed. It owns the record of authenticated peers that every other tzp2p protocol
 * checks (see `authenticatedOnly`), and tags them in the peer store when that can matter
 * (`AuthenticatedPeerTags`).
 */
export class HandshakeService implements Startable {
  readonly peers = new AuthenticatedPeers()
  /** Points found to be ourselves (Octez `Myself`): never worth dialling again. */
  readonly ownPoints = new Set<string>()

  private readonly components: HandshakeComponents
  private readonly init: HandshakeInit
  private readonly powTarget: bigint
  private readonly timeoutMs: number
  private readonly log: Logger
  private readonly pending = new Map<string, PendingConnection>()
  private readonly admission: ConnectionAdmission
  private running = false
  private readonly localPeerIdBytes: Uint8Array
  private readonly tags: AuthenticatedPeerTags

  constructor (components: HandshakeComponents, init: HandshakeInit) {
    this.components = components
    this.init = init
    this.powTarget = makePowTarget(init.expectedPow)
    this.timeoutMs = init.authenticationTimeoutMs ?? DEFAULT_AUTHENTICATION_TIMEOUT_MS
    if (!(this.timeoutMs > 0)) throw new RangeError(`authentication timeout must be positive, got ${this.timeoutMs}`)
    this.log = init.logger.child({ module: 'handshake' })
    this.localPeerIdBytes = components.peerId.toMultihash().bytes
    this.admission = new ConnectionAdmission(this.peers, init)
    this.tags = new AuthenticatedPeerTags(components.peerStore, this.peers, init.tagAboveConnections ?? init.maxConnections, this.log)
  }

  readonly [Symbol.toStringTag] = 'tzp2p/handshake'

  async start (): Promise<void> {
    await this.components.registrar.handle(HANDSHAKE_PROTOCOL, this.handleStream, {
      // One handshake per connection; a second stream is refused by the handler anyway.
      maxInboundStreams: this.init.maxInboundStreams ?? 1,
      maxOutboundStreams: 1
    })
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
    this.components.events.addEventListener('connection:close', this.onConnectionClose)
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
    await this.components.registrar.unhandle(HANDSHAKE_PROTOCOL)
    for (const p of this.pending.values()) this.settleFailure(p, new HandshakeClosedError('node stopping'), false)
  }

  /** libp2p closes connections while services stop; their close events are handled until here. */
  afterStop (): void {
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    this.components.events.removeEventListener('connection:close', this.onConnectionClose)
    for (const p of this.pending.values()) clearTimeout(p.timer)
    this.pending.clear()
    for (const peer of this.peers.list()) {
      this.peers.removeConnection(peer.connectionId)
      this.notify('disconnected', peer)
    }
    this.admission.clear()
    this.tags.clear()
  }

  isAuthenticated (connection: Pick<Connection, 'id'>): boolean {
    return this.peers.isAuthenticated(connection)
  }

  /**
   * Resolves when this connection is authenticated, rejects with the `HandshakeError` that ended it.
   * Connections this service has not seen (another node's, or already forgotten) reject at once.
   */
  async authenticated (connection: Connection): Promise<AuthenticatedPeer> {
    const done = this.peers.ofConnection(connection)
    if (done !== undefined) return done
    const p = this.pending.get(connection.id) ?? (connection.status === 'open' ? this.track(connection) : undefined)
    if (p === undefined) throw new HandshakeClosedError(`connection ${connection.id} is ${connection.status}`)
    return await p.result.promise
  }

  private readonly onConnectionOpen = (evt: Event): void => {
    const connection = (evt as CustomEvent<Connection>).detail
    this.tags.connectionOpened()
    const p = this.track(connection)
    if (connection.direction === 'outbound' && !p.started) void this.runDialer(p)
  }

  private readonly onConnectionClose = (evt: Event): void => {
    const connection = (evt as CustomEvent<Connection>).detail
    this.tags.connectionClosed()
    const p = this.pending.get(connection.id)
    // A running handshake may still hold the peer's last chunk (a Nack sent just before it closed):
    // it settles itself when its reads drain or fail, with the deadline as a backstop.
    if (p !== undefined && !p.started) this.settleFailure(p, new HandshakeClosedError('the connection closed'), false)
    const peer = this.peers.removeConnection(connection.id)
    if (peer !== undefined) {
      if (this.log.isLevelEnabled('info')) {
        this.log.info({ tezosPeerId: peer.tezosPeerId, libp2pPeerId: peer.libp2pPeerId.toString() }, 'peer disconnected')
      }
      if (this.running) this.tags.disconnected(peer.libp2pPeerId)
      this.notify('disconnected', peer)
    }
  }

  private track (connection: Connection): PendingConnection {
    const existing = this.pending.get(connection.id)
    if (existing !== undefined) return existing
    const p = pendingConnection(connection, this.timeoutMs, (q, err) => { this.fail(q, err) })
    this.pending.set(connection.id, p)
    return p
  }

  private async runDialer (p: PendingConnection): Promise<void> {
    p.started = true
    let stream: Stream
    try {
      stream = await p.connection.newStream(HANDSHAKE_PROTOCOL, { signal: p.deadline.signal })
    } catch (err) {
      const reason = p.deadline.signal.aborted
        ? p.deadline.signal.reason as Error
        : new HandshakeProtocolError(`cannot open ${HANDSHAKE_PROTOCOL}: ${(err as Error).message}`)
      this.fail(p, reason)
      return
    }
    await this.run(p, stream)
  }

  private readonly handleStream = async (stream: Stream, connection: Connection): Promise<void> => {
    if (connection.direction === 'outbound') {
      // The dialer speaks first on its own stream; a handshake offered by the listener is refused.
      stream.abort(new HandshakeProtocolError('only the dialling side opens the handshake stream'))
      return
    }
    const p = this.pending.get(connection.id) ?? (this.peers.isAuthenticated(connection) ? undefined : this.track(connection))
    if (p === undefined || p.started || p.settled) {
      stream.abort(new HandshakeProtocolError('one handshake per connection'))
      return
    }
    p.started = true
    await this.run(p, stream)
  }

  private async run (p: PendingConnection, stream: Stream): Promise<void> {
    const { connection } = p
    const incoming = connection.direction === 'inbound'
    try {
      const result = await authenticate({
        stream,
        signal: p.deadline.signal,
        incoming,
        localLibp2pPeerId: this.localPeerIdBytes,
        remoteLibp2pPeerId: connection.remotePeer.toMultihash().bytes,
        remoteAddress: connection.remoteAddr,
        local: {
          identity: this.init.identity,
          powTarget: this.powTarget,
          expectedPow: this.init.expectedPow,
          versions: this.init.versions,
          metadata: this.init.metadata,
          advertisedPort: this.init.advertisedPort()
        },
        policy: this.admission.policyFor(connection),
        onIdentified: (id, proven) => { p.tezosPeerId = id; p.tezosPeerIdProven = proven }
      })
      if (p.settled) return
      // Kept for the connection's life by libp2p and by the peer: one flat copy of its strings
      // instead of the per-character tree libp2p's parse left (src/net/multiaddr.ts).
      connection.remoteAddr = withCopiedValues(connection.remoteAddr)
      const peer: AuthenticatedPeer = {
        tezosPeerId: result.tezosPeerId,
        publicKey: result.publicKey,
        libp2pPeerId: connection.remotePeer,
        connectionId: connection.id,
        direction: connection.direction,
        remoteAddress: connection.remoteAddr,
        remoteIp: ipOfMultiaddr(connection.remoteAddr),
        advertisedPort: result.advertisedPort,
        metadata: result.metadata,
        version: result.version,
        authenticatedAt: Date.now()
      }
      this.succeed(p, peer)
      // The handshake stream has done its job; application protocols open their own streams.
      stream.close().catch(() => { stream.abort(new HandshakeClosedError('handshake stream close failed')) })
    } catch (err) {
      this.fail(p, err instanceof Error ? err : new Error(String(err)), stream)
    } finally {
      this.admission.release(connection, p.tezosPeerId)
    }
  }

  private succeed (p: PendingConnection, peer: AuthenticatedPeer): void {
    p.settled = true
    clearTimeout(p.timer)
    this.pending.delete(p.connection.id)
    if (p.connection.status !== 'open') {
      p.result.reject(new HandshakeClosedError('the connection closed as the handshake ended'))
      return
    }
    this.peers.add(peer)
    if (this.log.isLevelEnabled('info')) {
      this.log.info({
        tezosPeerId: peer.tezosPeerId, libp2pPeerId: peer.libp2pPeerId.toString(), direction: peer.direction,
        remote: peer.remoteAddress.toString()
      }, 'peer authenticated')
    }
    this.tags.authenticated(peer)
    p.result.resolve(peer)
    this.notify('authenticated', peer)
  }

  /** Ends a connection that failed its handshake: a fault of the remote is reported, then the connection closes. */
  private fail (p: PendingConnection, error: Error, stream?: Stream): void {
    if (p.settled) return
    const { connection } = p
    const kind = misbehaviourOf(error)
    let greylisted = false
    if (kind !== undefined) {
      // A claimed Tezos id is the peer's only once a chunk sealed under its key opened.
      const ip = ipOfMultiaddr(connection.remoteAddr)
      greylisted = this.init.report({
        libp2pPeerId: connection.remotePeer,
        ...(ip === undefined ? {} : { ip }),
        ...(p.tezosPeerId !== undefined && p.tezosPeerIdProven ? { tezosPeerId: p.tezosPeerId } : {})
      }, kind, `handshake: ${error.message}`).greylisted
    }
    if (error instanceof SelfConnectionError) this.rememberOwnPoint(connection)
    this.log[greylisted ? 'warn' : 'debug']({
      remote: connection.remoteAddr.toString(), direction: connection.direction, tezosPeerId: p.tezosPeerId,
      err: error.message, greylisted
    }, 'handshake failed')
    this.settleFailure(p, error, greylisted)
    void closeAfterFailure(connection, error, stream)
  }

  private settleFailure (p: PendingConnection, error: Error, greylisted: boolean): void {
    if (p.settled) return
    p.settled = true
    clearTimeout(p.timer)
    p.deadline.abort(error)
    this.pending.delete(p.connection.id)
    p.result.reject(error)
    const { connection } = p
    this.notify('failed', {
      libp2pPeerId: connection.remotePeer,
      remoteAddress: connection.remoteAddr.toString(),
      direction: connection.direction,
      tezosPeerId: p.tezosPeerId,
      error,
      greylisted
    })
  }

  private rememberOwnPoint (connection: Connection): void {
    const ip = ipOfMultiaddr(connection.remoteAddr)
    const tcp = connection.remoteAddr.getComponents().find(c => c.name === 'tcp')?.value
    if (ip !== undefined && tcp !== undefined && connection.direction === 'outbound') {
      this.ownPoints.add(toOctezPointString(ipPoint(ip, Number(tcp))))
    }
  }

  private notify<K extends keyof HandshakeListener> (kind: K, value: Parameters<HandshakeListener[K]>[0]): void {
    const fn = this.init.listener?.[kind] as ((v: typeof value) => void) | undefined
    if (fn === undefined) return
    try {
      fn(value)
    } catch (err) {
      // A listener's bug must not break the handshake of other connections.
      this.log.error({ err: (err as Error).message, event: kind }, 'handshake listener threw')
    }
  }
}

/** The libp2p service factory: `services: { handshake: handshake(init) }`. */
export function handshake (init: HandshakeInit): (components: HandshakeComponents) => HandshakeService {
  return (components) => new HandshakeService(components, init)
}
