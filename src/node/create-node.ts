import { EventEmitter } from 'node:events'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { pino, type Logger } from 'pino'
import type { AbortOptions, PeerId, PrivateKey } from '@libp2p/interface'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import { checkIdentity, type Identity } from '../identity/identity.ts'
import { loadOrCreateNodeKeys } from '../identity/node-keys.ts'
import { BanList } from '../peers/bans.ts'
import { Greylist } from '../peers/greylist.ts'
import { createConnectionGater, ipOfMultiaddr } from '../peers/gater.ts'
import { formatPoint } from '../wire/point.ts'
import { handshake, type HandshakeFailure, type HandshakeService } from '../handshake/service.ts'
import type { AuthenticatedPeer, AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import { SelfConnectionError } from '../handshake/errors.ts'
import { resolveNodeOptions, type NodeOptions } from './options.ts'

/** Events a node emits (Node.js `EventEmitter` style: `node.on('peer:authenticated', peer => …)`). */
export interface NodeEventMap {
  'peer:authenticated': [AuthenticatedPeer]
  'peer:disconnected': [AuthenticatedPeer]
  'handshake:failed': [HandshakeFailure]
}

export interface NodeServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  handshake: HandshakeService
}

export interface DialTezosOptions extends AbortOptions {
  /** Open a new connection even if one to this peer exists (libp2p `force`). */
  force?: boolean
}

/** A tzp2p node: one libp2p host with the Tezos handshake in front of every tzp2p protocol. */
export interface TzNode {
  readonly libp2p: Libp2p<NodeServices>
  readonly identity: Identity
  /** The libp2p PeerId (from the Ed25519 key). */
  readonly peerId: PeerId
  /** Authenticated connections (Tezos peer id, libp2p PeerId, metadata, versions, …). */
  readonly peers: AuthenticatedPeers
  readonly greylist: Greylist
  readonly banList: BanList
  /** The handshake service; `authenticatedOnly(node.handshake, handler)` guards other protocols. */
  readonly handshake: HandshakeService
  readonly events: EventEmitter<NodeEventMap>
  readonly logger: Logger
  start: () => Promise<void>
  stop: () => Promise<void>
  /** Dials a multiaddr and resolves once the Tezos handshake succeeded both ways. */
  dial: (address: Multiaddr | string, options?: DialTezosOptions) => Promise<AuthenticatedPeer>
  /** Addresses we listen on, with `/p2p/<peer id>`. */
  getMultiaddrs: () => Multiaddr[]
}

function firstTcpPort (addresses: Multiaddr[]): number {
  for (const ma of addresses) {
    const tcpPort = ma.getComponents().find(c => c.name === 'tcp')?.value
    if (tcpPort !== undefined && Number(tcpPort) > 0) return Number(tcpPort)
  }
  return 0
}

/** `ip:port` of a dial target, to compare with the points found to be ourselves. */
function pointOf (ma: Multiaddr): string | undefined {
  const ip = ipOfMultiaddr(ma)
  const port = ma.getComponents().find(c => c.name === 'tcp')?.value
  if (ip === undefined || port === undefined) return undefined
  try {
    return formatPoint({ address: ip, port: Number(port) })
  } catch {
    return undefined
  }
}

async function resolveKeys (options: NodeOptions, expectedPow: number): Promise<{ identity: Identity, privateKey: PrivateKey }> {
  if (options.dataDir !== undefined) {
    // Octez generates the identity on first run at the expected difficulty; so do we.
    const keys = await loadOrCreateNodeKeys(options.dataDir, { expectedPow })
    return { identity: keys.identity, privateKey: keys.libp2pKey }
  }
  // resolveNodeOptions already required both when there is no data dir.
  return { identity: options.identity as Identity, privateKey: options.privateKey as PrivateKey }
}

/**
 * Builds the node's one libp2p host: TCP, Noise, yamux (mplex also offered), identify, ping, the
 * greylist-backed connection gater and the Tezos handshake service. Call `start()` to listen.
 */
