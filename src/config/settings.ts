import { z } from 'zod'
import { MAX_VALIDATION_PASSES } from '../protocol/common.ts'
import * as v from './values.ts'
import { DEVNET_GENESIS_TIMESTAMP, devnetGenesisBlock } from './presets.ts'
import { DEFAULT_CHAIN_NAME } from '../node/options.ts'

/**
 * Every key of the config file, once: its value type, the accepted form (used in error messages
 * and in the reference), whether Octez has the same key, and what it does. The file schema
 * (`schema.ts`) is assembled from this table, the defaults live in `defaults.ts`, the flags that
 * set each key in `flags.ts`, and the reference (`reference.ts`) renders all three.
 *
 * Keys are dotted paths spelled exactly as in the file (Octez mixes `-` and `_`; tzp2p keeps
 * Octez's spelling so an Octez `config.json` loads). `[]` marks the elements of a list of objects.
 */
export interface SettingSpec {
  key: string
  /** Absent for group rows (an object or a list of objects described by its own row). */
  schema?: z.ZodType
  /** Accepted form, completing "expected …". */
  accepts: string
  description: string
  /** Octez has this key with this meaning. */
  octez: boolean
  /**
   * `none`: an Octez key accepted so Octez files load, with no effect (reported as a warning);
   * `refused`: an Octez key whose silent omission would surprise (TLS), so it is an error.
   */
  effect?: 'none' | 'refused'
  /** Must be present when its parent object is (Octez's required fields). */
  required?: boolean
  /** For `protocol.parameters.*`: the protocols that take this parameter. */
  protocols?: readonly v.ProtocolName[]
  /** The default when it is not a plain value of `defaults.ts`. */
  defaultText?: string
}

