import type { Reader, Writer } from '../encoding/index.ts'

/** Every Octez BLAKE2b-256 hash (block, operation, list, protocol, context) is 32 raw bytes. */
export const HASH_BYTES = 32
/** `Chain_id`: the first 4 bytes of BLAKE2b-256(genesis block hash). */
export const CHAIN_ID_BYTES = 4
/** A Tezos peer id is BLAKE2b-128 of the X25519 public key. */
export const PEER_ID_BYTES = 16

export function readHash (r: Reader, what: string): Uint8Array {
  return r.fixed(HASH_BYTES, what)
}

export function writeHash (w: Writer, hash: Uint8Array, what: string): void {
  w.fixed(hash, HASH_BYTES, what)
}

export function readChainId (r: Reader, what: string): Uint8Array {
  return r.fixed(CHAIN_ID_BYTES, what)
}

export function writeChainId (w: Writer, chainId: Uint8Array, what: string): void {
  w.fixed(chainId, CHAIN_ID_BYTES, what)
}
