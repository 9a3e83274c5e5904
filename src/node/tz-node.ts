import type { EventEmitter } from 'node:events'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { StorageWriteError } from '../storage/write-failure.ts'
import type { Database } from '../storage/database.ts'
import type { Identity } from '../identity/identity.ts'
import type { BanList } from '../peers/bans.ts'
import type { Greylist } from '../peers/greylist.ts'
import type { HandshakeFailure, HandshakeService } from '../handshake/service.ts'
import type { AuthenticatedPeer, AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import type { PeerExchangeService } from '../peers/exchange/index.ts'
import type { PointBook } from '../peers/point-book.ts'
import type { PeerPenalized } from '../peers/policy.ts'
import type { PeerScores } from '../peers/score.ts'
import type { GossipService } from '../gossip/service.ts'
import type { SyncService } from '../sync/service.ts'
import type { NetworkPeer } from '../peer/index.ts'
import type { ConnectionManagerApi, ConnectionManagerEvents } from './connection-manager.ts'
import type { NodePeerApi } from './node-peers.ts'
import type { ChainNodeEvents, ChainNodeFields } from './chain-node.ts'
import type { NetworkPeers } from './network-peers.ts'
import type { OctezWire } from './octez-wire.ts'

// What a tzp2p node is to its embedders (its fields, services and events), apart from `createNode`,
// which builds one: the RPC server, the runtime and embedders depend on this surface, not on how
// the node's parts are wired together.

/** Events a node emits (Node.js `EventEmitter` style: `node.on('peer:authenticated', peer => …)`). */
export interface NodeEventMap extends ConnectionManagerEvents, ChainNodeEvents {
  'peer:authenticated': [AuthenticatedPeer]
  'peer:disconnected': [AuthenticatedPeer]
  /** A peer is connected and authenticated, on either wire (`peer.wire`). */
  'peer:connected': [NetworkPeer]
  /** A peer's connection ended, on either wire. */
  'peer:closed': [NetworkPeer]
  'handshake:failed': [HandshakeFailure]
  /** The peer policy was told of a peer's misbehaviour (what it cost: `action`, `score`). */
  'peer:penalized': [PeerPenalized]
  /** A write to the store failed for a machine reason (disk full, read-only, I/O): the node cannot go on. */
  'storage:failure': [StorageWriteError]
}

export interface NodeServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  handshake: HandshakeService
  /** `/tzp2p/peers/1.0.0`; absent with `manageConnections: false`. */
  peerExchange?: PeerExchangeService
  /** `/tzp2p/gossip/1.0.0` and `/tzp2p/sync/1.0.0`; present when the node runs a chain (`options.chain`). */
  gossip?: GossipService
  sync?: SyncService
}

export interface DialTezosOptions extends AbortOptions {
  /** Open a new connection even if one to this peer exists (libp2p `force`). */
  force?: boolean
}

/** A tzp2p node: one libp2p host with the Tezos handshake in front of every tzp2p protocol. */
export interface TzNode extends ChainNodeFields, NodePeerApi {
  readonly libp2p: Libp2p<NodeServices>
  readonly identity: Identity
  /** The libp2p PeerId (from the Ed25519 key). */
  readonly peerId: PeerId
  /** Authenticated libp2p connections (Tezos peer id, libp2p PeerId, metadata, versions, …). */
  readonly peers: AuthenticatedPeers
  /** Connected peers of both wires, as gossip and sync see them (`wire`: `libp2p` or `octez`). */
  readonly networkPeers: NetworkPeers
  /** Octez's raw-TCP wire (`--octez-net-addr`, `--octez-peer`); undefined when the node speaks only libp2p. */
  readonly octez?: OctezWire
  readonly greylist: Greylist
  readonly banList: BanList
  /** The handshake service; `authenticatedOnly(node.handshake, handler)` guards other protocols. */
  readonly handshake: HandshakeService
  readonly events: EventEmitter<NodeEventMap>
  /** `node.events.on`, for embedders: `node.on('head', change => …)`. */
  on: <K extends keyof NodeEventMap>(name: K, listener: (...args: NodeEventMap[K]) => void) => TzNode
  off: <K extends keyof NodeEventMap>(name: K, listener: (...args: NodeEventMap[K]) => void) => TzNode
  once: <K extends keyof NodeEventMap>(name: K, listener: (...args: NodeEventMap[K]) => void) => TzNode
  readonly logger: Logger
  start: () => Promise<void>
  stop: () => Promise<void>
  /** Dials a multiaddr and resolves once the Tezos handshake succeeded both ways. */
  dial: (address: Multiaddr | string, options?: DialTezosOptions) => Promise<AuthenticatedPeer>
  /** Addresses we listen on, with `/p2p/<peer id>`. */
  getMultiaddrs: () => Multiaddr[]
  /** Limits, maintenance, trusted points, peer exchange; undefined with `manageConnections: false`. */
  readonly connectionManager?: ConnectionManagerApi
  /** Known points (the connection manager's). */
  readonly pointBook?: PointBook
  /** Peer scores (the peer policy's, in every mode). */
  readonly scores: PeerScores
  /** The node's store (`<dataDir>/store`), open from createNode until stop(); undefined without a data dir. */
  readonly store?: Database
  /** prom-client registry holding the node's `tzp2p_*` metrics. */
  readonly metricsRegistry: Registry
}
