import { onStoreWriteFailure } from '../storage/write-failure.ts'
import { EventEmitter } from 'node:events'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { pino } from 'pino'
import type { PrivateKey } from '@libp2p/interface'
import { checkIdentity, type Identity } from '../identity/identity.ts'
import { loadOrCreateNodeKeys } from '../identity/node-keys.ts'
import { BanList } from '../peers/bans.ts'
import { Greylist } from '../peers/greylist.ts'
import { ipOfMultiaddr } from '../net/multiaddr.ts'
import { createConnectionGater, isRefused } from '../peers/gater.ts'
import { ipPoint, toOctezPointString } from '../net/point.ts'
import { handshake } from '../handshake/service.ts'
import type { AuthenticatedPeer } from '../handshake/authenticated-peers.ts'
import { SelfConnectionError } from '../handshake/errors.ts'
import { resolveNodeOptions, type NodeOptions } from './options.ts'
import { Registry } from 'prom-client'
import { openDatabase } from '../storage/database.ts'
import { peerExchange } from '../peers/exchange/index.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import { ConnectionManager, type ConnectionManagerInit } from './connection-manager.ts'
import { NodePeers } from './node-peers.ts'
import { chainNodeFields, prepareChainNode, type ChainNodeHost } from './chain-node.ts'
import { Libp2pPeerDirectory } from './libp2p-peer.ts'
import { nodeYamux } from './yamux-window.ts'
import { nodePing } from './ping-responder.ts'
import { nodeNoise } from './noise-encrypter.ts'
import { NetworkPeers, registerPeersByWire } from './network-peers.ts'
import { OctezWire } from './octez-wire.ts'
import { libp2pLogger } from './libp2p-logger.ts'
import type { DialTezosOptions, NodeEventMap, TzNode } from './tz-node.ts'

export type { DialTezosOptions, NodeEventMap, NodeServices, TzNode } from './tz-node.ts'

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
    return toOctezPointString(ipPoint(ip, Number(port)))
  } catch {
    return undefined
  }
}

