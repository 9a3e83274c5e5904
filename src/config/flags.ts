import { type Command, Option } from 'commander'
import { z } from 'zod'
import { parsePoint } from '../net/point.ts'
import { parseAclAddress } from '../rpc/acl-policy.ts'
import { DATA_DIR_ENV, DEFAULT_DATA_DIR_NAME } from '../identity/data-dir.ts'
import { defaultConfigJson, valueAt } from './defaults.ts'
import { SETTINGS_BY_KEY } from './settings.ts'
import { NETWORK_PRESET_NAMES } from './presets.ts'
import { issuesToProblems } from './schema.ts'
import { ConfigError, describeValue, type ConfigProblem } from './errors.ts'

/**
 * The options of `tzp2p run`, as data: Octez's names where Octez has the option (`--net-addr`,
 * `--peer`, `--connections`, `--rpc-addr`, …), with the config key each one sets. Flags win over
 * the config file, which wins over the defaults.
 */
export type FlagKind =
  /** sets the key to the option's text */
  | 'string'
  /** sets the key to the option's number */
  | 'number'
  /** sets the key to true */
  | 'true'
  /** sets the key to null (Octez's `--disable-…` of an optional limit) */
  | 'null'
  /** repeatable; the values replace the file's list */
  | 'replace'
  /** repeatable; the values are added to the file's list */
  | 'append'
  /** handled by name in `flagsToConfigOverrides` (no single key) */
  | 'special'

export interface RunFlagSpec {
  /** commander's flag text, e.g. `--net-addr <addr>`. */
  flags: string
  kind: FlagKind
  /** The config key it sets. */
  key?: string
  description: string
  /** Octez's `octez-node run` has this option with this meaning. */
  octez: boolean
  /** Help-text default when it is not the key's default. */
  defaultText?: string
  /** For `special` flags: the keys whose value they change. */
  affects?: readonly string[]
}

const CONNECTION_KEYS = ['p2p.limits.min-connections', 'p2p.limits.expected-connections', 'p2p.limits.max-connections']
const TABLE_KEYS = ['p2p.limits.max_known_points', 'p2p.limits.max_known_peer_ids']

