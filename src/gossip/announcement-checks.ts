import { b58Encode } from '../crypto/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { BlockHeader } from '../wire/block-header.ts'

/** A peer announced a head or branch naming a block we know to be invalid (Octez greylists it). */
export class KnownInvalidAnnouncementError extends Error {
  override readonly name = 'KnownInvalidAnnouncementError'
  readonly misbehaviour = 'invalid-data'
}

/** A node running with `--disable-mempool` received a non-empty mempool (Octez treats the head as known-invalid). */
export class UnwantedMempoolError extends Error {
  override readonly name = 'UnwantedMempoolError'
  readonly misbehaviour = 'invalid-data'
}

/**
 * What an announced head (Current_head, or a Current_branch's head) is worth before anything is
 * fetched (`protocols/gossip.md` §4.4, items 3 and 4): `future` when dated after `latestSeconds`
 * (ignored, nobody blamed), `inapplicable` when we found it inapplicable after its validation
 * (ignored: the peer may have advertised it before its own application failed, §9), `ok`
 * otherwise. Throws `KnownInvalidAnnouncementError` (the peer's fault) when the head or its
 * predecessor is a block we hold invalid.
 */
export async function announcementVerdict (chain: ChainReader, hash: Uint8Array, header: BlockHeader, latestSeconds: number): Promise<'future' | 'inapplicable' | 'ok'> {
  if (Number(header.shell.timestamp) > latestSeconds) return 'future'
  // Both lookups at once: they are on every announcement's path, before it is passed on.
  const [invalid, invalidPredecessor] = await Promise.all([chain.isKnownInvalid(hash), chain.isKnownInvalid(header.shell.predecessor)])
  if (invalid !== undefined) {
    if (invalid.afterValidation === true) return 'inapplicable'
    throw new KnownInvalidAnnouncementError(`announced known-invalid block ${b58Encode('blockHash', hash)}`)
  }
  if (invalidPredecessor !== undefined) {
    throw new KnownInvalidAnnouncementError(`announced a block on known-invalid block ${b58Encode('blockHash', header.shell.predecessor)}`)
  }
  return 'ok'
}