const NO_EFFECT = 'Octez setting without effect in tzp2p; accepted so an Octez config file loads.'
const none = (key: string, accepts = 'any value'): SettingSpec => ({ key, schema: v.anything, accepts, description: NO_EFFECT, octez: true, effect: 'none' })
const PEER_FORMS = 'host[:port][#id…], [ipv6]:port or a multiaddr /ip4|ip6|dns|dns4|dns6/…/tcp/<port>[/p2p/<libp2p id>] (port 9732 by default)'

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'data-dir', schema: v.nonEmptyString, accepts: 'a directory path', octez: true, description: 'Directory holding identity.json, the libp2p key, the node store and config.json.', defaultText: '$TZP2P_DATA_DIR, else ~/.tzp2p' },
  { key: 'disable-config-validation', schema: v.bool, accepts: 'true or false', octez: true, description: 'Allows --connections above 100.' },

  // --- network ---
  { key: 'network', accepts: '"devnet", "mainnet", "ghostnet" or a network object with chain_name and genesis', octez: true, description: 'The network to join: the name of a preset or a custom network. "devnet" is chain TZP2P_DEVNET with a fixed genesis and the demo protocol\'s well-known devnet keys; "mainnet" and "ghostnet" are Tezos\'s, as Octez defines them, followed with protocol.name "shell".' },
  { key: 'network.chain_name', schema: v.chainName, required: true, accepts: `a chain name of 1 to ${v.MAX_CHAIN_NAME_BYTES} bytes`, octez: true, description: 'Name exchanged in the handshake; nodes of different chains refuse each other.', defaultText: `${DEFAULT_CHAIN_NAME} (devnet)` },
  { key: 'network.genesis.block', schema: v.blockHash, required: true, accepts: 'a block hash (B…, 51 characters)', octez: true, description: 'Hash of the genesis block (a constant, as Octez\'s).', defaultText: `${devnetGenesisBlock()} (devnet)` },
  { key: 'network.genesis.timestamp', schema: v.timestamp, required: true, accepts: 'an RFC 3339 date such as 2025-01-01T00:00:00Z, or seconds since 1970', octez: true, description: 'Timestamp of the genesis block.', defaultText: `${DEVNET_GENESIS_TIMESTAMP} (devnet)` },
  { key: 'network.genesis.protocol', schema: v.protocolHash.nullable(), accepts: 'a protocol hash (P…, 51 characters) or null', octez: true, description: 'Protocol of the chain; it must be the hash of the configured protocol, except with protocol.name "shell", which follows any. null: the configured protocol\'s hash.', defaultText: 'null (the configured protocol\'s hash)' },
  { key: 'network.default_bootstrap_peers', schema: v.peerAddressList, accepts: `a list of peer addresses: ${PEER_FORMS}`, octez: true, description: 'Peers used when p2p.bootstrap-peers is not set.', defaultText: 'none (devnet)' },
  none('network.sandboxed_chain_name'), none('network.old_chain_name'), none('network.incompatible_chain_name'),
  none('network.genesis_parameters'), none('network.user_activated_upgrades'), none('network.user_activated_protocol_overrides'),
  none('network.dal_config'),

  // --- p2p ---
  { key: 'p2p.listen-addr', schema: v.p2pListenAddress, accepts: 'ip:port, [ipv6]:port or /ip4|ip6/<address>/tcp/<port> (port 0: any free port)', octez: true, description: 'Address the node accepts peer connections on.' },
  { key: 'p2p.advertised-net-port', schema: v.positiveUint16.nullable(), accepts: 'a port from 1 to 65535, or null', octez: true, description: 'Port announced to peers instead of the listening one (behind NAT or a port mapping). null: the listening port.' },
  { key: 'p2p.expected-proof-of-work', schema: v.powDifficulty, accepts: 'a number from 0 to 256 (fractions allowed), e.g. 26', octez: true, description: 'Proof-of-work difficulty demanded of every peer and of our own identity (created with it on first run).' },
  { key: 'p2p.bootstrap-peers', schema: v.peerAddressList, accepts: `a list of peer addresses: ${PEER_FORMS}`, octez: true, description: 'Trusted peers to connect to; always allowed, never pruned.', defaultText: 'network.default_bootstrap_peers' },
  { key: 'p2p.bootstrap-dns', schema: v.peerAddressList, accepts: 'a list of DNS names: host[:port][#id…] or /dns…/tcp/<port>', octez: false, description: 'Names resolved (A, AAAA, TXT) into trusted peers at start-up and periodically.' },
  { key: 'p2p.dns-resolver', schema: v.dnsResolverList, accepts: 'a list of ip[:port] or [ipv6]:port (port 53 by default)', octez: false, description: 'DNS servers for p2p.bootstrap-dns; empty: the system\'s.' },
  { key: 'p2p.octez-listen-addr', schema: v.octezListenAddress.nullable(), accepts: 'ip:port or [ipv6]:port (port 0: any free port), or null', octez: false, description: 'Address the node accepts Octez-wire (raw TCP, as octez-node) connections on; null: none.', defaultText: 'null (no Octez-wire listener)' },
  { key: 'p2p.octez-peers', schema: v.octezPeerList, accepts: 'a list of host[:port] ([ipv6]:port; port 9732 by default)', octez: false, description: 'Trusted peers dialled on Octez\'s wire (octez-node or another tzp2p\'s --octez-net-addr); redialled while disconnected.' },
  { key: 'p2p.private-mode', schema: v.bool, accepts: 'true or false', octez: true, description: 'Talk only to trusted peers (bootstrap peers and --peer); peers are asked not to advertise us.' },
  { key: 'p2p.disable_mempool', schema: v.bool, accepts: 'true or false', octez: true, description: 'Do not take part in propagating pending operations (announced to peers).' },
  { key: 'p2p.disable_peer_discovery', schema: v.bool, accepts: 'true or false', octez: true, description: 'Ignore and never send peer lists (Bootstrap, Advertise, Nack points): connect only to known points.' },
  none('p2p.discovery-addr'), none('p2p.enable_testchain'),

  // --- p2p.limits (Octez names; durations in seconds) ---
  { key: 'p2p.limits.connection-timeout', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'Time allowed to open the TCP connection of a dial.' },
  { key: 'p2p.limits.authentication-timeout', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'Time allowed for the Tezos handshake once connected.' },
  { key: 'p2p.limits.greylist-timeout', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'Default of ip_greylist_cleanup_delay.' },
  { key: 'p2p.limits.maintenance-idle-time', schema: v.seconds.nullable(), accepts: 'a positive number of seconds, or null', octez: true, description: 'Period of the maintenance loop; null disables maintenance.' },
  { key: 'p2p.limits.min-connections', schema: v.uint16, accepts: 'an integer from 0 to 65535', octez: true, description: 'Below this many connections, maintenance runs at once.' },
  { key: 'p2p.limits.expected-connections', schema: v.uint16, accepts: 'an integer from 0 to 65535', octez: true, description: 'Number of connections maintenance aims for.' },
  { key: 'p2p.limits.max-connections', schema: v.positiveUint16, accepts: 'an integer from 1 to 65535', octez: true, description: 'At or above this many connections, maintenance prunes at once.' },
  { key: 'p2p.limits.backlog', schema: v.positiveUint8, accepts: 'an integer from 1 to 255', octez: true, description: 'listen(2) backlog.' },
  { key: 'p2p.limits.max-incoming-connections', schema: v.positiveUint8, accepts: 'an integer from 1 to 255', octez: true, description: 'Inbound connections still in the handshake at once.' },
  { key: 'p2p.limits.max_known_points', schema: v.boundPair.nullable(), accepts: '[table size, GC target] (integers 0–65535, target ≤ size), or null for unbounded', octez: true, description: 'Size of the known-point table and the size a GC brings it back to.' },
  { key: 'p2p.limits.max_known_peer_ids', schema: v.boundPair.nullable(), accepts: '[table size, GC target] (integers 0–65535, target ≤ size), or null for unbounded', octez: true, description: 'The same for the known-peer table.' },
  { key: 'p2p.limits.peer_greylist_size', schema: v.positiveUint16, accepts: 'an integer from 1 to 65535', octez: true, description: 'Greylisted peer ids kept.' },
  { key: 'p2p.limits.ip_greylist_size_in_kilobytes', schema: v.positiveUint16, accepts: 'an integer from 1 to 65535', octez: true, description: 'Size of the IP greylist.' },
  { key: 'p2p.limits.ip_greylist_cleanup_delay', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'How long an IP stays greylisted.', defaultText: 'greylist-timeout (86400)' },
  { key: 'p2p.limits.swap-linger', schema: v.seconds.nullable(), accepts: 'a positive number of seconds, or null', octez: true, description: 'Minimum time between two accepted swaps; null disables swapping.' },
  { key: 'p2p.limits.time-between-looking-for-peers', schema: v.seconds, accepts: 'a positive number of seconds', octez: false, description: 'After asking peers for more points, how long maintenance waits before trying again.' },
  { key: 'p2p.limits.reserved-outbound-connections', schema: v.uint16.nullable(), accepts: 'an integer from 0 to 65535, or null', octez: false, description: 'Connection slots only our own dials may fill (eclipse protection); null: min-connections.' },
  { key: 'p2p.limits.inbound-connections-per-ip-per-second', schema: v.seconds.nullable(), accepts: 'a positive number, or null', octez: false, description: 'Inbound connections accepted per second from one IP; null disables the check.' },
  ...v.OCTEZ_LIMIT_KEYS_WITHOUT_EFFECT.map(k => none(`p2p.limits.${k}`)),

  // --- p2p.greylisting_config (Octez's reconnection back-off) ---
  { key: 'p2p.greylisting_config.factor', schema: v.backoffFactor, accepts: 'a number ≥ 1', octez: true, description: 'Each failed dial multiplies a point\'s reconnection delay by this.' },
  { key: 'p2p.greylisting_config.initial-delay', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'Reconnection delay after a first failure.' },
  { key: 'p2p.greylisting_config.disconnection-delay', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'Reconnection delay after a connection that ran.' },
  { key: 'p2p.greylisting_config.increase-cap', schema: v.seconds, accepts: 'a positive number of seconds', octez: true, description: 'Longest reconnection delay.' },

  // --- rpc ---
  { key: 'rpc.listen-addrs', schema: z.array(v.rpcListenAddress), accepts: 'a list of host[:port] (port 8732 by default; [ipv6]:port)', octez: true, description: 'Addresses the HTTP RPC and status page listen on; loopback by default, empty disables the RPC.' },
  { key: 'rpc.listen-addr', schema: v.rpcListenAddress, accepts: 'host[:port]', octez: true, description: 'Octez\'s older single-address form of rpc.listen-addrs; give one or the other.', defaultText: 'none' },
  { key: 'rpc.cors-origin', schema: v.stringList, accepts: 'a list of origins, e.g. ["http://localhost:3000"] or ["*"]', octez: true, description: 'Origins allowed by CORS; empty: CORS disabled.' },
  { key: 'rpc.cors-headers', schema: v.stringList, accepts: 'a list of header names', octez: true, description: 'Request headers allowed by CORS.' },
  { key: 'rpc.crt', schema: v.anything, accepts: 'nothing (remove it)', octez: true, effect: 'refused', description: 'Refused: the RPC serves plain HTTP; put a TLS proxy in front of it.' },
  { key: 'rpc.key', schema: v.anything, accepts: 'nothing (remove it)', octez: true, effect: 'refused', description: 'Refused: the RPC serves plain HTTP; put a TLS proxy in front of it.' },
  { key: 'rpc.acl', accepts: 'a list of { "address": "host[:port]", "whitelist": [rule, …] } or { "address": …, "blacklist": [rule, …] }', octez: true, description: 'Access policy per RPC listen address: the first entry whose address (and port, if it names one) is the listener\'s decides. Without one, a loopback listener serves every RPC and any other only public reads and injection. See the README\'s "RPC access control".', defaultText: '[] (the default policies)' },
  { key: 'rpc.acl[].address', schema: v.rpcAclAddress, required: true, accepts: 'host[:port] or [ipv6][:port]; without a port, every port of that address', octez: true, description: 'The listen address the entry applies to; names are resolved once at start; 0.0.0.0 matches only a listener on 0.0.0.0.', defaultText: '—' },
  { key: 'rpc.acl[].whitelist', schema: v.rpcAclRules, accepts: 'a list of rules "[METHOD] /path" (* is one segment, a final ** any suffix), e.g. "GET /chains/**"', octez: true, description: 'Serve only the requests a rule matches (give a whitelist or a blacklist, not both).', defaultText: '—' },
  { key: 'rpc.acl[].blacklist', schema: v.rpcAclRules, accepts: 'a list of rules "[METHOD] /path" (* is one segment, a final ** any suffix), e.g. "DELETE /network/**"', octez: true, description: 'Refuse the requests a rule matches and serve the rest.', defaultText: '—' },
  none('rpc.media-type'), none('rpc.max_active_rpc_connections'),

  { key: 'metrics_addr', schema: z.array(v.metricsListenAddress), accepts: 'a list of host[:port] (port 9932 by default)', octez: true, description: 'Extra listeners serving only /metrics (Prometheus); the RPC serves /metrics too.' },

  // --- shell ---
  { key: 'shell.chain_validator.synchronisation_threshold', schema: v.uint8, accepts: 'an integer from 0 to 255', octez: true, description: 'Peers whose head must be recent before the node calls itself bootstrapped (0: at once).' },
  { key: 'shell.chain_validator.latency', schema: v.uint16, accepts: 'an integer from 0 to 65535 (seconds)', octez: true, description: 'A peer whose head is younger than this is synchronised.' },
  { key: 'shell.checkpoint', schema: v.blockHash.nullable(), accepts: 'a block hash (B…, 51 characters), or null', octez: false, description: 'With protocol.name "shell": a fresh node fetches this block from its peers and follows the chain from it, holding and fetching nothing below it. A store that started from another checkpoint is refused.' },
  none('shell.chain_validator.bootstrap_threshold'), none('shell.peer_validator'), none('shell.block_validator'),
  none('shell.prevalidator'), none('shell.history_mode'), none('shell.disable_context_pruning'), none('shell.storage_maintenance_delay'),

  // --- protocol ---
  { key: 'protocol.name', schema: v.protocolName, accepts: '"demo", "accept-all" or "shell"', octez: false, description: 'The protocol validating blocks and operations: demo (signed transfers, one baker), accept-all (tests), or shell (only what Octez\'s shell checks without an economic protocol: follows any chain, Tezos\'s included, validating no operation).' },
  { key: 'protocol.parameters.baker-public-key', schema: v.ed25519PublicKey, protocols: ['demo'], accepts: 'an Ed25519 public key (edpk…, or 64 hex characters)', octez: false, description: 'The only key allowed to bake.', defaultText: 'the devnet baker (key named tzp2p-devnet/baker)' },
  { key: 'protocol.parameters.bootstrap-accounts', protocols: ['demo'], accepts: 'a list of { "public-key-hash": "tz1…", "balance": "…" }', octez: false, description: 'Accounts funded at genesis.', defaultText: '8 devnet accounts (tzp2p-devnet/account/0…7) of 1000000000000' },
  { key: 'protocol.parameters.bootstrap-accounts[].public-key-hash', schema: v.ed25519PublicKeyHash, required: true, protocols: ['demo'], accepts: 'an Ed25519 public key hash (tz1…)', octez: false, description: 'Account address.', defaultText: '—' },
  { key: 'protocol.parameters.bootstrap-accounts[].public-key', schema: v.ed25519PublicKey, protocols: ['demo'], accepts: 'an Ed25519 public key (edpk…, or 64 hex characters) hashing to the account', octez: false, description: 'Demo v3 from genesis: the account starts revealed and registered as its own delegate, so it has baking and endorsement rights (as Tezos\'s bootstrap accounts with keys). Ignored by v1/v2.', defaultText: 'none' },
  { key: 'protocol.parameters.bootstrap-accounts[].balance', schema: v.balance, required: true, protocols: ['demo'], accepts: 'a whole number below 2^63, as a string or a number', octez: false, description: 'Initial balance.', defaultText: '—' },
  { key: 'protocol.parameters.commitments', protocols: ['demo'], accepts: 'a list of { "blinded-public-key-hash": "btz1…", "amount": "…" }', octez: false, description: 'Demo v3 from genesis: balances an activation operation claims for the key hash they are blinded from, given the secret (Tezos\'s fundraiser commitments; protocols/sync.md, Appendix A.2). Ignored by v1/v2.', defaultText: 'none' },
  { key: 'protocol.parameters.commitments[].blinded-public-key-hash', schema: v.blindedPublicKeyHash, required: true, protocols: ['demo'], accepts: 'a blinded public key hash (btz1…): BLAKE2b-160 of the 20-byte secret followed by the account\'s key hash', octez: false, description: 'The commitment\'s key.', defaultText: '—' },
  { key: 'protocol.parameters.commitments[].amount', schema: v.balance, required: true, protocols: ['demo'], accepts: 'a whole number below 2^63, as a string or a number', octez: false, description: 'The balance the activation credits.', defaultText: '—' },
  { key: 'protocol.parameters.validation-passes', schema: z.number().int().min(1).max(MAX_VALIDATION_PASSES), protocols: ['demo', 'accept-all', 'shell'], accepts: `an integer from 1 to ${MAX_VALIDATION_PASSES}`, octez: false, description: 'Operation lists per block (shell: 4, as Tezos).' },
  { key: 'protocol.parameters.max-operations-ttl', schema: v.positiveUint16, protocols: ['demo', 'accept-all', 'shell'], accepts: 'an integer from 1 to 65535', octez: false, description: 'How many latest blocks an operation may branch on (shell: 600, as Tezos\'s Tallinn).' },
  { key: 'protocol.parameters.versions', schema: v.demoVersions, protocols: ['demo'], accepts: 'a list of demo versions, 1 then optionally 2 and 3, or 3 alone', octez: false, description: 'Demo protocol versions installed. The first runs from genesis: version 1, or version 3 for a chain whose blocks are baked and endorsed by its delegates from the start; version 2 (every transfer also pays 1000 to the baker) and version 3 (the Emmy*-era Tezos operations, delegates and rights: protocols/sync.md, Appendix A.2) run once a block activates them (baker.activations). A node without a version stops before the first block that needs it.' },
  { key: 'protocol.parameters.max-operations-per-block', schema: v.positiveUint16, protocols: ['demo'], accepts: 'an integer from 1 to 65535', octez: false, description: 'Bound on the transfers of one block.' },

  // --- baker ---
  { key: 'baker.enabled', schema: v.bool, accepts: 'true or false', octez: false, description: 'Bake a block every baker.interval seconds with the mempool\'s operations (devnets).' },
  { key: 'baker.interval', schema: v.bakeInterval, accepts: 'a number of seconds from 0.1 to 86400', octez: false, description: 'Time between two blocks.' },
  { key: 'baker.activations', schema: v.activations, accepts: 'a list of "<protocol>@<level>" or { "level": n, "protocol": "…" }, the protocol being demo-v2 or a protocol hash (P…)', octez: false, description: 'Protocol activations the baker writes: its block at level activates the protocol, which runs from the next block on.' },
  { key: 'baker.equivocate', schema: v.bool, accepts: 'true or false', octez: false, description: 'Demo v3, for tests and demonstrations: the delegate bakes a second block at every level it bakes (double baking), so the network\'s evidence and slashing can be seen.' },
  { key: 'baker.double-endorse', schema: v.bool, accepts: 'true or false', octez: false, description: 'Demo v3, for tests and demonstrations: the delegate endorses every head, a second head at a level it endorsed included (double endorsement), so the network\'s evidence and slashing can be seen.' },
  { key: 'baker.key-file', schema: v.nonEmptyString.nullable(), accepts: 'a file path, or null', octez: false, description: 'File holding the baker\'s Ed25519 seed as 64 hex characters (relative paths: from the data dir). null: the devnet baker\'s well-known key, allowed only with the devnet baker-public-key.' },

  // --- log ---
  { key: 'log.level', schema: v.logLevel, accepts: v.LOG_LEVELS.map(l => `"${l}"`).join(', '), octez: true, description: 'Least severe level logged (Octez\'s notice = info, warning = warn).' },
  { key: 'log.pretty', schema: v.prettyLog, accepts: 'true, false or "auto"', octez: false, description: 'Human-readable logs instead of JSON lines; auto: when the output is a terminal.' },
  { key: 'log.output', schema: v.nonEmptyString, accepts: '"stdout", "stderr" or a file path', octez: true, description: 'Where logs go.' },
  none('log.colors'), none('log.rules'), none('log.template'),

  none('internal-events'), none('dal')
]

export const SETTINGS_BY_KEY: ReadonlyMap<string, SettingSpec> = new Map(SETTINGS.map(s => [s.key, s]))
