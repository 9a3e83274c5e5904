import { encode, toHex } from '../encoding/index.ts'
import { blockHashOfBytes, blockHeaderCodec, type BlockHeader } from '../wire/block-header.ts'

/** A header's wire bytes and block hash. */
export interface HeaderHash {
  hash: Uint8Array
  hex: string
  bytes: Uint8Array
}

const received = new WeakMap<BlockHeader, HeaderHash>()

/**
 * Encodes and hashes a header that was just decoded from a peer's answer, and remembers the
 * result by identity (weakly): the sync hashes every header it receives to check it against what
 * it asked for, and `Chain.addBlocks` needs the same hash when the block is added. Only decoded
 * headers go through here — nothing mutates those (the protocols' signature caches rely on the
 * same) — so a header built or changed in place by other code is always hashed afresh.
 */
export function hashReceivedHeader (header: BlockHeader): HeaderHash {
  const bytes = encode(blockHeaderCodec, header)
  const hash = blockHashOfBytes(bytes)
  const h = { hash, hex: toHex(hash), bytes }
  received.set(header, h)
  return h
}

/** The header's bytes and hash: remembered if it was received (`hashReceivedHeader`), else computed. */
export function headerHashOf (header: BlockHeader): HeaderHash {
  const known = received.get(header)
  if (known !== undefined) return known
  const bytes = encode(blockHeaderCodec, header)
  const hash = blockHashOfBytes(bytes)
  return { hash, hex: toHex(hash), bytes }
}
