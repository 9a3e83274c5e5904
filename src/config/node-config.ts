import type { P2pLimits, ReconnectionConfig } from '../peers/limits.ts'
import type { PointAddress } from '../net/point.ts'
import type { HostPort } from './addresses.ts'
import type { RpcAclEntry } from '../rpc/acl-policy.ts'
import type { ProtocolName } from './values.ts'
import type { NetworkPresetName } from './presets.ts'

/**
 * The node's configuration once defaults, the config file and the command line are merged and
 * checked: TypeScript names, runtime units (milliseconds, bytes, bigint balances), addresses
 * parsed. Everything `tzp2p run` needs to start a node comes from here.
 */
export interface NodeConfig {
  /** Absolute data directory. */
  dataDir: string
  /** The config file that was read (absolute), or null when none was. */
  configFile: string | null
  /** Octez `disable-config-validation`: allows `--connections` above 100. */
  disableConfigValidation: boolean
  network: NetworkConfig
  p2p: P2pConfig
  shell: ShellConfig
  rpc: RpcConfig
  /** Extra listeners serving only `/metrics`. */
  metricsAddrs: HostPort[]
  protocol: ProtocolConfig
  baker: BakerConfig
  log: LogConfig
  /** Things worth telling the user that do not stop the node (Octez keys without effect, risky settings). */
  warnings: string[]
}

export interface NetworkConfig {
  /** The preset the network came from, or null for a network object. */
  preset: NetworkPresetName | null
  chainName: string
  genesis: {
    /** b58 `B…`. */
    block: string
    /** RFC 3339, UTC. */
    timestamp: string
    /** Seconds since the epoch. */
    timestampSeconds: bigint
    /** b58 `P…`, or null: the hash of the configured protocol (see `genesisProtocolOf`). */
    protocol: string | null
  }
  defaultBootstrapPeers: PointAddress[]
}

export interface P2pConfig {
  listenAddr: HostPort
  /** libp2p listen multiaddr, e.g. `/ip4/0.0.0.0/tcp/9732`. */
  listenMultiaddr: string
  /** Port put in connection messages; null: the listening port. */
  advertisedNetPort: number | null
  expectedPow: number
  /** Trusted points from `p2p.bootstrap-peers` (or the network's defaults), after `--no-bootstrap-peers`. */
  bootstrapPeers: PointAddress[]
  /** Trusted points from `--peer`. */
  peers: PointAddress[]
  /** `host[:port][#id]` names for DNS bootstrap, as configured. */
  bootstrapDns: string[]
  /** DNS servers (`ip:port`, `[ipv6]:port`); empty: the system's. */
  dnsResolvers: string[]
  /** `p2p.octez-listen-addr` (`--octez-net-addr`): Octez's wire listens here; null: not at all. */
  octezListenAddr: string | null
  /** `p2p.octez-peers` (`--octez-peer`): trusted Octez-wire points, `host:port`. */
  octezPeers: string[]
  privateMode: boolean
  disableMempool: boolean
  disablePeerDiscovery: boolean
  limits: P2pLimits
  reconnection: ReconnectionConfig
}

export interface ShellConfig {
  /** Synchronised peers needed before the node is bootstrapped. */
  synchronisationThreshold: number
  /** A peer whose head is younger than this is synchronised. */
  latencyMs: number
  /** `--checkpoint`: b58 `B…` of the block a fresh shell-only chain starts from, or null. */
  checkpoint: string | null
}

export interface RpcConfig {
  /** Empty: no RPC server. */
  listenAddrs: HostPort[]
  corsOrigins: string[]
  corsHeaders: string[]
  /** Octez's `rpc.acl`, in order (the first entry matching a listener gives its policy). */
  acl: RpcAclEntry[]
}

export interface BootstrapAccountConfig {
  /** 20 bytes (BLAKE2b-160 of the public key). */
  publicKeyHash: Uint8Array
  balance: bigint
  /** Demo v3 from genesis: the account starts revealed and registered as its own delegate. */
  publicKey?: Uint8Array
}

/** The demo protocol's parameters, in the shape `createDemoProtocol` takes. */
export interface DemoParametersConfig {
  bakerPublicKey: Uint8Array
  bootstrapAccounts: BootstrapAccountConfig[]
  validationPasses: number
  maxOperationsTtl: number
  maxOperationsPerBlock: number
  /** Installed demo versions, 1 first (`protocol.parameters.versions`). */
  versions: number[]
  /** Demo v3 genesis commitments (`protocol.parameters.commitments`); absent: none. */
  commitments?: Array<{ blindedPublicKeyHash: Uint8Array, balance: bigint }>
}

/** The shell protocol's parameters (Tezos's 4 passes and Tallinn's TTL of 600 by default). */
export interface ShellParametersConfig {
  validationPasses: number
  maxOperationsTtl: number
}

/** The accept-all protocol's parameters, in the shape `createAcceptAllProtocol` takes. */
export interface AcceptAllParametersConfig {
  validationPasses: number
  maxOperationsTtl: number
}

export type ProtocolConfig =
  | { name: 'demo', parameters: DemoParametersConfig }
  | { name: 'accept-all', parameters: AcceptAllParametersConfig }
  | { name: 'shell', parameters: ShellParametersConfig }

export interface BakerConfig {
  enabled: boolean
  intervalMs: number
  /** Absolute path of the seed file, or null: the devnet baker's well-known key. */
  keyFile: string | null
  /** The block at `level` activates `protocol` (`demo-v<N>` or a protocol hash). */
  activations: Array<{ level: number, protocol: string }>
  /** Demo v3: bake two blocks at each level baked (double baking), for tests and demonstrations. */
  equivocate: boolean
  /** Demo v3: endorse every head, a second one at a level endorsed included (double endorsement), for tests and demonstrations. */
  doubleEndorse: boolean
}

/** pino's level names. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export interface LogConfig {
  level: LogLevel
  /** 'auto': pretty when the output is a terminal. */
  pretty: boolean | 'auto'
  /** 'stdout', 'stderr', or an absolute file path. */
  output: string
}

export type { ProtocolName }
