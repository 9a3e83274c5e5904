import { encode } from '../encoding/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { StoredHeader } from '../chain/store.ts'
import { operationCodec, operationHashOfBytes } from '../wire/operation.ts'

/**
 * A block's operation hashes in block order, pass after pass: what a new head's Current_head
 * lists for tzp2p peers (gossip.md §4.3), so that a receiver holding them in its mempool can pick
 * them out by hash. Read while the block is being written: the store serves its operations from
 * its recent-blocks cache. Empty when a pass is not found (the head is then announced without).
 */
export async function blockOperationHashes (chain: Pick<ChainReader, 'getOperations'>, head: StoredHeader): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let pass = 0; pass < head.header.shell.validationPass; pass++) {
    const operations = await chain.getOperations(head.hash, pass)
    if (operations === undefined) return []
    for (const op of operations) out.push(operationHashOfBytes(encode(operationCodec, op)))
  }
  return out
}
