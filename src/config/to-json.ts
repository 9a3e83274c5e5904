import { isDeepStrictEqual } from 'node:util'
import { p2pLimitsToJson } from './limits-json.ts'
import { formatPoint, pointToMultiaddr, type PointAddress } from '../net/point.ts'
import { encodePublicKey, encodePublicKeyHash } from '../protocol/demo/keys.ts'
import { b58Encode } from '../crypto/index.ts'
import { formatHostPort } from './addresses.ts'
import type { NodeConfig } from './node-config.ts'
import { networkPreset } from './presets.ts'
import { resolveConfig } from './load.ts'

/**
 * A `NodeConfig` back in config-file form: what `tzp2p config show` prints and `config init`
 * writes. Loading the result gives the same configuration (`--peer` points become bootstrap peers,
 * which are trusted the same way).
 */
export interface ConfigToJsonOptions {
  /** Leave out what equals the default (as Octez writes its config files); `data-dir` and `network` stay. */
  omitDefaults?: boolean
}

/** How a point is written back: `host:port[#id]`, or a multiaddr when it carries a libp2p PeerId. */
export function pointText (point: PointAddress): string {
  if (point.libp2pPeerId === undefined) return formatPoint(point)
  const ma = pointToMultiaddr(point).toString()
  return point.expectedPeerId !== undefined ? `${ma}#${point.expectedPeerId}` : ma
}

export function configToJson (config: NodeConfig, options: ConfigToJsonOptions = {}): Record<string, unknown> {
  const full = fullJson(config)
  if (options.omitDefaults !== true) return full
  const defaults = fullJson(resolveConfig({}, {}, { env: {} }))
  const pruned = prune(full, defaults) as Record<string, unknown>
  return { 'data-dir': full['data-dir'], network: full.network, ...pruned }
}

function fullJson (c: NodeConfig): Record<string, unknown> {
  const s = (ms: number): number => ms / 1000
  const network = c.network
  const preset = network.preset !== null ? networkPreset(network.preset) : undefined
  const sameAsPreset = preset !== undefined && preset.chain_name === network.chainName &&
    preset.genesis.block === network.genesis.block && network.genesis.protocol === (preset.genesis.protocol ?? null)
  const parameters = c.protocol.name === 'demo'
    ? {
        'baker-public-key': encodePublicKey(c.protocol.parameters.bakerPublicKey),
        'bootstrap-accounts': c.protocol.parameters.bootstrapAccounts.map(a => ({
          'public-key-hash': encodePublicKeyHash(a.publicKeyHash),
          balance: a.balance.toString(),
          ...(a.publicKey === undefined ? {} : { 'public-key': encodePublicKey(a.publicKey) })
        })),
        ...(c.protocol.parameters.commitments === undefined
          ? {}
          : { commitments: c.protocol.parameters.commitments.map(k => ({ 'blinded-public-key-hash': b58Encode('blindedPublicKeyHash', k.blindedPublicKeyHash), amount: k.balance.toString() })) }),
        'validation-passes': c.protocol.parameters.validationPasses,
        'max-operations-ttl': c.protocol.parameters.maxOperationsTtl,
        'max-operations-per-block': c.protocol.parameters.maxOperationsPerBlock,
        versions: c.protocol.parameters.versions
      }
    : { 'validation-passes': c.protocol.parameters.validationPasses, 'max-operations-ttl': c.protocol.parameters.maxOperationsTtl }
  return {
    'data-dir': c.dataDir,
    'disable-config-validation': c.disableConfigValidation,
    network: sameAsPreset
      ? network.preset
      : {
          chain_name: network.chainName,
          genesis: { block: network.genesis.block, timestamp: network.genesis.timestamp, protocol: network.genesis.protocol },
          default_bootstrap_peers: network.defaultBootstrapPeers.map(pointText)
        },
    p2p: {
      'listen-addr': formatHostPort(c.p2p.listenAddr),
      'advertised-net-port': c.p2p.advertisedNetPort,
      'expected-proof-of-work': c.p2p.expectedPow,
      'bootstrap-peers': [...c.p2p.bootstrapPeers, ...c.p2p.peers].map(pointText),
      'bootstrap-dns': c.p2p.bootstrapDns,
      'dns-resolver': c.p2p.dnsResolvers,
      'octez-listen-addr': c.p2p.octezListenAddr,
      'octez-peers': c.p2p.octezPeers,
      'private-mode': c.p2p.privateMode,
      disable_mempool: c.p2p.disableMempool,
      disable_peer_discovery: c.p2p.disablePeerDiscovery,
      limits: p2pLimitsToJson(c.p2p.limits),
      greylisting_config: {
        factor: c.p2p.reconnection.factor,
        'initial-delay': s(c.p2p.reconnection.initialDelayMs),
        'disconnection-delay': s(c.p2p.reconnection.disconnectionDelayMs),
        'increase-cap': s(c.p2p.reconnection.increaseCapMs)
      }
    },
    rpc: {
      'listen-addrs': c.rpc.listenAddrs.map(formatHostPort),
      'cors-origin': c.rpc.corsOrigins,
      'cors-headers': c.rpc.corsHeaders,
      acl: c.rpc.acl.map(e => ({ address: e.address.text, [e.policy.kind]: e.policy.rules.map(r => r.text) }))
    },
    metrics_addr: c.metricsAddrs.map(formatHostPort),
    shell: {
      chain_validator: { synchronisation_threshold: c.shell.synchronisationThreshold, latency: s(c.shell.latencyMs) },
      checkpoint: c.shell.checkpoint
    },
    protocol: { name: c.protocol.name, parameters },
    baker: { enabled: c.baker.enabled, interval: s(c.baker.intervalMs), 'key-file': c.baker.keyFile, activations: c.baker.activations.map(a => ({ ...a })), equivocate: c.baker.equivocate, 'double-endorse': c.baker.doubleEndorse },
    log: { level: c.log.level, pretty: c.log.pretty, output: c.log.output }
  }
}

/** `value` without what equals `base`, object by object; undefined when nothing is left. */
function prune (value: unknown, base: unknown): unknown {
  if (isDeepStrictEqual(value, base)) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value) || base === null || typeof base !== 'object' || Array.isArray(base)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const p = prune(v, (base as Record<string, unknown>)[k])
    if (p !== undefined) out[k] = p
  }
  return Object.keys(out).length === 0 ? undefined : out
}
