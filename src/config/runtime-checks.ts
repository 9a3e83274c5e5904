import { readFile, stat } from 'node:fs/promises'
import { bytesEqual, fromHex } from '../encoding/index.ts'
import { ed25519FromSeed, encodePublicKey, type Ed25519Keypair } from '../protocol/demo/keys.ts'
import { ConfigError } from './errors.ts'
import type { NodeConfig } from './node-config.ts'
import { devnetBakerKeypair } from './presets.ts'

/**
 * Checks that need something the config alone does not hold — a key file's contents, the hash of
 * the protocol once built — reported as `ConfigError`s naming the key to change, like every other
 * configuration problem.
 */

/** The genesis in the shape the chain module takes (`GenesisConfig`). */
export interface ResolvedGenesis {
  block: string
  timestamp: bigint
  protocol: string
}

/**
 * The chain's genesis for the protocol the node runs: `network.genesis.protocol` must be that
 * protocol's hash, or null (then it is that hash).
 */
export function genesisFor (config: NodeConfig, protocolHash: string): ResolvedGenesis {
  const configured = config.network.genesis.protocol
  if (configured !== null && configured !== protocolHash) {
    throw new ConfigError([{
      key: 'network.genesis.protocol',
      message: `names ${configured}, but the configured ${config.protocol.name} protocol has hash ${protocolHash}`,
      hint: `set it to ${protocolHash} or null, or change protocol.parameters to those the network uses`
    }], config.configFile !== null ? { file: config.configFile } : {})
  }
  return { block: config.network.genesis.block, timestamp: config.network.genesis.timestampSeconds, protocol: protocolHash }
}

const MAX_KEY_FILE_BYTES = 1024

/**
 * The baker's keypair for the demo protocol: read from `baker.key-file` (the Ed25519 seed as 64
 * hex characters), or the devnet baker's well-known key when no file is set. Its public key must
 * be `protocol.parameters.baker-public-key`. Undefined for protocols that sign nothing.
 */
export async function loadBakerKey (config: NodeConfig): Promise<Ed25519Keypair | undefined> {
  if (config.protocol.name !== 'demo') return undefined
  const expected = config.protocol.parameters.bakerPublicKey
  const file = config.baker.keyFile
  const fail = (message: string, hint: string): never => {
    throw new ConfigError([{ key: 'baker.key-file', message, hint }], config.configFile !== null ? { file: config.configFile } : {})
  }
  let keypair: Ed25519Keypair
  if (file === null) {
    keypair = devnetBakerKeypair()
    if (!bytesEqual(keypair.publicKey, expected)) {
      fail('not set, and protocol.parameters.baker-public-key is not the devnet baker',
        'set baker.key-file (or --baker-key-file) to a file holding the baker\'s seed as 64 hex characters')
    }
    return keypair
  }
  let text: string
  try {
    const info = await stat(file)
    if (info.size > MAX_KEY_FILE_BYTES) fail(`${file} is ${info.size} bytes; a key file holds 64 hex characters`, 'point it at the seed file')
    text = await readFile(file, 'utf8')
  } catch (e) {
    if (e instanceof ConfigError) throw e
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO'
    return fail(`${file} cannot be read (${code === 'ENOENT' ? 'no such file' : code})`, 'check the path; relative paths start from the data dir')
  }
  const seedHex = text.trim()
  if (!/^[0-9a-fA-F]{64}$/.test(seedHex)) {
    fail(`${file} does not hold an Ed25519 seed`, 'write the 32-byte seed as 64 hex characters (and nothing else) in the file')
  }
  keypair = ed25519FromSeed(fromHex(seedHex))
  // With demo v3 installed, a baker may be any delegate: its rights come from the chain's state.
  if (!bytesEqual(keypair.publicKey, expected) && !config.protocol.parameters.versions.includes(3)) {
    fail(`${file} holds the key of ${encodePublicKey(keypair.publicKey)}, not protocol.parameters.baker-public-key ${encodePublicKey(expected)}`,
      'use the seed of the configured baker, or set protocol.parameters.baker-public-key to this key on every node of the network')
  }
  return keypair
}
