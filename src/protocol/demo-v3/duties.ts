import { bytesEqual } from '../../encoding/index.ts'
import type { Operation } from '../../wire/operation.ts'
import type { StateReader } from '../state.ts'
import { publicKeyHash } from '../demo/keys.ts'
import { seedNonceFor } from './block.ts'
import { cycleOf, expectsCommitment, firstLevelOf, type DemoV3Parameters } from './parameters.ts'
import { anonymousOperation, signOperation } from './sign.ts'
import { readNonce } from './store.ts'

/**
 * What a delegate's node injects besides its blocks (Tezos's endorser and the baker's nonce
 * revelations): built from the state and the delegate's key, checked by the protocol like anyone's.
 */

/** The endorsement of the head block by `secretKey`'s delegate, at its first slot; undefined without a slot. */
export function endorsementOf (head: { hash: Uint8Array, level: number }, slots: readonly Uint8Array[], secretKey: Uint8Array): Operation | undefined {
  const delegate = publicKeyHash(secretKey.subarray(32))
  const slot = slots.findIndex(d => bytesEqual(d, delegate))
  if (slot < 0) return undefined
  return { branch: head.hash, data: signOperation(head.hash, { kind: 'endorsement', level: head.level, slot }, secretKey) }
}

/**
 * The seed nonce revelations `secretKey`'s delegate owes for a block at `level`: its commitments of
 * the previous cycle not yet revealed (the nonce is `seedNonceFor`, so nothing needs storing).
 * `branch` is the block the operations are forged on (the head).
 */
export async function revelationsDue (
  state: StateReader, params: DemoV3Parameters, level: number, branch: Uint8Array, secretKey: Uint8Array
): Promise<Operation[]> {
  const cycle = cycleOf(params, level) - 1
  if (cycle < 0) return []
  const delegate = publicKeyHash(secretKey.subarray(32))
  const out: Operation[] = []
  const first = firstLevelOf(params, cycle)
  for (let l = first; l < first + params.blocksPerCycle; l++) {
    if (!expectsCommitment(params, l)) continue
    const record = await readNonce(state, l)
    if (record === undefined || record.nonce !== undefined || !bytesEqual(record.baker, delegate)) continue
    out.push({ branch, data: anonymousOperation({ kind: 'seed_nonce_revelation', level: l, nonce: seedNonceFor(secretKey, l) }) })
  }
  return out
}
