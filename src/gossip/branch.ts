import { b58Decode } from '../crypto/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import { computeLocator, type BlockLocator, type LocatorSeed } from '../wire/locator.ts'

/** The 16 raw bytes of a Tezos peer id (`id…`), as locator seeds use them. */
export function peerIdBytes (tezosPeerId: string): Uint8Array {
  return b58Decode('peerId', tezosPeerId)
}

/**
 * Our current branch as a locator for one recipient (Octez `Current_branch`): seeded with
 * `{ sender: us, receiver: them }` so each peer gets differently spaced history entries and can
 * check every step. The caboose is the oldest block held: genesis, or the checkpoint the chain
 * started from (`ChainReader.caboose`).
 */
export async function currentBranchFor (chain: ChainReader, seed: LocatorSeed, size?: number): Promise<BlockLocator> {
  const head = chain.head
  return await computeLocator({
    headHash: head.hash,
    headHeader: head.header,
    seed,
    caboose: chain.caboose.hash,
    ...(size === undefined ? {} : { size }),
    getAncestor: async (hash, distance) => (await chain.getAncestor(hash, distance))?.hash
  })
}