export const RUN_FLAGS: readonly RunFlagSpec[] = [
  { flags: '--data-dir <dir>', kind: 'string', key: 'data-dir', octez: true, description: 'data directory (identity, store, config.json)', defaultText: `$${DATA_DIR_ENV}, else ~/${DEFAULT_DATA_DIR_NAME}` },
  { flags: '--config-file <file>', kind: 'special', octez: true, description: 'config file to read; a missing file named here is an error', defaultText: '<data-dir>/config.json if it exists' },
  { flags: '--network <name>', kind: 'string', key: 'network', octez: true, description: 'network preset' },
  { flags: '--chain-name <name>', kind: 'string', key: 'network.chain_name', octez: false, description: 'chain name exchanged in the handshake' },
  { flags: '--net-addr <addr>', kind: 'string', key: 'p2p.listen-addr', octez: true, description: 'P2P listen address (ip:port, [ipv6]:port or multiaddr)' },
  { flags: '--advertised-net-port <port>', kind: 'number', key: 'p2p.advertised-net-port', octez: true, description: 'port announced to peers instead of the listening one', defaultText: 'the listening port' },
  { flags: '--peer <addr>', kind: 'special', octez: true, description: 'trusted peer to connect to (repeatable; added to the bootstrap peers): host:port[#id…] or multiaddr', affects: ['p2p.bootstrap-peers'] },
  { flags: '--no-bootstrap-peers', kind: 'special', octez: true, description: 'ignore p2p.bootstrap-peers and the network\'s default bootstrap peers (keep --peer ones)', affects: ['p2p.bootstrap-peers'] },
  { flags: '--octez-net-addr <ip:port>', kind: 'string', key: 'p2p.octez-listen-addr', octez: false, description: 'listen for Octez-wire (raw TCP, as octez-node) peers on this address', defaultText: 'none' },
  { flags: '--octez-peer <host:port>', kind: 'append', key: 'p2p.octez-peers', octez: false, description: 'trusted Octez-wire peer to connect to, host[:port] (repeatable; added to p2p.octez-peers; port 9732 by default)' },
  { flags: '--bootstrap-dns <name>', kind: 'append', key: 'p2p.bootstrap-dns', octez: false, description: 'DNS name resolved into trusted peers (repeatable; added to p2p.bootstrap-dns): host[:port][#id…]' },
  { flags: '--dns-resolver <ip:port>', kind: 'replace', key: 'p2p.dns-resolver', octez: false, description: 'DNS server for --bootstrap-dns (repeatable)', defaultText: 'the system\'s' },
  { flags: '--expected-pow <difficulty>', kind: 'number', key: 'p2p.expected-proof-of-work', octez: true, description: 'proof-of-work difficulty demanded of peers and of a new identity' },
  { flags: '--connections <n>', kind: 'special', octez: true, description: 'number of connections aimed for: sets min/expected/max connections to n/2, n, 3n/2, the peer tables to 8n and the synchronisation threshold to max(n/4, 2)', affects: [...CONNECTION_KEYS, ...TABLE_KEYS, 'shell.chain_validator.synchronisation_threshold'] },
  { flags: '--peer-table-size <n>', kind: 'special', octez: true, description: 'size of the known point and peer tables (GC target: 3/4 of it)', defaultText: '400, or 8n with --connections', affects: TABLE_KEYS },
  { flags: '--private-mode', kind: 'true', key: 'p2p.private-mode', octez: true, description: 'talk only to trusted peers; ask peers not to advertise this node' },
  { flags: '--disable-mempool', kind: 'true', key: 'p2p.disable_mempool', octez: true, description: 'do not propagate pending operations' },
  { flags: '--disable-peer-discovery', kind: 'true', key: 'p2p.disable_peer_discovery', octez: false, description: 'ignore and never send peer lists' },
  { flags: '--disable-p2p-maintenance', kind: 'null', key: 'p2p.limits.maintenance-idle-time', octez: true, description: 'never open or prune connections on its own (tests)' },
  { flags: '--disable-p2p-swap', kind: 'null', key: 'p2p.limits.swap-linger', octez: true, description: 'never swap peers' },
  { flags: '--synchronisation-threshold <n>', kind: 'number', key: 'shell.chain_validator.synchronisation_threshold', octez: true, description: 'synchronised peers needed to be bootstrapped', defaultText: '4, or max(n/4, 2) with --connections' },
  { flags: '--sync-latency <seconds>', kind: 'number', key: 'shell.chain_validator.latency', octez: true, description: 'a peer whose head is younger than this is synchronised' },
  { flags: '--rpc-addr <host:port>', kind: 'replace', key: 'rpc.listen-addrs', octez: true, description: 'RPC and status page listen address (repeatable; replaces rpc.listen-addrs)' },
  { flags: '--allow-all-rpc <host:port>', kind: 'special', octez: true, description: 'serve every RPC on this listen address (written as for --rpc-addr), replacing its rpc.acl entry for this run (repeatable); dangerous on a public address', affects: ['rpc.acl'] },
  { flags: '--cors-origin <origin>', kind: 'replace', key: 'rpc.cors-origin', octez: true, description: 'origin allowed by CORS (repeatable)' },
  { flags: '--cors-header <header>', kind: 'replace', key: 'rpc.cors-headers', octez: true, description: 'header allowed by CORS (repeatable)' },
  { flags: '--metrics-addr <host:port>', kind: 'replace', key: 'metrics_addr', octez: true, description: 'extra listener serving only /metrics (repeatable)' },
  { flags: '--protocol <name>', kind: 'string', key: 'protocol.name', octez: false, description: 'protocol validating blocks: demo, accept-all, or shell (Octez\'s shell checks only; follows any chain, mainnet and ghostnet included)' },
  { flags: '--checkpoint <block hash>', kind: 'string', key: 'shell.checkpoint', octez: false, description: 'with --protocol shell: fetch this block from peers and follow the chain from it, nothing below it', defaultText: 'none (from genesis)' },
  { flags: '--baker', kind: 'true', key: 'baker.enabled', octez: false, description: 'bake blocks (devnets)' },
  { flags: '--bake-interval <seconds>', kind: 'number', key: 'baker.interval', octez: false, description: 'time between two baked blocks' },
  { flags: '--protocol-versions <version>', kind: 'replace', key: 'protocol.parameters.versions', octez: false, description: 'demo protocol version installed (repeatable; replaces the list; version 1 first)' },
  { flags: '--activate <protocol@level>', kind: 'append', key: 'baker.activations', octez: false, description: 'as the baker, make the block at level activate the protocol (demo-v2 or P…; repeatable)' },
  { flags: '--baker-equivocate', kind: 'true', key: 'baker.equivocate', octez: false, description: 'demo v3: bake two blocks at each level baked (double baking), for tests and demonstrations' },
  { flags: '--baker-double-endorse', kind: 'true', key: 'baker.double-endorse', octez: false, description: 'demo v3: endorse every head, even a second one at a level endorsed (double endorsement), for tests and demonstrations' },
  { flags: '--baker-key-file <file>', kind: 'string', key: 'baker.key-file', octez: false, description: 'file holding the baker\'s Ed25519 seed (64 hex characters)', defaultText: 'the devnet baker\'s well-known key' },
  { flags: '--log-level <level>', kind: 'string', key: 'log.level', octez: false, description: 'least severe level logged: trace, debug, info, warn, error, fatal or silent' },
  { flags: '--log-output <output>', kind: 'string', key: 'log.output', octez: true, description: 'stdout, stderr or a file' },
  { flags: '--disable-config-validation', kind: 'true', key: 'disable-config-validation', octez: true, description: 'allow --connections above 100' }
]

