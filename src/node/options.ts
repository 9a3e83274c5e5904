import type { PrivateKey } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Identity } from '../identity/identity.ts'
import { DEFAULT_EXPECTED_POW } from '../identity/pow.ts'
import type { GreylistOptions } from '../peers/greylist.ts'
import {
  DEFAULT_P2P_LIMITS, DEFAULT_RECONNECTION_CONFIG, validateP2pLimits, type P2pLimits, type ReconnectionConfig
} from '../peers/limits.ts'
import { DEFAULT_P2P_PORT, fromOctezPointString, parsePoint, type PointAddress } from '../net/point.ts'
import type { PeerScoresOptions } from '../peers/score.ts'
import type { PeerPolicyOptions } from '../peers/policy.ts'
import type { Registry } from 'prom-client'
import type { ChainNodeOptions } from './chain-node.ts'
import { DEFAULT_AUTHENTICATION_TIMEOUT_MS } from '../handshake/service.ts'
import { SUPPORTED_DISTRIBUTED_DB_VERSIONS, SUPPORTED_P2P_VERSIONS } from '../handshake/versions.ts'
import { MAX_CONNECTION_MESSAGE_BYTES, MIN_CONNECTION_MESSAGE_BYTES } from '../handshake/channel.ts'

/** Chain name of a tzp2p devnet unless told otherwise; nodes only talk to nodes with the same name. */
export const DEFAULT_CHAIN_NAME = 'TZP2P_DEVNET'
export { DEFAULT_P2P_PORT }
export const DEFAULT_LISTEN = [`/ip4/0.0.0.0/tcp/${DEFAULT_P2P_PORT}`]
/** Octez `max-connections`. */
export const DEFAULT_MAX_CONNECTIONS = 100
/** Octez `max-incoming-connections`. */
export const DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS = 20
/** libp2p's default per-IP inbound rate; Octez has none, tzp2p keeps libp2p's guard. */
export const DEFAULT_INBOUND_CONNECTIONS_PER_IP_PER_SECOND = 5

export interface NodeOptions {
  /**
   * Data directory holding `identity.json` and the libp2p key; both are created on first use.
   * Alternatively pass `identity` and `privateKey` (both, and no `dataDir`).
   */
  dataDir?: string
  /** The Tezos identity (X25519 key + PoW stamp). */
  identity?: Identity
  /** The libp2p Ed25519 key (the node's PeerId). */
  privateKey?: PrivateKey
  /** Networks are told apart by name (Octez `chain_name`); default `TZP2P_DEVNET`. */
  chainName?: string
  /** Difficulty required of our identity and demanded from every peer; default 26, as Octez. */
  expectedPow?: number
  /** libp2p listen multiaddrs; default `/ip4/0.0.0.0/tcp/9732`. */
  listen?: string[]
  /** Multiaddrs announced instead of the listen addresses (behind NAT, in containers). */
  announce?: string[]
  /**
   * Local IP address outgoing TCP connections are made from (a multi-homed host choosing its
   * source address); default: the system's choice.
   */
  sourceAddress?: string
  /**
   * Port put in connection messages (Octez `advertised-net-port`); default the first TCP port we
   * listen on, 0 if none.
   */
  advertisedPort?: number
  /** Octez `authentication-timeout`, ms; default 5000. */
  authenticationTimeoutMs?: number
  /** Authenticated connections beyond which peers are refused with Too_many_connections; default 100. */
  maxConnections?: number
  /** Announced in chunk #0 (Octez `--disable-mempool`). */
  disableMempool?: boolean
  /** Announced in chunk #0 (Octez `--private-mode`): peers must not advertise us. */
  privateMode?: boolean
  /** Versions spoken; defaults are Octez's ([0,1,2] and [0,1]). Tests narrow them to provoke Nacks. */
  distributedDbVersions?: number[]
  p2pVersions?: number[]
  /**
   * Octez `max-incoming-connections`: sockets accepted but not yet upgraded at once; default 20.
   * (libp2p's `maxIncomingPendingConnections`.)
   */
  maxIncomingPendingConnections?: number
  /** New inbound connections accepted per second from one IP (libp2p's rate limit); default 5. */
  inboundConnectionsPerIpPerSecond?: number
  greylist?: GreylistOptions
  /** Points given to rejected peers; default: authenticated, non-private peers. */
  knownPoints?: () => string[]
  /** A pino logger; default silent. */
  logger?: Logger
  // --- connection manager (src/node/connection-manager.ts) ---
  /**
   * Run the connection manager (maintenance, trusted points, private mode, peer exchange, DNS
   * bootstrap, scores, persistence); default true. False leaves a bare host that only
   * authenticates the connections it is given (for tests of the handshake itself).
   */
  manageConnections?: boolean
  /**
   * Octez's `p2p.limits` (defaults: Octez's). `maxConnections`, `authenticationTimeoutMs`,
   * `maxIncomingPendingConnections` and `inboundConnectionsPerIpPerSecond` above, when given, win
   * over the same fields here; `maxConnections` alone also lowers min/expected to fit under it.
   */
  limits?: Partial<P2pLimits>
  /** Reconnection back-off (Octez `Point_reconnection_config`). */
  reconnection?: Partial<ReconnectionConfig>
  /** Trusted points: `--peer` and bootstrap peers, as multiaddrs or `host[:port][#id…]`. */
  peers?: Array<string | PointAddress>
  /** DNS bootstrap names, `host[:port][#id…]`, resolved to trusted points (A, AAAA, TXT). */
  bootstrapDns?: string[]
  /** DNS servers for the bootstrap names (`ip[:port]`); default the system's. */
  dnsResolvers?: string[]
  /** Re-resolution period of the bootstrap names; null: only when out of candidates. Default 10 min. */
  dnsRefreshIntervalMs?: number | null
  /** Octez `--disable-peer-discovery`: no Bootstrap/Advertise, Nack lists ignored. */
  disablePeerDiscovery?: boolean
  /** Peer score tuning (threshold, half-life) and the peer policy's penalties. */
  score?: PeerScoresOptions & PeerPolicyOptions
  /** How often known points and scores are written to the store (default 30 s). */
  persistIntervalMs?: number
  /** prom-client registry for the node's `tzp2p_*` metrics; default a new one (`node.metricsRegistry`). */
  metricsRegistry?: Registry
  /**
   * Also register libp2p's own metrics (`libp2p_*`: connections, streams, bytes per protocol) and
   * the process's (`nodejs_*`, `process_*`) in `metricsRegistry`; default false. `tzp2p run` turns
   * it on; embedders serving `/metrics` may too.
   */
  libp2pMetrics?: boolean
  /** Run a chain (store, mempool, gossip, sync, bootstrap; see `src/node/chain-node.ts`). */
  chain?: ChainNodeOptions
  // --- Octez's raw-TCP wire (src/octez/, protocols/octez-wire.md) ---
  /** `--octez-net-addr`: `ip:port` (`[ipv6]:port`) to listen on with Octez's wire; default none. */
  octezListen?: string
  /** `--octez-peer`: trusted Octez-wire points, `host[:port]` (port 9732 by default). */
  octezPeers?: string[]
}

