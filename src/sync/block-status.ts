import { bytesEqual } from '../encoding/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import { compareFitness } from '../wire/fitness.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import type { BlockStatus } from './plan.ts'

/**
 * What our chain makes of a block a peer announced: held valid, known invalid or unknown, whether
 * it beats our head, whether it needs a protocol we lack. Read-only questions to the chain, asked
 * by the chain validator (chain-validator.ts) before it follows a head or a branch, and kept apart
 * from its decisions.
 */

export async function blockStatus (chain: ChainReader, hash: Uint8Array): Promise<BlockStatus> {
  // The head is valid: a new head's predecessor usually is our head, so no store lookup is needed.
  if (bytesEqual(hash, chain.head.hash)) return 'valid'
  const [invalid, stored] = await Promise.all([chain.isKnownInvalid(hash), chain.hasBlock(hash)])
  if (invalid !== undefined) return 'invalid'
  return stored ? 'valid' : 'unknown'
}

/**
 * The status of an announced head. The usual one, a block on our head that beats it, cannot be
 * stored already (it would be our head), so only its known-invalid mark is looked up: the store
 * lookup of the block is saved on every hop. Were it stored after all, adding it again finds it.
 */
export async function announcedHeadStatus (chain: ChainReader, header: BlockHeader, hash: Uint8Array): Promise<BlockStatus> {
  if (!bytesEqual(header.shell.predecessor, chain.head.hash) || !beatsHead(chain, header)) return await blockStatus(chain, hash)
  return await chain.isKnownInvalid(hash) !== undefined ? 'invalid' : 'unknown'
}

export function beatsHead (chain: ChainReader, header: BlockHeader): boolean {
  return compareFitness(header.shell.fitness, chain.head.header.shell.fitness) > 0
}

/**
 * The head leads to a protocol we do not have, and `header` is at or past that protocol level:
 * its branch is not followed (fetching it again would end at the same block). Branches that
 * stay below the level are still taken.
 */
export function needsMissingProtocol (chain: ChainReader, header: BlockHeader): boolean {
  const missing = chain.missingProtocol
  return missing !== undefined && header.shell.proto >= missing.protoLevel
}