/** The long flag name, e.g. `--net-addr`. */
export const flagName = (spec: RunFlagSpec): string => spec.flags.split(/[ ,]/)[0]

/** The property commander stores the option under (`--net-addr` → `netAddr`). */
export const flagAttribute = (spec: RunFlagSpec): string => new Option(spec.flags).attributeName()

const repeatable = (kind: FlagKind, spec: RunFlagSpec): boolean =>
  kind === 'append' || kind === 'replace' || flagName(spec) === '--peer' || flagName(spec) === '--allow-all-rpc'

/** `(default: …)` for help texts, from the defaults table. */
export function flagDefaultText (spec: RunFlagSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText
  if (spec.key === undefined || spec.kind === 'true' || spec.kind === 'null') return undefined
  const value = valueAt(defaultConfigJson(), spec.key)
  if (value === undefined) return SETTINGS_BY_KEY.get(spec.key)?.defaultText
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ')
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * Adds every `tzp2p run` option to `command`. No commander default is set, so an option given
 * nowhere leaves the config file's value in place; help texts show the effective default.
 */
export function registerRunOptions (command: Command): Command {
  for (const spec of RUN_FLAGS) {
    const def = flagDefaultText(spec)
    const option = new Option(spec.flags, def === undefined ? spec.description : `${spec.description} (default: ${def})`)
    if (repeatable(spec.kind, spec)) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    command.addOption(option)
  }
  return command
}

/** What the command line changes, in config-file terms. */
export interface ConfigOverrides {
  /** `--config-file`. */
  configFile?: string
  /** Keys set (or lists replaced) by a flag, in config-file form. */
  set: Array<{ key: string, value: unknown, flag: string }>
  /** Values added to a list key. */
  append: Array<{ key: string, values: unknown[], flag: string }>
  /** `--peer` addresses (checked). */
  peers: string[]
  /** `--connections`. */
  connections?: number
  /** `--peer-table-size`. */
  peerTableSize?: number
  /** `--no-bootstrap-peers`. */
  noBootstrapPeers: boolean
  /** `--allow-all-rpc` addresses (checked), in order. */
  allowAllRpc?: string[]
}

export function isConfigOverrides (x: unknown): x is ConfigOverrides {
  return x !== null && typeof x === 'object' && Array.isArray((x as ConfigOverrides).set) && Array.isArray((x as ConfigOverrides).append)
}

/** A number from option text; text that is not a number stays text so the error shows it. */
function toNumber (value: unknown): unknown {
  if (typeof value !== 'string') return value
  const t = value.trim()
  return t !== '' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : value
}

function asList (value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value]
}