export class InvalidNodeOptionsError extends Error {
  override readonly name = 'InvalidNodeOptionsError'
  constructor (reason: string) { super(`invalid node options: ${reason}`) }
}

/** The options after defaults and checks (keys and identity are resolved separately). */
export interface ResolvedNodeOptions {
  chainName: string
  expectedPow: number
  listen: string[]
  announce: string[]
  advertisedPort?: number
  authenticationTimeoutMs: number
  maxConnections: number
  disableMempool: boolean
  privateMode: boolean
  distributedDbVersions: number[]
  p2pVersions: number[]
  maxIncomingPendingConnections: number
  inboundConnectionsPerIpPerSecond: number
  manageConnections: boolean
  limits: P2pLimits
  reconnection: ReconnectionConfig
  trustedPoints: PointAddress[]
  disablePeerDiscovery: boolean
  octezListen?: { host: string, port: number }
  octezPeers: Array<{ host: string, port: number }>
}

function positiveInteger (what: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!(Number.isInteger(v) && v > 0)) throw new InvalidNodeOptionsError(`${what} must be a positive integer, got ${v}`)
  return v
}

function checkVersions (what: string, versions: number[]): number[] {
  if (versions.length === 0 || !versions.every(v => Number.isInteger(v) && v >= 0 && v <= 0xffff)) {
    throw new InvalidNodeOptionsError(`${what} must be a non-empty list of integers in [0, 65535]`)
  }
  return [...versions]
}

