import { b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import type { Operation } from '../wire/operation.ts'
import type { PreparedOperations } from './checks.ts'
import { KnownInvalidBlockError } from './errors.ts'
import type { BLOCK_STORED, BLOCK_VALID } from './records.ts'
import { ChainStoreError, decodePassOperations, type ChainStore, type StoredHeader } from './store.ts'
import type { PreparedBlock } from './transition.ts'

/**
 * Blocks the chain already holds, read back for fork choice, and new blocks written without
 * being applied: the store side of `Chain.addBlocks` (src/chain/chain.ts).
 */

/** A stored block's operations, decoded, with the encodings and list hashes they were stored with. */
export async function loadStoredOperations (store: ChainStore, stored: StoredHeader, listHashes: Uint8Array[]): Promise<PreparedOperations> {
  const operations: Operation[][] = []
  const encodedPasses: Uint8Array[] = []
  for (let pass = 0; pass < listHashes.length; pass++) {
    const encoded = await store.getEncodedOperations(stored.hex, pass)
    if (encoded === undefined) throw new ChainStoreError(`operations of ${stored.hex} pass ${pass} are missing`)
    encodedPasses.push(encoded)
    operations.push(decodePassOperations(encoded))
  }
  return { operations, encodedPasses, listHashes, hashes: [] }
}

/**
 * Stored blocks (not on the current chain) between the current chain and `block`, oldest first:
 * a branch that becomes better with `block` is applied from its fork point. A known invalid block
 * on the way makes the whole branch invalid.
 */
export async function storedBranchBelow (store: ChainStore, block: PreparedBlock | undefined): Promise<PreparedBlock[]> {
  if (block === undefined) return []
  const out: PreparedBlock[] = []
  let hex = toHex(block.stored.header.shell.predecessor)
  for (;;) {
    const h = await store.getHeader(hex)
    if (h === undefined) throw new ChainStoreError(`block ${hex} of a stored branch is missing`)
    if (await store.mainChainAt(h.header.shell.level) === hex) break
    const invalidRecord = await store.getInvalid(hex)
    if (invalidRecord !== undefined) throw new KnownInvalidBlockError(b58Encode('blockHash', h.hash), invalidRecord)
    const record = await store.getBlockRecord(hex)
    if (record === undefined) throw new ChainStoreError(`operations of stored block ${hex} are missing`)
    out.push({ stored: h, ops: await loadStoredOperations(store, h, record.listHashes), isNew: false })
    hex = toHex(h.header.shell.predecessor)
  }
  return out.reverse()
}

/** Adds the new ones of `blocks` to `batch` as stored but not applied (`status` says whether they were found valid). */
export function addStoreOnly (batch: ReturnType<ChainStore['newBatch']>, blocks: PreparedBlock[], status: typeof BLOCK_STORED | typeof BLOCK_VALID): void {
  for (const b of blocks) {
    if (!b.isNew) continue
    batch.putHeader(b.stored)
    b.ops.encodedPasses.forEach((e, pass) => batch.putOperations(b.stored.hex, pass, e))
    batch.putBlockRecord(b.stored.hex, { status, listHashes: b.ops.listHashes })
  }
}
