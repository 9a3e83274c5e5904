import { bytesEqual } from '../../encoding/index.ts'
import { InvalidOperationError, type InvalidOperationCode } from '../errors.ts'
import type { StateReader } from '../state.ts'
import type { Operation } from '../../wire/operation.ts'
import type { DemoV3Parameters } from './parameters.ts'
import type { SignatureCache } from './precheck.ts'
import { checkOperationSignature } from './sign.ts'
import { managerKey } from './store.ts'

/**
 * What checking and applying one operation needs besides the state: where it is (a block being
 * applied or baked, or the mempool on top of the head) and what the operations before it in the
 * same block did. One context per block (or per mempool round), threaded through its operations.
 */
export interface OperationContext {
  params: DemoV3Parameters
  /** The authority's Ed25519 public key (see `rights.ts`). */
  authorityKey: Uint8Array
  authority: Uint8Array
  /** Level of the block the operation goes into. */
  level: number
  /** Hash of the block the endorsements must endorse: the predecessor's (unknown in the mempool: only its level is checked). */
  predecessorHash?: Uint8Array
  /** Who gets fees, tips and evidence rewards (the block's baker; none in the mempool). */
  baker?: Uint8Array
  /** Delegates (hex) that already endorsed in this block or mempool round. */
  endorsed: Set<string>
  /** Endorsement slots included so far. */
  endorsingPower: number
  /** The slots of levels already drawn in this block or round (every endorsement of a level needs the same draw). */
  slots: Map<number, Uint8Array[]>
  /** Signatures verified ahead of application (`precheck.ts`), if the protocol runs a pool. */
  signatures?: SignatureCache
}

export function newContext (
  fixed: Pick<OperationContext, 'params' | 'authorityKey' | 'authority' | 'signatures'>,
  at: Pick<OperationContext, 'level' | 'predecessorHash' | 'baker'>
): OperationContext {
  return { ...fixed, ...at, endorsed: new Set(), endorsingPower: 0, slots: new Map() }
}

/**
 * Signatures that verified, by operation object, with the key they verified under. The mempool
 * checks an operation when it admits it, again on each new head while it waits, then the block
 * carrying it is applied with the very same object (the baker's block, or one rebuilt from the
 * mempool, gossip.md §4.4): each time the protocol names the signer again from the state, and only
 * a verdict under that very key is reused, so a check is skipped, never dropped. Operation objects
 * are not written after decoding; the map holds them weakly.
 */
const verifiedSignatures = new WeakMap<Operation, { key: Uint8Array, isEndorsement: boolean }>()

/** Whether a signed operation is signed by `key` (a verdict already reached under that very key, or checked now). */
export function signedBy (ctx: OperationContext, op: Operation, isEndorsement: boolean, key: Uint8Array): boolean {
  if (ctx.signatures !== undefined) return ctx.signatures.signedBy(op, isEndorsement, key)
  const known = verifiedSignatures.get(op)
  if (known !== undefined && known.isEndorsement === isEndorsement && bytesEqual(known.key, key)) return true
  const ok = checkOperationSignature(op.branch, op.data, isEndorsement, key)
  if (ok) verifiedSignatures.set(op, { key, isEndorsement })
  return ok
}

export function refuse (code: InvalidOperationCode, message: string): InvalidOperationError {
  return new InvalidOperationError(code, message)
}

/** The key that signs for a delegate: its revealed key, or the authority's key. */
export async function delegateKey (state: StateReader, ctx: OperationContext, pkh: Uint8Array): Promise<Uint8Array | undefined> {
  const key = await managerKey(state, pkh)
  if (key !== undefined) return key
  return bytesEqual(pkh, ctx.authority) ? ctx.authorityKey : undefined
}
