import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DATA_DIR_ENV, DEFAULT_DATA_DIR_NAME } from '../identity/data-dir.ts'
import { DEFAULT_RECONNECTION_CONFIG, type ReconnectionConfig } from '../peers/limits.ts'
import { parsePoint, type PointAddress } from '../net/point.ts'
import { bytesEqual } from '../encoding/index.ts'
import { b58Decode } from '../crypto/index.ts'
import { decodePublicKey, decodePublicKeyHash, encodePublicKeyHash, publicKeyHash as hashOfPublicKey } from '../protocol/demo/keys.ts'
import { hostPortToMultiaddr, isLoopback, parseHostPort, formatHostPort, type HostPort } from './addresses.ts'
import { defaultConfigJson, valueAt } from './defaults.ts'
import type { ConfigProblem } from './errors.ts'
import { resolveLimits } from './limits-config.ts'
import type { BakerConfig, LogConfig, LogLevel, NetworkConfig, NodeConfig, ProtocolConfig } from './node-config.ts'
import { devnetBakerKeypair, networkPreset, TEZOS_NETWORK_PRESETS, type NetworkJson, type NetworkPresetName } from './presets.ts'
import { DEFAULT_METRICS_PORT, DEFAULT_RPC_PORT, parseRfc3339, type ProtocolName } from './values.ts'
import { parseAclRule } from '../rpc/acl-rules.ts'
import { parseAclAddress, type RpcAclEntry } from '../rpc/acl-policy.ts'
import { normaliseIpAddress } from '../net/point.ts'
import { shellModeProblems } from './shell-mode.ts'
import { TEZOS_MAX_OPERATIONS_TTL, TEZOS_VALIDATION_PASSES } from '../protocol/shell/limits.ts'

/**
 * From a checked config (the file with the flags applied, in config-file form) to `NodeConfig`:
 * defaults filled in, addresses parsed, units converted, and the checks that span several keys.
 */
export interface ResolveContext {
  cwd: string
  env: NodeJS.ProcessEnv
  configFile: string | null
  /** Key → the flag that set it (for naming flags in problems). */
  origins: Map<string, string>
  peers: string[]
  connections?: number
  peerTableSize?: number
  noBootstrapPeers: boolean
}

export interface ResolveResult {
  config?: NodeConfig
  problems: ConfigProblem[]
  warnings: string[]
}

type Json = Record<string, unknown>

