import { b58Decode, b58Encode, blake2b256 } from '../crypto/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { chainIdOfGenesis } from '../wire/chain-id.ts'
import { merkleRoot } from '../wire/merkle.ts'

/**
 * A chain starts from a configured genesis: its block hash (a constant, not the hash of any
 * header — as in Octez, where mainnet's is `BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2`),
 * its timestamp and the protocol that validates the chain.
 */
export interface GenesisConfig {
  /** b58 `B…`. */
  block: string
  /** Seconds since the epoch, or an ISO 8601 date. */
  timestamp: bigint | number | string
  /** b58 `P…`: must be the hash of the protocol the node runs. */
  protocol: string
}

export interface Genesis {
  hash: Uint8Array
  block: string
  timestamp: bigint
  protocol: string
  /** `Chain_id.of_block_hash`: 4 bytes. */
  chainId: Uint8Array
}

export class GenesisConfigError extends Error {
  override readonly name = 'GenesisConfigError'
}

function parseTimestamp (t: bigint | number | string): bigint {
  if (typeof t === 'bigint') return t
  if (typeof t === 'number') {
    if (!Number.isSafeInteger(t)) throw new GenesisConfigError(`genesis timestamp ${t} is not a whole number of seconds`)
    return BigInt(t)
  }
  if (/^-?\d+$/.test(t)) return BigInt(t)
  const ms = Date.parse(t)
  if (Number.isNaN(ms)) throw new GenesisConfigError(`genesis timestamp ${JSON.stringify(t)} is neither seconds nor an ISO 8601 date`)
  return BigInt(Math.floor(ms / 1000))
}

export function resolveGenesis (config: GenesisConfig): Genesis {
  let hash: Uint8Array
  try {
    hash = b58Decode('blockHash', config.block)
    b58Decode('protocolHash', config.protocol)
  } catch (e) {
    throw new GenesisConfigError(`bad genesis: ${(e as Error).message}`)
  }
  return { hash, block: config.block, timestamp: parseTimestamp(config.timestamp), protocol: config.protocol, chainId: chainIdOfGenesis(hash) }
}

/** A devnet genesis whose block hash is derived from a name (BLAKE2b-256 of `tzp2p genesis <name>`). */
export function namedGenesis (name: string, timestamp: bigint | number | string, protocol: string): GenesisConfig {
  const hash = blake2b256(new TextEncoder().encode(`tzp2p genesis ${name}`))
  return { block: b58Encode('blockHash', hash), timestamp, protocol }
}

/**
 * The synthetic genesis header: level 0, protocol level 0, its own hash as predecessor (as Octez),
 * no validation pass (so operations_hash is the root of the empty list), empty fitness and
 * protocol data, and the context the protocol's genesis state commits to. Its hash is the
 * configured constant, not BLAKE2b of these bytes.
 */
export function genesisHeader (genesis: Genesis, context: Uint8Array): BlockHeader {
  return {
    shell: {
      level: 0,
      proto: 0,
      predecessor: genesis.hash,
      timestamp: genesis.timestamp,
      validationPass: 0,
      operationsHash: merkleRoot([]),
      fitness: [],
      context
    },
    protocolData: new Uint8Array(0)
  }
}