export async function createNode (options: NodeOptions): Promise<TzNode> {
  const opts = resolveNodeOptions(options)
  const { identity, privateKey } = await resolveKeys(options, opts.expectedPow)
  // Octez refuses to run with an identity below its own expected difficulty.
  checkIdentity(identity, { expectedPow: opts.expectedPow })

  const logger = (options.logger ?? pino({ level: 'silent' })).child({ tezosPeerId: identity.peerId })
  const greylist = new Greylist(options.greylist)
  const banList = new BanList()
  const events = new EventEmitter<NodeEventMap>()
  const emit = <K extends keyof NodeEventMap>(name: K, ...args: NodeEventMap[K]): void => {
    try {
      (events.emit as (n: K, ...a: NodeEventMap[K]) => boolean)(name, ...args)
    } catch (err) {
      logger.error({ err: (err as Error).message, event: name }, 'event listener threw')
    }
  }
  let advertisedPort = opts.advertisedPort ?? 0

  const libp2p = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen: opts.listen, announce: opts.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    connectionGater: createConnectionGater({ greylist, banList }),
    connectionManager: {
      // A safety net above tzp2p's own limit: tzp2p decides whom to refuse (with a Nack).
      maxConnections: opts.maxConnections * 2 + 16,
      maxIncomingPendingConnections: opts.maxIncomingPendingConnections,
      inboundConnectionThreshold: opts.inboundConnectionsPerIpPerSecond
    },
    nodeInfo: { name: 'tzp2p', version: '0.1.0' },
    services: {
      // Identify only authenticated peers: an unauthenticated one must not cost us its signed
      // peer record's verification and peer-store writes. Started below, after the handshake.
      identify: identify({ runOnConnectionOpen: false }),
      ping: ping(),
      handshake: handshake({
        identity,
        expectedPow: opts.expectedPow,
        versions: {
          chainName: opts.chainName,
          distributedDbVersions: opts.distributedDbVersions,
          p2pVersions: opts.p2pVersions
        },
        metadata: { disableMempool: opts.disableMempool, privateNode: opts.privateMode },
        authenticationTimeoutMs: opts.authenticationTimeoutMs,
        maxConnections: opts.maxConnections,
        advertisedPort: () => advertisedPort,
        knownPoints: options.knownPoints,
        acl: { greylist, banList },
        logger,
        listener: {
          authenticated: peer => { emit('peer:authenticated', peer) },
          disconnected: peer => { emit('peer:disconnected', peer) },
          failed: failure => { emit('handshake:failed', failure) }
        }
      })
    }
  })
  const service = libp2p.services.handshake
  events.on('peer:authenticated', peer => {
    const connection = libp2p.getConnections(peer.libp2pPeerId).find(c => c.id === peer.connectionId)
    if (connection === undefined) return
    libp2p.services.identify.identify(connection).catch((err: Error) => {
      logger.debug({ err: err.message, libp2pPeerId: peer.libp2pPeerId.toString() }, 'identify failed')
    })
  })

  return {
    libp2p,
    identity,
    peerId: libp2p.peerId,
    peers: service.peers,
    greylist,
    banList,
    handshake: service,
    events,
    logger,
    async start () {
      await libp2p.start()
      if (opts.advertisedPort === undefined) advertisedPort = firstTcpPort(libp2p.getMultiaddrs())
      logger.info({ libp2pPeerId: libp2p.peerId.toString(), addresses: libp2p.getMultiaddrs().map(String) }, 'node started')
    },
    async stop () {
      await libp2p.stop()
      logger.info('node stopped')
    },
    async dial (address, dialOptions = {}) {
      const ma = typeof address === 'string' ? multiaddr(address) : address
      const point = pointOf(ma)
      if (point !== undefined && service.ownPoints.has(point)) throw new SelfConnectionError(point)
      const connection = await libp2p.dial(ma, dialOptions)
      return await service.authenticated(connection)
    },
    getMultiaddrs: () => libp2p.getMultiaddrs()
  }
}