export function resolveNodeConfig (json: Json, ctx: ResolveContext): ResolveResult {
  const defaults = defaultConfigJson()
  const problems: ConfigProblem[] = []
  const warnings: string[] = []
  const get = <T>(key: string): T => (valueAt(json, key) ?? valueAt(defaults, key)) as T
  const flagOf = (key: string): { flag?: string } => {
    const flag = ctx.origins.get(key)
    return flag === undefined ? {} : { flag }
  }

  const fromFileOrEnv = valueAt(json, 'data-dir') as string | undefined
  const envDir = ctx.env[DATA_DIR_ENV]
  const dataDir = fromFileOrEnv !== undefined
    ? resolve(ctx.cwd, fromFileOrEnv)
    : envDir !== undefined && envDir !== '' ? resolve(ctx.cwd, envDir) : join(homedir(), DEFAULT_DATA_DIR_NAME)

  const network = resolveNetwork(json.network as string | NetworkJson | undefined)

  const listenAddr = parseHostPort(get<string>('p2p.listen-addr'), { defaultPort: 9732, allowPortZero: true, allowMultiaddr: true })
  const points = (texts: readonly string[]): PointAddress[] => texts.map(t => parsePoint(t))
  const configuredPeers = valueAt(json, 'p2p.bootstrap-peers') as string[] | undefined
  // A Tezos network's default bootstrap names are Octez nodes: they are dialled on Octez's wire.
  const defaultsOnOctezWire = network.preset !== null && TEZOS_NETWORK_PRESETS.includes(network.preset)
  const defaultPeers = ctx.noBootstrapPeers || configuredPeers !== undefined ? [] : network.defaultBootstrapPeers
  const bootstrapPeers = configuredPeers !== undefined && !ctx.noBootstrapPeers ? points(configuredPeers) : defaultsOnOctezWire ? [] : defaultPeers
  const octezPeers = [
    ...get<string[]>('p2p.octez-peers').map(a => formatHostPort(parseHostPort(a, { defaultPort: 9732, allowNames: true }))),
    ...(defaultsOnOctezWire ? defaultPeers.map(p => p.hostKind === 'ip6' ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`) : [])
  ]
  const peers = points(ctx.peers)
  const bootstrapDns = get<string[]>('p2p.bootstrap-dns')
  const octezListen = get<string | null>('p2p.octez-listen-addr')
  const privateMode = get<boolean>('p2p.private-mode')
  if (privateMode && bootstrapPeers.length + peers.length + bootstrapDns.length + octezPeers.length === 0) {
    warnings.push('p2p.private-mode: no bootstrap peer, --peer or p2p.bootstrap-dns is configured, so this node will talk to no one')
  }

  const limitOrigins = new Map<string, string>()
  for (const [key, flag] of ctx.origins) if (key.startsWith('p2p.limits.')) limitOrigins.set(key.slice('p2p.limits.'.length), flag)
  const limits = resolveLimits({
    json: (valueAt(json, 'p2p.limits') ?? {}) as Json,
    ...(ctx.connections !== undefined ? { connections: ctx.connections } : {}),
    ...(ctx.peerTableSize !== undefined ? { peerTableSize: ctx.peerTableSize } : {}),
    allowAbove100: get<boolean>('disable-config-validation'),
    origins: limitOrigins
  })
  problems.push(...limits.problems)

  // Octez: an explicit --synchronisation-threshold wins over the one --connections implies, which wins over the file.
  const thresholdKey = 'shell.chain_validator.synchronisation_threshold'
  const synchronisationThreshold = ctx.origins.has(thresholdKey)
    ? get<number>(thresholdKey)
    : limits.synchronisationThreshold ?? get<number>(thresholdKey)

  const rpc = resolveRpc(json, problems, warnings, flagOf)
  const metricsAddrs = get<string[]>('metrics_addr').map(a => parseHostPort(a, { defaultPort: DEFAULT_METRICS_PORT, allowPortZero: true, allowNames: true }))
  const protocol = resolveProtocol(json, problems)
  const baker = resolveBaker(json, dataDir, protocol, problems, flagOf)
  const checkpoint = (valueAt(json, 'shell.checkpoint') ?? null) as string | null
  if (protocol !== undefined) problems.push(...shellModeProblems({ network, protocol: protocol.name, checkpoint, baking: baker.enabled }, flagOf))
  if (limits.limits === undefined || protocol === undefined || rpc === undefined) return { problems, warnings }

  const config: NodeConfig = {
    dataDir,
    configFile: ctx.configFile,
    disableConfigValidation: get<boolean>('disable-config-validation'),
    network,
    p2p: {
      listenAddr,
      listenMultiaddr: hostPortToMultiaddr(listenAddr),
      advertisedNetPort: get<number | null>('p2p.advertised-net-port'),
      expectedPow: get<number>('p2p.expected-proof-of-work'),
      bootstrapPeers,
      peers,
      bootstrapDns,
      dnsResolvers: get<string[]>('p2p.dns-resolver').map(a => formatHostPort(parseHostPort(a, { defaultPort: 53 }))),
      octezListenAddr: octezListen === null ? null : formatHostPort(parseHostPort(octezListen, { defaultPort: 9732, allowPortZero: true })),
      octezPeers,
      privateMode,
      disableMempool: get<boolean>('p2p.disable_mempool'),
      disablePeerDiscovery: get<boolean>('p2p.disable_peer_discovery'),
      limits: limits.limits,
      reconnection: resolveReconnection(json)
    },
    shell: { synchronisationThreshold, latencyMs: get<number>('shell.chain_validator.latency') * 1000, checkpoint },
    rpc,
    metricsAddrs,
    protocol,
    baker,
    log: resolveLog(json, ctx.cwd, get),
    warnings
  }
  return { config, problems, warnings }
}

function resolveNetwork (network: string | NetworkJson | undefined): NetworkConfig {
  const preset = typeof network === 'string' ? network as NetworkPresetName : network === undefined ? 'devnet' : null
  const n = preset !== null ? networkPreset(preset) : network as NetworkJson
  const ts = n.genesis.timestamp
  const seconds = typeof ts === 'number' ? ts : parseRfc3339(ts) as number
  return {
    preset,
    chainName: n.chain_name,
    genesis: {
      block: n.genesis.block,
      timestamp: new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'),
      timestampSeconds: BigInt(seconds),
      protocol: n.genesis.protocol ?? null
    },
    defaultBootstrapPeers: (n.default_bootstrap_peers ?? []).map(t => parsePoint(t))
  }
}

function resolveRpc (json: Json, problems: ConfigProblem[], warnings: string[], flagOf: (k: string) => { flag?: string }): NodeConfig['rpc'] | undefined {
  const many = valueAt(json, 'rpc.listen-addrs') as string[] | undefined
  const one = valueAt(json, 'rpc.listen-addr') as string | undefined
  if (many !== undefined && one !== undefined && flagOf('rpc.listen-addrs').flag === undefined) {
    problems.push({ key: 'rpc.listen-addr', message: 'given together with rpc.listen-addrs', hint: 'keep only rpc.listen-addrs (a list)' })
    return undefined
  }
  const texts = many ?? (one !== undefined ? [one] : valueAt(defaultConfigJson(), 'rpc.listen-addrs') as string[])
  const listenAddrs: HostPort[] = texts.map(t => parseHostPort(t, { defaultPort: DEFAULT_RPC_PORT, allowPortZero: true, allowNames: true }))
  const acl = resolveRpcAcl(json, problems, flagOf)
  if (acl === undefined) return undefined
  for (const a of listenAddrs) {
    if (isLoopback(a)) continue
    // Names are resolved only when the RPC starts; a warning can only judge what is written.
    const entry = acl.find(e => e.address.host === (normaliseIpAddress(a.host)?.address ?? a.host) && (e.address.port === undefined || e.address.port === a.port))
    if (entry?.policy.kind === 'blacklist') {
      warnings.push(`rpc.acl: ${formatHostPort(a)} is reachable from other machines and its policy (${entry.address.text}) serves every RPC not blacklisted, such as bans, greylist clearing and injection`)
    }
  }
  return {
    listenAddrs,
    corsOrigins: (valueAt(json, 'rpc.cors-origin') ?? []) as string[],
    corsHeaders: (valueAt(json, 'rpc.cors-headers') ?? []) as string[],
    acl
  }
}

type AclEntryJson = { address: string, whitelist?: string[], blacklist?: string[] }

/** `rpc.acl` entries (each already checked by the schema): exactly one of whitelist and blacklist. */
function resolveRpcAcl (json: Json, problems: ConfigProblem[], flagOf: (k: string) => { flag?: string }): RpcAclEntry[] | undefined {
  const given = (valueAt(json, 'rpc.acl') ?? []) as AclEntryJson[]
  const before = problems.length
  const entries = given.map((e, i): RpcAclEntry | undefined => {
    const lists = (['whitelist', 'blacklist'] as const).filter(k => e[k] !== undefined)
    if (lists.length !== 1) {
      problems.push({
        key: `rpc.acl[${i}]`,
        ...flagOf('rpc.acl'),
        message: lists.length === 0 ? 'has neither a whitelist nor a blacklist' : 'has both a whitelist and a blacklist',
        hint: 'give one: a whitelist serves only the requests its rules match, a blacklist refuses them and serves the rest'
      })
      return undefined
    }
    const kind = lists[0]
    return { address: parseAclAddress(e.address), policy: { kind, rules: (e[kind] ?? []).map(parseAclRule) } }
  })
  return problems.length > before ? undefined : entries as RpcAclEntry[]
}

function resolveReconnection (json: Json): ReconnectionConfig {
  const g = (valueAt(json, 'p2p.greylisting_config') ?? {}) as Record<string, number | undefined>
  const ms = (s: number | undefined, fallback: number): number => s === undefined ? fallback : Math.round(s * 1000)
  return {
    factor: g.factor ?? DEFAULT_RECONNECTION_CONFIG.factor,
    initialDelayMs: ms(g['initial-delay'], DEFAULT_RECONNECTION_CONFIG.initialDelayMs),
    disconnectionDelayMs: ms(g['disconnection-delay'], DEFAULT_RECONNECTION_CONFIG.disconnectionDelayMs),
    increaseCapMs: ms(g['increase-cap'], DEFAULT_RECONNECTION_CONFIG.increaseCapMs)
  }
}

function resolveProtocol (json: Json, problems: ConfigProblem[]): ProtocolConfig | undefined {
  const name = (valueAt(json, 'protocol.name') ?? 'demo') as ProtocolName
  const given = (valueAt(json, 'protocol.parameters') ?? {}) as Json
  // Defaults per parameter: the devnet's for the demo protocol (shared ones apply to accept-all too).
  const base = valueAt(defaultConfigJson(), 'protocol.parameters') as Json
  const p = (k: string): unknown => given[k] ?? base[k]
  if (name === 'accept-all') {
    return { name, parameters: { validationPasses: p('validation-passes') as number, maxOperationsTtl: p('max-operations-ttl') as number } }
  }
  if (name === 'shell') {
    // Tezos's layout by default, not the devnet's.
    return {
      name,
      parameters: {
        validationPasses: (given['validation-passes'] as number | undefined) ?? TEZOS_VALIDATION_PASSES,
        maxOperationsTtl: (given['max-operations-ttl'] as number | undefined) ?? TEZOS_MAX_OPERATIONS_TTL
      }
    }
  }
  const accounts = p('bootstrap-accounts') as Array<{ 'public-key-hash': string, balance: string | number, 'public-key'?: string }>
  const seen = new Map<string, number>()
  let total = 0n
  const bootstrapAccounts = accounts.map((a, i) => {
    const publicKeyHash = decodePublicKeyHash(a['public-key-hash'])
    const text = encodePublicKeyHash(publicKeyHash)
    const first = seen.get(text)
    if (first !== undefined) {
      problems.push({ key: `protocol.parameters.bootstrap-accounts[${i}].public-key-hash`, message: `${text} is listed twice (also at bootstrap-accounts[${first}])`, hint: 'merge the two entries' })
    }
    seen.set(text, i)
    const balance = BigInt(a.balance)
    total += balance
    const key = a['public-key']
    if (key === undefined) return { publicKeyHash, balance }
    const publicKey = decodePublicKey(key)
    if (!bytesEqual(hashOfPublicKey(publicKey), publicKeyHash)) {
      problems.push({ key: `protocol.parameters.bootstrap-accounts[${i}].public-key`, message: `does not hash to ${text}`, hint: 'give the account\'s own public key' })
    }
    return { publicKeyHash, balance, publicKey }
  })
  const commitments = ((given.commitments ?? []) as Array<{ 'blinded-public-key-hash': string, amount: string | number }>).map(c => {
    const balance = BigInt(c.amount)
    total += balance
    return { blindedPublicKeyHash: b58Decode('blindedPublicKeyHash', c['blinded-public-key-hash']), balance }
  })
  if (total > (1n << 63n) - 1n) {
    problems.push({ key: 'protocol.parameters.bootstrap-accounts', message: `the balances add up to ${total}, more than 2^63 - 1`, hint: 'lower some balances' })
  }
  return {
    name,
    parameters: {
      bakerPublicKey: decodePublicKey(p('baker-public-key') as string),
      bootstrapAccounts,
      validationPasses: p('validation-passes') as number,
      maxOperationsTtl: p('max-operations-ttl') as number,
      maxOperationsPerBlock: p('max-operations-per-block') as number,
      versions: (p('versions') as Array<number | string>).map(Number),
      ...(commitments.length === 0 ? {} : { commitments })
    }
  }
}

function resolveBaker (json: Json, dataDir: string, protocol: ProtocolConfig | undefined, problems: ConfigProblem[], flagOf: (k: string) => { flag?: string }): BakerConfig {
  const enabled = (valueAt(json, 'baker.enabled') ?? false) as boolean
  const keyFileText = (valueAt(json, 'baker.key-file') ?? null) as string | null
  const interval = (valueAt(json, 'baker.interval') ?? valueAt(defaultConfigJson(), 'baker.interval')) as number
  const keyFile = keyFileText === null ? null : resolve(dataDir, keyFileText)
  if (enabled && keyFile === null && protocol?.name === 'demo' &&
    !bytesEqual(protocol.parameters.bakerPublicKey, devnetBakerKeypair().publicKey)) {
    problems.push({
      key: 'baker.key-file',
      ...flagOf('baker.enabled'),
      message: 'missing: baking with the demo protocol needs the secret key of protocol.parameters.baker-public-key, which is not the devnet baker',
      hint: 'set baker.key-file (or --baker-key-file) to a file holding that key\'s seed as 64 hex characters'
    })
  }
  const activations: BakerConfig['activations'] = []
  const given = (valueAt(json, 'baker.activations') ?? []) as Array<string | { level: number, protocol: string }>
  given.forEach((a, i) => {
    const parsed = typeof a === 'string' ? { protocol: a.slice(0, a.lastIndexOf('@')), level: Number(a.slice(a.lastIndexOf('@') + 1)) } : { level: a.level, protocol: a.protocol }
    const version = /^demo-v(\d+)$/.exec(parsed.protocol)
    if (version !== null && (protocol?.name !== 'demo' || !protocol.parameters.versions.includes(Number(version[1])))) {
      problems.push({ key: `baker.activations[${i}]`, ...flagOf('baker.activations'), message: `${parsed.protocol} is not installed`, hint: `add ${version[1]} to protocol.parameters.versions (--protocol-versions), or activate a protocol hash` })
    }
    if (activations.some(b => b.level === parsed.level)) {
      problems.push({ key: `baker.activations[${i}]`, ...flagOf('baker.activations'), message: `a second activation at level ${parsed.level}`, hint: 'one block activates at most one protocol' })
    }
    activations.push(parsed)
  })
  const equivocate = (valueAt(json, 'baker.equivocate') ?? false) as boolean
  const doubleEndorse = (valueAt(json, 'baker.double-endorse') ?? false) as boolean
  return { enabled, intervalMs: Math.round(interval * 1000), keyFile, activations, equivocate, doubleEndorse }
}

const LEVEL_ALIASES: Record<string, LogLevel> = { notice: 'info', warning: 'warn' }

function resolveLog (json: Json, cwd: string, get: <T>(key: string) => T): LogConfig {
  const level = get<string>('log.level')
  const output = get<string>('log.output')
  return {
    level: LEVEL_ALIASES[level] ?? level as LogLevel,
    pretty: get<boolean | 'auto'>('log.pretty'),
    output: output === 'stdout' || output === 'stderr' ? output : resolve(cwd, output)
  }
}
