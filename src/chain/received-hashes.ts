import { encode, toHex } from '../encoding/index.ts'
import { blockHashOfBytes, blockHeaderCodec, type BlockHeader } from '../wire/block-header.ts'
import { operationListHash } from '../wire/merkle.ts'
import { operationCodec, operationHashOfBytes, type Operation } from '../wire/operation.ts'
import { takeReceivedBytes } from '../wire/received-bytes.ts'

/**
 * Hashes of what a sync received from peers, remembered by identity (weakly) for the chain: the
 * sync hashes every header and operation list it receives to check it against what it asked for,
 * and `Chain.addBlocks` needs the same hashes when the block is added. Only decoded objects go
 * through the `hashReceived…` functions — nothing mutates those (the protocols' signature caches
 * rely on the same) — so anything built or changed in place by other code is hashed afresh. What
 * was decoded from an answer is hashed from the bytes it was decoded from
 * (`src/wire/received-bytes.ts`), not encoded again.
 */

/** A header's wire bytes and block hash. */
export interface HeaderHash {
  hash: Uint8Array
  hex: string
  bytes: Uint8Array
}

const received = new WeakMap<BlockHeader, HeaderHash>()

/** Encodes and hashes a header just decoded from a peer's answer, and remembers the result. */
export function hashReceivedHeader (header: BlockHeader): HeaderHash {
  const bytes = takeReceivedBytes(header) ?? encode(blockHeaderCodec, header)
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

/** One validation pass's operations: each one's wire bytes and hash, and the list's hash (Lo). */
export interface PassHashes {
  encoded: Uint8Array[]
  hashes: Uint8Array[]
  listHash: Uint8Array
}

const receivedPasses = new WeakMap<readonly Operation[], PassHashes>()

function hashPass (operations: readonly Operation[]): PassHashes {
  const encoded = operations.map(op => takeReceivedBytes(op) ?? encode(operationCodec, op))
  const hashes = encoded.map(operationHashOfBytes)
  return { encoded, hashes, listHash: operationListHash(hashes) }
}

/** Hashes a pass's operation list just decoded from a peer's answer, and remembers the result. */
export function hashReceivedPass (operations: readonly Operation[]): PassHashes {
  const h = hashPass(operations)
  receivedPasses.set(operations, h)
  return h
}

/** The pass's hashes: remembered if it was received (`hashReceivedPass`), else computed. */
export function passHashesOf (operations: readonly Operation[]): PassHashes {
  return receivedPasses.get(operations) ?? hashPass(operations)
}
