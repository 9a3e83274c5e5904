import { blake2b256 } from '../crypto/index.ts'
import { CHAIN_ID_BYTES, HASH_BYTES } from './hashes.ts'

/** `Chain_id.of_block_hash`: the first 4 bytes of BLAKE2b-256 of the genesis block hash. */
export function chainIdOfGenesis (genesisBlockHash: Uint8Array): Uint8Array {
  if (genesisBlockHash.length !== HASH_BYTES) {
    throw new RangeError(`a block hash is ${HASH_BYTES} bytes, got ${genesisBlockHash.length}`)
  }
  return blake2b256(genesisBlockHash).slice(0, CHAIN_ID_BYTES)
}
