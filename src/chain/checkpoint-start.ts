import { b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import type { PreparedOperations } from './checks.ts'
import { BLOCK_VALID } from './records.ts'
import type { ChainStore, Checkpoint, StoreBatch, StoredHeader } from './store.ts'

/**
 * Starting a chain from a trusted checkpoint instead of genesis (`--checkpoint`, for a node that
 * follows a long real chain in shell-only mode, as an Octez node imported from a snapshot starts
 * from its block). The checkpoint block is stored with its operations as the head and the
 * checkpoint, with no predecessor: it is the chain's caboose, the oldest block the node holds.
 * Nothing below it is ever fetched or applied; no branch may fork below it.
 */

/** The store or the chain cannot start from the requested checkpoint. */
export class CheckpointStartError extends Error {
  override readonly name = 'CheckpointStartError'
}

/** Why a chain whose head is `head` cannot start from `header`, or undefined. */
export function checkpointStartProblem (head: StoredHeader, checkpoint: Checkpoint, header: BlockHeader, hash: Uint8Array, shellOnly: boolean): string | undefined {
  const b58 = b58Encode('blockHash', hash)
  if (!shellOnly) return `cannot start from checkpoint ${b58}: the protocol needs the state below it (only --protocol shell starts from a checkpoint)`
  if (header.shell.level < 1) return `checkpoint ${b58} is at level ${header.shell.level}: a checkpoint is above genesis`
  if (head.header.shell.level !== 0 || checkpoint.level !== 0) {
    return `cannot start from checkpoint ${b58}: the store already holds a chain (head at level ${head.header.shell.level}, checkpoint ${b58Encode('blockHash', checkpoint.hash)})`
  }
  return undefined
}

/** The batch writing the checkpoint block as head, checkpoint and only block of the chain above genesis. */
export function checkpointStartBatch (store: ChainStore, stored: StoredHeader, ops: PreparedOperations): StoreBatch {
  const batch = store.newBatch()
  batch.putHeader(stored)
  ops.encodedPasses.forEach((encoded, pass) => { batch.putOperations(stored.hex, pass, encoded) })
  batch.putBlockRecord(stored.hex, { status: BLOCK_VALID, listHashes: ops.listHashes })
  batch.setLevel(stored.header.shell.level, stored.hex)
  batch.setHead(stored)
  batch.setCheckpoint({ hash: stored.hash, level: stored.header.shell.level })
  return batch
}

/**
 * The oldest block of the chain in `store`: the checkpoint when its predecessor is not stored (the
 * chain started from it), else genesis.
 */
export async function cabooseOf (store: ChainStore): Promise<Checkpoint> {
  const checkpoint = store.checkpoint
  if (checkpoint.level > 0) {
    const h = await store.getHeader(toHex(checkpoint.hash))
    if (h !== undefined && await store.getHeader(toHex(h.header.shell.predecessor)) === undefined) return checkpoint
  }
  return { hash: store.genesis.hash, level: 0 }
}
