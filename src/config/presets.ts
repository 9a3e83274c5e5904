import { b58Encode, blake2b256 } from '../crypto/index.ts'
import { ed25519FromName, encodePublicKey, encodePublicKeyHash, type Ed25519Keypair } from '../protocol/demo/keys.ts'
import { DEFAULT_CHAIN_NAME } from '../node/options.ts'

/**
 * Named networks (Octez's `"network": "mainnet"` shorthand). tzp2p runs its own networks, not
 * Tezos's, so its one preset is `devnet`: chain name `TZP2P_DEVNET`, a fixed genesis, no default
 * bootstrap peers, and the demo protocol with well-known keys derived from names (as Octez's
 * sandbox uses well-known bootstrap accounts), so that every devnet node agrees on its genesis
 * without sharing a file.
 */

/** The network object of a config file (Octez's `network` object, keys as Octez spells them). */
export interface NetworkJson {
  chain_name: string
  genesis: { block: string, timestamp: string | number, protocol?: string | null }
  default_bootstrap_peers?: string[]
  [octezKeyWithoutEffect: string]: unknown
}

export const NETWORK_PRESET_NAMES = ['devnet'] as const
export type NetworkPresetName = typeof NETWORK_PRESET_NAMES[number]

/** Octez's own network names, which tzp2p recognises only to say why it cannot join them. */
export const OCTEZ_NETWORK_NAMES = ['mainnet', 'ghostnet', 'sandbox', 'shadownet', 'weeklynet'] as const

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

/** What `"network": "devnet"` stands for. `genesis.protocol` is left to the configured protocol's hash. */
export function networkPreset (name: NetworkPresetName): NetworkJson {
  switch (name) {
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