export function resolveNodeOptions (options: NodeOptions): ResolvedNodeOptions {
  const chainName = options.chainName ?? DEFAULT_CHAIN_NAME
  // The chain name must fit our own bound on connection messages (a longer one could never match).
  const maxName = MAX_CONNECTION_MESSAGE_BYTES - MIN_CONNECTION_MESSAGE_BYTES
  if (new TextEncoder().encode(chainName).length > maxName) {
    throw new InvalidNodeOptionsError(`chainName is longer than ${maxName} bytes`)
  }
  const expectedPow = options.expectedPow ?? DEFAULT_EXPECTED_POW
  if (!(expectedPow >= 0 && expectedPow <= 256)) throw new InvalidNodeOptionsError(`expectedPow must be in [0, 256], got ${expectedPow}`)
  const authenticationTimeoutMs = options.authenticationTimeoutMs ?? options.limits?.authenticationTimeoutMs ?? DEFAULT_AUTHENTICATION_TIMEOUT_MS
  if (!(authenticationTimeoutMs > 0)) throw new InvalidNodeOptionsError('authenticationTimeoutMs must be positive')
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
  if (!(Number.isInteger(maxConnections) && maxConnections >= 0)) {
    throw new InvalidNodeOptionsError('maxConnections must be a non-negative integer')
  }
  const port = options.advertisedPort
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 0xffff)) {
    throw new InvalidNodeOptionsError(`advertisedPort must be in [0, 65535], got ${port}`)
  }
  if (options.dataDir !== undefined && (options.identity !== undefined || options.privateKey !== undefined)) {
    throw new InvalidNodeOptionsError('pass either dataDir or identity + privateKey, not both')
  }
  if (options.dataDir === undefined && (options.identity === undefined || options.privateKey === undefined)) {
    throw new InvalidNodeOptionsError('pass dataDir, or both identity and privateKey')
  }
  const manageConnections = options.manageConnections ?? true
  const limits = resolveLimits(options)
  if (manageConnections) validateP2pLimits(limits)
  const trustedPoints = (options.peers ?? []).map(p => typeof p === 'string' ? parsePoint(p) : p)
  const octezListen = options.octezListen === undefined ? undefined : octezListenAddress(options.octezListen)
  const octezPeers = (options.octezPeers ?? []).map(octezPeerAddress)
  return {
    ...(octezListen === undefined ? {} : { octezListen }),
    octezPeers,
    manageConnections,
    limits,
    reconnection: { ...DEFAULT_RECONNECTION_CONFIG, ...options.reconnection },
    trustedPoints,
    disablePeerDiscovery: options.disablePeerDiscovery ?? false,
    chainName,
    expectedPow,
    listen: options.listen ?? DEFAULT_LISTEN,
    announce: options.announce ?? [],
    advertisedPort: port,
    authenticationTimeoutMs,
    maxConnections: limits.maxConnections,
    disableMempool: options.disableMempool ?? false,
    privateMode: options.privateMode ?? false,
    distributedDbVersions: checkVersions('distributedDbVersions', options.distributedDbVersions ?? [...SUPPORTED_DISTRIBUTED_DB_VERSIONS]),
    p2pVersions: checkVersions('p2pVersions', options.p2pVersions ?? [...SUPPORTED_P2P_VERSIONS]),
    maxIncomingPendingConnections: positiveInteger('maxIncomingPendingConnections',
      options.maxIncomingPendingConnections ?? options.limits?.maxIncomingConnections, DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS),
    inboundConnectionsPerIpPerSecond: positiveInteger('inboundConnectionsPerIpPerSecond',
      options.inboundConnectionsPerIpPerSecond, DEFAULT_INBOUND_CONNECTIONS_PER_IP_PER_SECOND)
  }
}

/**
 * The P2P limits: Octez's defaults, then `options.limits`, then the older top-level options when
 * given. A top-level `maxConnections` without min/expected in `limits` brings them down to fit
 * (a node told "at most 4" must not insist on 10).
 */
function resolveLimits (options: NodeOptions): P2pLimits {
  const limits: P2pLimits = { ...DEFAULT_P2P_LIMITS, ...options.limits }
  if (options.maxConnections !== undefined) {
    limits.maxConnections = options.maxConnections
    if (options.limits?.expectedConnections === undefined) limits.expectedConnections = Math.min(limits.expectedConnections, limits.maxConnections)
    if (options.limits?.minConnections === undefined) limits.minConnections = Math.min(limits.minConnections, limits.expectedConnections)
  }
  if (options.authenticationTimeoutMs !== undefined) limits.authenticationTimeoutMs = options.authenticationTimeoutMs
  if (options.maxIncomingPendingConnections !== undefined) limits.maxIncomingConnections = options.maxIncomingPendingConnections
  if (options.inboundConnectionsPerIpPerSecond !== undefined) limits.inboundConnectionsPerIpPerSecond = options.inboundConnectionsPerIpPerSecond
  return limits
}

/** `--octez-net-addr`: an IP literal and a port (`a.b.c.d:port`, `[ipv6]:port`; port 0 picks one). */
export function octezListenAddress (text: string): { host: string, port: number } {
  try {
    const point = fromOctezPointString(text)
    return { host: point.host, port: point.port }
  } catch (err) {
    throw new InvalidNodeOptionsError(`octezListen: ${(err as Error).message}`)
  }
}

/** `--octez-peer`: `host[:port]` (a name or IP; port 9732 by default). */
export function octezPeerAddress (text: string): { host: string, port: number } {
  let point: PointAddress
  try {
    point = parsePoint(text)
  } catch (err) {
    throw new InvalidNodeOptionsError(`octezPeers: ${(err as Error).message}`)
  }
  if (text.startsWith('/')) throw new InvalidNodeOptionsError(`octezPeers: ${JSON.stringify(text)} is a multiaddr; an Octez peer is host[:port]`)
  return { host: point.host, port: point.port }
}