/** `net.connect`'s `localAddress`, which @libp2p/tcp passes through though its type omits it. */
function sourceAddressOption (localAddress: string): TCPSocketOptions {
  const dialOpts: TCPSocketOptions & { localAddress: string } = { localAddress }
  return dialOpts
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
  const events = new EventEmitter<NodeEventMap>()
  const emit = <K extends keyof NodeEventMap>(name: K, ...args: NodeEventMap[K]): void => {
    try {
      (events.emit as (n: K, ...a: NodeEventMap[K]) => boolean)(name, ...args)
    } catch (err) {
      logger.error({ err: (err as Error).message, event: name }, 'event listener threw')
    }
  }
  let advertisedPort = opts.advertisedPort ?? 0
  const metricsRegistry = options.metricsRegistry ?? new Registry()
  const manager = opts.manageConnections
    ? new ConnectionManager({
      limits: opts.limits,
      reconnection: opts.reconnection,
      trustedPoints: opts.trustedPoints,
      bootstrapDns: options.bootstrapDns,
      dnsServers: options.dnsResolvers,
      dnsRefreshIntervalMs: options.dnsRefreshIntervalMs,
      privateMode: opts.privateMode,
      disablePeerDiscovery: opts.disablePeerDiscovery,
      greylist: options.greylist,
      scores: options.score,
      persistIntervalMs: options.persistIntervalMs,
      metricsRegistry,
      logger,
      report: (peer, kind, detail) => report(peer, kind, detail),
      // NodeEventMap extends the manager's events, so its emitter serves them.
      emit: emit as ConnectionManagerInit['emit']
    })
    : undefined
  const greylist = manager?.greylist ?? new Greylist(options.greylist)
  const banList = manager?.banList ?? new BanList()
  const nodePeers = new NodePeers({ manager, greylist, banList, score: options.score, logger, onPenalized: event => { emit('peer:penalized', event) } })
  const report: ReportPeer = nodePeers.report
  const acl = nodePeers.accessControl()

  // Octez's wire is built once libp2p exists (it shares the handshake's peer table); the handshake's admission reads it.
  const late: { octezWire?: OctezWire } = {}
  const chainNode = options.chain === undefined ? undefined : prepareChainNode(options.chain, { tezosPeerId: identity.peerId, logger, report, disableMempool: opts.disableMempool })
  const quietLogger = libp2pLogger()
  const libp2p = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen: opts.listen, announce: opts.announce },
    transports: [tcp(options.sourceAddress === undefined ? undefined : { dialOpts: sourceAddressOption(options.sourceAddress) })],
    // Noise, without the remote's decoded handshake payload kept for the connection's life (noise-encrypter.ts).
    connectionEncrypters: [nodeNoise()],
    // Window updates only when half a window is used, as hashicorp/yamux sends them (yamux-window.ts).
    // No yamux keep-alive: its pings only measure a round trip nobody reads and close nothing;
    // libp2p's connection monitor pings every connection and closes one whose ping fails.
    streamMuxers: [nodeYamux({ enableKeepAlive: false }, { onUnsupported: reason => { logger.warn({ reason }, 'yamux window updates left to the library') } }), mplex()],
    connectionGater: createConnectionGater(acl),
    connectionManager: {
      // A safety net above tzp2p's own limit: tzp2p decides whom to refuse (with a Nack).
      maxConnections: opts.maxConnections * 2 + 16,
      maxIncomingPendingConnections: opts.maxIncomingPendingConnections,
      // With a connection manager the gater applies the per-IP rate; libp2p's stays as a looser net.
      inboundConnectionThreshold: manager !== undefined ? Math.max(100, opts.inboundConnectionsPerIpPerSecond * 4) : opts.inboundConnectionsPerIpPerSecond,
      dialTimeout: opts.limits.connectionTimeoutMs
    },
    nodeInfo: { name: 'tzp2p', version: '0.1.0' },
    // No per-connection and per-stream debug loggers unless DEBUG asks for libp2p's logs.
    ...(quietLogger === undefined ? {} : { logger: quietLogger }),
    // Into the node's registry beside the tzp2p_* metrics already in it (hence preserve).
    ...(options.libp2pMetrics === true ? { metrics: prometheusMetrics({ registry: metricsRegistry, preserveExistingMetrics: true }) } : {}),
    services: {
      ...chainNode?.services(),
      // Answers identify requests but never sends one: nothing in tzp2p reads what identify stores
      // (addresses, protocols, agent), and each request costs a stream and a signed peer record on
      // both ends of every connection (protocols/handshake.md §9).
      identify: identify({ runOnConnectionOpen: false }),
      // Answered without keeping each peer's last ping stream for 10 s (ping-responder.ts).
      ping: nodePing(undefined, { onUnsupported: reason => { logger.warn({ reason }, 'ping answered by the library\'s handler') } }),
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
        knownPoints: options.knownPoints ?? manager?.knownPointsForNack,
        hooks: {
          // Banned and greylisted peers are refused by Tezos peer id too, once the handshake reveals it.
          refuse: (tezosPeerId, connection) => isRefused(acl, tezosPeerId) || manager?.admissionHooks.refuse?.(tezosPeerId, connection) === true,
          // The connection limit counts both wires, and a peer id connected on Octez's wire is already connected.
          admit: (remote, connection, pending) => {
            const onOctez = late.octezWire?.connected() ?? []
            if (onOctez.some(p => p.tezosPeerId === remote.tezosPeerId)) return 'Already_connected'
            const inFlight = pending.inbound + pending.outbound
            if (onOctez.length > 0 && libp2p.services.handshake.peers.size + inFlight + onOctez.length >= opts.maxConnections) return 'Too_many_connections'
            return manager?.admissionHooks.admit?.(remote, connection, pending)
          }
        },
        report,
        logger,
        listener: {
          authenticated: peer => { emit('peer:authenticated', peer) },
          disconnected: peer => { emit('peer:disconnected', peer) },
          failed: failure => { emit('handshake:failed', failure) }
        }
      }),
      ...(manager !== undefined ? { peerExchange: peerExchange({ host: manager.exchangeHost, logger }) } : {})
    }
  })
  const service = libp2p.services.handshake
  const networkPeers = new NetworkPeers(new Libp2pPeerDirectory(() => service.peers, peer => libp2p.getConnections(peer.libp2pPeerId)))
  registerPeersByWire(metricsRegistry, networkPeers)
  const octez = opts.octezListen === undefined && opts.octezPeers.length === 0
    ? undefined
    : new OctezWire({
      identity,
      chainName: opts.chainName,
      expectedPow: opts.expectedPow,
      distributedDbVersions: opts.distributedDbVersions,
      p2pVersions: opts.p2pVersions,
      metadata: { disableMempool: opts.disableMempool, privateNode: opts.privateMode },
      ...(opts.octezListen === undefined ? {} : { listen: opts.octezListen }),
      trusted: opts.octezPeers,
      maxConnections: opts.maxConnections,
      privateMode: opts.privateMode,
      disablePeerDiscovery: opts.disablePeerDiscovery,
      network: networkPeers,
      isRefused: key => isRefused(acl, key),
      report,
      onConnected: peer => { emit('peer:connected', peer) },
      onClosed: peer => { emit('peer:closed', peer) },
      chain: () => chainNode?.chain,
      gossip: () => libp2p.services.gossip,
      sync: () => libp2p.services.sync,
      logger,
      authenticationTimeoutMs: opts.authenticationTimeoutMs,
      connectionTimeoutMs: opts.limits.connectionTimeoutMs
    })
  late.octezWire = octez
  nodePeers.attach({
    peers: service.peers,
    connections: () => libp2p.getConnections(),
    ...(octez === undefined ? {} : { octez: { peers: () => octez.connected(), isTrusted: p => octez.isTrusted(p) } })
  })

  const dial = async (address: Multiaddr | string, dialOptions: DialTezosOptions = {}): Promise<AuthenticatedPeer> => {
    const ma = typeof address === 'string' ? multiaddr(address) : address
    const point = pointOf(ma)
    if (point !== undefined && service.ownPoints.has(point)) throw new SelfConnectionError(point)
    const connection = await libp2p.dial(ma, dialOptions).catch((err: Error) => {
      // libp2p stops a dial that reaches our own key after Noise, before any Tezos handshake: the
      // point is ours all the same (Octez `Myself`), so remember it and never dial it again.
      if (err.name === 'InvalidPeerIdError' && /dial self/i.test(err.message) && point !== undefined) {
        service.ownPoints.add(point)
        throw new SelfConnectionError(point)
      }
      throw err
    })
    return await service.authenticated(connection)
  }
  if (manager !== undefined) {
    const exchange = libp2p.services.peerExchange
    if (exchange === undefined) throw new Error('peer exchange service missing')
    manager.attach({
      peers: service.peers,
      exchange,
      connections: () => libp2p.getConnections(),
      dial,
      listenAddresses: () => libp2p.getMultiaddrs()
    })
    // Registered before any embedder's listener: by the time they hear of a peer, the manager has it.
    events.on('peer:authenticated', peer => { manager.onAuthenticated(peer) })
    events.on('peer:disconnected', peer => { manager.onDisconnected(peer) })
    events.on('handshake:failed', failure => { manager.onHandshakeFailed(failure) })
  }
  // The libp2p wire's peers as every layer above the wires sees them.
  events.on('peer:authenticated', peer => { emit('peer:connected', networkPeers.libp2p.wrap(peer)) })
  events.on('peer:disconnected', peer => { emit('peer:closed', networkPeers.libp2p.forget(peer)) })
  // Opened last, so a failure above leaves no database held open.
  const store = options.dataDir !== undefined ? await openDatabase(options.dataDir, { chainName: opts.chainName }) : undefined
  if (store !== undefined) onStoreWriteFailure(store, error => { emit('storage:failure', error) })
  manager?.useStore(store)
  if (chainNode !== undefined) {
    await chainNode.open({
      store, peers: networkPeers, events, emit: emit as ChainNodeHost['emit'], services: libp2p.services
    }).catch(async (err: Error) => { await store?.close(); throw err })
  }

  return {
    libp2p,
    identity,
    peerId: libp2p.peerId,
    peers: service.peers,
    networkPeers,
    ...(octez === undefined ? {} : { octez }),
    greylist,
    banList,
    handshake: service,
    events,
    logger,
    connectionManager: manager,
    pointBook: manager?.pointBook,
    scores: nodePeers.scores,
    store,
    metricsRegistry,
    report,
    ban: nodePeers.ban,
    unban: nodePeers.unban,
    trust: nodePeers.trust,
    untrust: nodePeers.untrust,
    points: nodePeers.points,
    point: nodePeers.point,
    peerList: nodePeers.peerList,
    peerInfo: nodePeers.peerInfo,
    async start () {
      // The greylist and bans are back before the first socket is accepted.
      await manager?.load()
      await libp2p.start()
      if (opts.advertisedPort === undefined) advertisedPort = firstTcpPort(libp2p.getMultiaddrs())
      await manager?.start()
      await octez?.start()
      chainNode?.start()
      logger.info({ libp2pPeerId: libp2p.peerId.toString(), addresses: libp2p.getMultiaddrs().map(String) }, 'node started')
    },
    async stop () {
      await manager?.stop()
      await octez?.stop()
      await chainNode?.stop()
      await libp2p.stop()
      await manager?.afterStop()
      await chainNode?.close()
      await store?.close()
      logger.info('node stopped')
    },
    dial,
    getMultiaddrs: () => libp2p.getMultiaddrs(),
    on (name, listener) { events.on(name, listener as never); return this as TzNode },
    off (name, listener) { events.off(name, listener as never); return this as TzNode },
    once (name, listener) { events.once(name, listener as never); return this as TzNode },
    ...chainNodeFields(chainNode)
  }
}
