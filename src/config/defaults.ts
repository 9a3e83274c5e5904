import { DEFAULT_EXPECTED_POW } from '../identity/pow.ts'
import { DEFAULT_P2P_PORT } from '../net/point.ts'
import { DEFAULT_P2P_LIMITS, DEFAULT_RECONNECTION_CONFIG } from '../peers/limits.ts'
import { p2pLimitsToJson } from './limits-json.ts'
import { devnetDemoParametersJson } from './presets.ts'
import { DEFAULT_RPC_PORT } from './values.ts'

/**
 * The default of every setting, in config-file form (Octez key names, durations in seconds). This
 * is the single place defaults are written: `load.ts` resolves over it, `flags.ts` shows it in
 * help texts, `reference.ts` renders it. `data-dir` is absent: it depends on the environment
 * (`$TZP2P_DATA_DIR`, else `~/.tzp2p`).
 */
export function defaultConfigJson (): Record<string, unknown> {
  const s = (ms: number): number => ms / 1000
  return {
    'disable-config-validation': false,
    network: 'devnet',
    p2p: {
      // Octez listens on [::]:9732; tzp2p listens on IPv4 by default so it works on hosts without IPv6.
      'listen-addr': `0.0.0.0:${DEFAULT_P2P_PORT}`,
      'advertised-net-port': null,
      'expected-proof-of-work': DEFAULT_EXPECTED_POW,
      'bootstrap-dns': [],
      'dns-resolver': [],
      'octez-listen-addr': null,
      'octez-peers': [],
      'private-mode': false,
      disable_mempool: false,
      disable_peer_discovery: false,
      limits: p2pLimitsToJson(DEFAULT_P2P_LIMITS),
      greylisting_config: {
        factor: DEFAULT_RECONNECTION_CONFIG.factor,
        'initial-delay': s(DEFAULT_RECONNECTION_CONFIG.initialDelayMs),
        'disconnection-delay': s(DEFAULT_RECONNECTION_CONFIG.disconnectionDelayMs),
        'increase-cap': s(DEFAULT_RECONNECTION_CONFIG.increaseCapMs)
      }
    },
    rpc: {
      // Octez serves no RPC unless asked; tzp2p serves its status page on loopback, reachable only from this machine.
      'listen-addrs': [`127.0.0.1:${DEFAULT_RPC_PORT}`],
      'cors-origin': [],
      'cors-headers': [],
      acl: []
    },
    metrics_addr: [],
    shell: {
      // Octez's chain validator defaults.
      chain_validator: { synchronisation_threshold: 4, latency: 50 },
      checkpoint: null
    },
    protocol: { name: 'demo', parameters: devnetDemoParametersJson() },
    baker: { enabled: false, interval: 5, 'key-file': null, activations: [], equivocate: false, 'double-endorse': false },
    log: { level: 'info', pretty: 'auto', output: 'stdout' }
  }
}

/** The value at a dotted key path of a JSON object (`[]` segments are not followed). */
export function valueAt (json: unknown, key: string): unknown {
  let node: unknown = json
  for (const segment of key.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, segment)) return undefined
    node = (node as Record<string, unknown>)[segment]
  }
  return node
}
