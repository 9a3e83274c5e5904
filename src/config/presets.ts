import { b58Encode, blake2b256 } from '../crypto/index.ts'
import { ed25519FromName, encodePublicKey, encodePublicKeyHash, type Ed25519Keypair } from '../protocol/demo/keys.ts'
import { DEFAULT_CHAIN_NAME } from '../node/options.ts'

/**
 * Named networks (Octez's `"network": "mainnet"` shorthand).
 *
 * - `devnet`: tzp2p's own network: chain name `TZP2P_DEVNET`, a fixed genesis, no default
 *   bootstrap peers, and the demo protocol with well-known keys derived from names (as Octez's
 *   sandbox uses well-known bootstrap accounts), so that every devnet node agrees on its genesis
 *   without sharing a file.
 * - `mainnet`, `ghostnet`: Tezos's networks, exactly as Octez defines them
 *   (`blockchain_network_mainnet`, `blockchain_network_ghostnet` in
 *   `src/lib_node_config/config_file.ml`): chain name, genesis block, timestamp and protocol, and
 *   the default bootstrap names. tzp2p cannot run Tezos's economic protocol, so they are followed
 *   in shell-only mode (`--protocol shell`), best from a recent `--checkpoint`.
 */

/** The network object of a config file (Octez's `network` object, keys as Octez spells them). */
export interface NetworkJson {
  chain_name: string
  genesis: { block: string, timestamp: string | number, protocol?: string | null }
  default_bootstrap_peers?: string[]
  [octezKeyWithoutEffect: string]: unknown
}

export const NETWORK_PRESET_NAMES = ['devnet', 'mainnet', 'ghostnet'] as const
export type NetworkPresetName = typeof NETWORK_PRESET_NAMES[number]

/**
 * The presets that are Tezos networks: only the shell protocol follows them, and their bootstrap
 * names are Octez nodes, reached on Octez's wire (as `--octez-peer`), not on libp2p.
 */
export const TEZOS_NETWORK_PRESETS: readonly NetworkPresetName[] = ['mainnet', 'ghostnet']

/** Octez's other network names, which tzp2p recognises only to say why it has no preset for them. */
export const OCTEZ_NETWORK_NAMES = ['sandbox', 'shadownet', 'weeklynet'] as const

/** Tezos mainnet, as Octez's `blockchain_network_mainnet`. */
const MAINNET: NetworkJson = {
  chain_name: 'TEZOS_MAINNET',
  genesis: {
    block: 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2',
    timestamp: '2018-06-30T16:07:32Z',
    protocol: 'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P'
  },
  default_bootstrap_peers: ['boot.tzinit.org', 'boot.tzboot.net', 'boot.tzbeta.net']
}

/** Tezos ghostnet, as Octez's `blockchain_network_ghostnet`. */
const GHOSTNET: NetworkJson = {
  chain_name: 'TEZOS_ITHACANET_2022-01-25T15:00:00Z',
  genesis: {
    block: 'BLockGenesisGenesisGenesisGenesisGenesis1db77eJNeJ9',
    timestamp: '2022-01-25T15:00:00Z',
    protocol: 'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P'
  },
  default_bootstrap_peers: [
    'ghostnet.teztnets.com',
    'ghostnet.tzinit.org',
    'ghostnet.tzboot.net',
    'ghostnet.boot.ecadinfra.com',
    'ghostnet.stakenow.de:9733'
  ]
}

/** Keys of the devnet's demo protocol derive from these names (`ed25519FromName`). */
export const DEVNET_KEY_PREFIX = 'tzp2p-devnet'
export const DEVNET_BAKER_NAME = `${DEVNET_KEY_PREFIX}/baker`
export const DEVNET_ACCOUNT_COUNT = 8
export const DEVNET_ACCOUNT_BALANCE = 1_000_000_000_000n
export const devnetAccountName = (i: number): string => `${DEVNET_KEY_PREFIX}/account/${i}`

/** The devnet baker's keypair (the secret key is public knowledge: for devnets only). */
export function devnetBakerKeypair (): Ed25519Keypair {
  return ed25519FromName(DEVNET_BAKER_NAME)
}

/** The devnet's funded accounts, in order (their secret keys are public knowledge too). */
export function devnetAccountKeypairs (): Ed25519Keypair[] {
  return Array.from({ length: DEVNET_ACCOUNT_COUNT }, (_, i) => ed25519FromName(devnetAccountName(i)))
}

/**
 * The devnet genesis block hash: BLAKE2b-256 of `tzp2p genesis devnet`, the derivation
 * `namedGenesis('devnet', …)` of the chain module uses, so both name the same chain.
 */
export function devnetGenesisBlock (): string {
  return b58Encode('blockHash', blake2b256(new TextEncoder().encode('tzp2p genesis devnet')))
}

export const DEVNET_GENESIS_TIMESTAMP = '2025-01-01T00:00:00Z'

/**
 * What a network name stands for. The devnet's `genesis.protocol` is left to the configured
 * protocol's hash; Tezos networks name theirs.
 */
export function networkPreset (name: NetworkPresetName): NetworkJson {
  switch (name) {
    case 'mainnet': return structuredClone(MAINNET)
    case 'ghostnet': return structuredClone(GHOSTNET)
    case 'devnet':
      return {
        chain_name: DEFAULT_CHAIN_NAME,
        genesis: { block: devnetGenesisBlock(), timestamp: DEVNET_GENESIS_TIMESTAMP, protocol: null },
        default_bootstrap_peers: []
      }
  }
}

/** The demo protocol's parameters on the devnet, in config-file form. */
export function devnetDemoParametersJson (): Record<string, unknown> {
  return {
    'baker-public-key': encodePublicKey(devnetBakerKeypair().publicKey),
    'bootstrap-accounts': devnetAccountKeypairs().map(k => ({
      'public-key-hash': encodePublicKeyHash(k.publicKeyHash),
      balance: DEVNET_ACCOUNT_BALANCE.toString()
    })),
    'validation-passes': 1,
    'max-operations-ttl': 120,
    'max-operations-per-block': 1000,
    versions: [1, 2]
  }
}