function nestedAt (key: string, value: unknown): unknown {
  return key.split('.').reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value)
}

/** Checks a flag's value with the schema of the key it sets; problems name the flag. */
function checkFlagValue (spec: RunFlagSpec, key: string, value: unknown): ConfigProblem[] {
  // `network` is a preset name or an object in the file; on the command line only a preset name.
  const schema = key === 'network' ? z.enum(NETWORK_PRESET_NAMES) : SETTINGS_BY_KEY.get(key)?.schema
  if (schema === undefined) return []
  const parsed = schema.safeParse(value)
  if (parsed.success) return []
  return issuesToProblems(parsed.error.issues, nestedAt(key, value), key.split('.'))
    .map(p => ({ ...p, key: p.key.replace(/\[\d+\]$/, ''), flag: flagName(spec) }))
}

function positiveInteger (spec: RunFlagSpec, value: unknown, problems: ConfigProblem[]): number | undefined {
  const n = toNumber(value)
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535) return n
  problems.push({ key: '', flag: flagName(spec), message: `got ${describeValue(value)}`, expected: 'an integer from 1 to 65535' })
  return undefined
}

/**
 * Turns parsed `tzp2p run` options (commander's `opts()`, or the same shape built by hand) into
 * config overrides, checking every value. Throws one `ConfigError` naming each bad flag.
 */
export function flagsToConfigOverrides (opts: Record<string, unknown>): ConfigOverrides {
  const overrides: ConfigOverrides = { set: [], append: [], peers: [], noBootstrapPeers: false }
  const problems: ConfigProblem[] = []
  for (const spec of RUN_FLAGS) {
    const attribute = flagAttribute(spec)
    const raw = opts[attribute]
    const flag = flagName(spec)
    if (flag === '--no-bootstrap-peers') {
      if (raw === false || opts.noBootstrapPeers === true) overrides.noBootstrapPeers = true
      continue
    }
    if (raw === undefined) continue
    if (spec.kind === 'special') {
      if (flag === '--config-file') {
        if (typeof raw !== 'string' || raw === '') problems.push({ key: '', flag, message: `got ${describeValue(raw)}`, expected: 'a file path' })
        else overrides.configFile = raw
      } else if (flag === '--peer') {
        for (const text of asList(raw)) {
          try {
            parsePoint(String(text))
            overrides.peers.push(String(text))
          } catch (e) {
            problems.push({ key: '', flag, message: `got ${describeValue(text)}: ${(e as { reason?: string }).reason ?? (e as Error).message}`, expected: SETTINGS_BY_KEY.get('p2p.bootstrap-peers')?.accepts.replace(/^a list of peer addresses/, 'a peer address') })
          }
        }
      } else if (flag === '--allow-all-rpc') {
        for (const text of asList(raw)) {
          try {
            parseAclAddress(String(text))
            overrides.allowAllRpc = [...(overrides.allowAllRpc ?? []), String(text)]
          } catch (e) {
            problems.push({ key: '', flag, message: `got ${describeValue(text)}: ${(e as { reason?: string }).reason ?? (e as Error).message}`, expected: SETTINGS_BY_KEY.get('rpc.acl[].address')?.accepts })
          }
        }
      } else if (flag === '--connections') {
        const n = positiveInteger(spec, raw, problems)
        if (n !== undefined) overrides.connections = n
      } else if (flag === '--peer-table-size') {
        const n = positiveInteger(spec, raw, problems)
        if (n !== undefined) overrides.peerTableSize = n
      }
      continue
    }
    const key = spec.key as string
    if (spec.kind === 'true' || spec.kind === 'null') {
      if (raw === true) overrides.set.push({ key, value: spec.kind === 'true' ? true : null, flag })
      continue
    }
    const value = spec.kind === 'number' ? toNumber(raw) : spec.kind === 'append' || spec.kind === 'replace' ? asList(raw) : raw
    const found = checkFlagValue(spec, key, value)
    problems.push(...found)
    if (found.length > 0) continue
    if (spec.kind === 'append') overrides.append.push({ key, values: value as unknown[], flag })
    else overrides.set.push({ key, value, flag })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return overrides
}
