import { blake2b, blake2b256 } from '../../crypto/index.ts'
import { bytesEqual, DecodeError, toHex } from '../../encoding/index.ts'
import { blockHash } from '../../wire/block-header.ts'
import type { InvalidOperationError } from '../errors.ts'
import type { ScratchState } from '../state.ts'
import { checkBlockSignature, decodeBlockData } from './block-data.ts'
import type { Operation } from '../../wire/operation.ts'
import { delegateKey, refuse, signedBy, type OperationContext } from './context.ts'
import type { Contents, Endorsement } from './encoding.ts'
import { cycleOf } from './parameters.ts'
import { bakerAt, endorsementSlots, ensureCycle, slotsOf } from './rights.ts'
import { checkInlinedEndorsement } from './sign.ts'
import {
  blindedBalance, credit, frozenDeposit, implicit, isDenounced, markDenounced, readContract, readCycle, readNonce,
  writeBlinded, writeFrozenDeposit, writeNonce
} from './store.ts'

/**
 * Consensus (pass 0) and anonymous (pass 2) operations: endorsements, seed nonce revelations,
 * activations and double baking / double endorsement evidence, with the rules of protocols 005–011
 * (`apply.ml`, `baking.ml`), simplified as protocols/sync.md, Appendix A.2 says.
 */

/** Freezes up to `amount` of a delegate's balance as a deposit of `cycle` (less if it has less: see the spec). */
export async function freezeDeposit (state: ScratchState, cycle: number, delegate: Uint8Array, amount: bigint): Promise<void> {
  const balance = (await readContract(state, implicit(delegate)))?.balance ?? 0n
  const frozen = amount < balance ? amount : balance
  if (frozen <= 0n) return
  await credit(state, implicit(delegate), -frozen)
  writeFrozenDeposit(state, cycle, delegate, await frozenDeposit(state, cycle, delegate) + frozen)
}

async function applyEndorsement (
  e: Endorsement, op: Operation, state: ScratchState, ctx: OperationContext
): Promise<InvalidOperationError | undefined> {
  const endorsed = ctx.level - 1
  if (endorsed < 1) return refuse('wrong_endorsement_level', 'the genesis block is not endorsed')
  if (e.level !== endorsed) return refuse('wrong_endorsement_level', `endorses level ${e.level}; a block at level ${ctx.level} carries endorsements of level ${endorsed}`)
  if (ctx.predecessorHash !== undefined && !bytesEqual(op.branch, ctx.predecessorHash)) {
    return refuse('wrong_endorsed_block', 'the branch is not the endorsed block (the predecessor of the block carrying it)')
  }
  if (e.slot >= ctx.params.endorsersPerBlock) return refuse('wrong_slot', `slot ${e.slot} is beyond the ${ctx.params.endorsersPerBlock} slots of a level`)
  let slots = ctx.slots.get(e.level)
  if (slots === undefined) {
    slots = endorsementSlots(await ensureCycle(state, ctx, cycleOf(ctx.params, e.level)), e.level, ctx.params.endorsersPerBlock)
    ctx.slots.set(e.level, slots)
  }
  const delegate = slots[e.slot]
  const mine = slotsOf(slots, delegate)
  if (mine[0] !== e.slot) return refuse('wrong_slot', `slot ${e.slot} is not its delegate's first slot (${mine[0]})`)
  const key = await delegateKey(state, ctx, delegate)
  if (key === undefined) return refuse('not_a_delegate', 'the slot\'s delegate has no known key')
  if (!signedBy(ctx, op, true, key)) return refuse('bad_signature', 'the signature is not the slot delegate\'s')
  const hex = toHex(delegate)
  if (ctx.endorsed.has(hex)) return refuse('duplicate_endorsement', `the delegate of slot ${e.slot} already endorsed level ${e.level}`)
  ctx.endorsed.add(hex)
  ctx.endorsingPower += mine.length
  await freezeDeposit(state, cycleOf(ctx.params, ctx.level), delegate, ctx.params.endorsementSecurityDeposit * BigInt(mine.length))
  await credit(state, implicit(delegate), ctx.params.endorsementReward * BigInt(mine.length))
  return undefined
}

/**
 * Tezos's blinded public key hash (`Blinded_public_key_hash`): BLAKE2b-160 of the activation
 * secret ‖ the public key hash (Tezos keys the hash with the secret instead; same commitment).
 */
export function blindedPublicKeyHash (pkh: Uint8Array, secret: Uint8Array): Uint8Array {
  return blake2b([secret, pkh], 20)
}

/** The delegate that punished behaviour costs: its frozen deposits of the offence's cycle, half to the reporter, half burned. */
async function slash (state: ScratchState, ctx: OperationContext, what: 'baking' | 'endorsement', level: number, offender: Uint8Array): Promise<void> {
  const cycle = cycleOf(ctx.params, level)
  const frozen = await frozenDeposit(state, cycle, offender)
  writeFrozenDeposit(state, cycle, offender, 0n)
  const reward = ctx.baker === undefined ? 0n : frozen / 2n
  if (ctx.baker !== undefined && reward > 0n) await credit(state, implicit(ctx.baker), reward)
  markDenounced(state, what, level, offender, { taken: frozen, reward, ...(ctx.baker === undefined ? {} : { reporter: ctx.baker }) })
}

/** Evidence is taken about a level of the current cycle or the `preservedCycles` before it, below the block. */
function checkEvidenceWindow (ctx: OperationContext, level: number): InvalidOperationError | undefined {
  if (level >= ctx.level || level < 1) return refuse('not_equivocation', `level ${level} is not below the block's level ${ctx.level}`)
  if (cycleOf(ctx.params, level) < cycleOf(ctx.params, ctx.level) - ctx.params.preservedCycles) {
    return refuse('evidence_too_old', `level ${level} is older than the ${ctx.params.preservedCycles} preserved cycles`)
  }
  return undefined
}

async function applyDoubleEndorsement (c: Extract<Contents, { kind: 'double_endorsement_evidence' }>, state: ScratchState, ctx: OperationContext): Promise<InvalidOperationError | undefined> {
  const { op1, op2 } = c
  if (op1.endorsement.level !== op2.endorsement.level) return refuse('not_equivocation', `the endorsements are of levels ${op1.endorsement.level} and ${op2.endorsement.level}`)
  if (bytesEqual(op1.branch, op2.branch)) return refuse('not_equivocation', 'both endorsements endorse the same block')
  const level = op1.endorsement.level
  const window = checkEvidenceWindow(ctx, level)
  if (window !== undefined) return window
  const data = await readCycle(state, cycleOf(ctx.params, level))
  if (data === undefined) return refuse('evidence_too_old', `no rights are known for level ${level}`)
  const slots = endorsementSlots(data, level, ctx.params.endorsersPerBlock)
  if (op1.endorsement.slot >= slots.length || op2.endorsement.slot >= slots.length) return refuse('wrong_slot', 'a slot is beyond the slots of a level')
  const offender = slots[op1.endorsement.slot]
  if (!bytesEqual(offender, slots[op2.endorsement.slot])) return refuse('not_equivocation', 'the endorsements are by different delegates')
  const key = await delegateKey(state, ctx, offender)
  if (key === undefined || !checkInlinedEndorsement(op1, key) || !checkInlinedEndorsement(op2, key)) {
    return refuse('bad_signature', 'an endorsement is not signed by the slot\'s delegate')
  }
  if (await isDenounced(state, 'endorsement', level, offender)) return refuse('already_denounced', `the delegate was already denounced for level ${level}`)
  await slash(state, ctx, 'endorsement', level, offender)
  return undefined
}

async function applyDoubleBaking (c: Extract<Contents, { kind: 'double_baking_evidence' }>, state: ScratchState, ctx: OperationContext): Promise<InvalidOperationError | undefined> {
  const { bh1, bh2 } = c
  const level = bh1.shell.level
  if (level !== bh2.shell.level) return refuse('not_equivocation', `the blocks are at levels ${level} and ${bh2.shell.level}`)
  if (bytesEqual(blockHash(bh1), blockHash(bh2))) return refuse('not_equivocation', 'both headers are the same block')
  const window = checkEvidenceWindow(ctx, level)
  if (window !== undefined) return window
  let p1: number, p2: number
  try {
    p1 = decodeBlockData(bh1.protocolData).priority
    p2 = decodeBlockData(bh2.protocolData).priority
  } catch (e) {
    if (e instanceof DecodeError) return refuse('not_equivocation', `a header is not a demo v3 header (${e.message})`)
    throw e
  }
  const data = await readCycle(state, cycleOf(ctx.params, level))
  if (data === undefined) return refuse('evidence_too_old', `no rights are known for level ${level}`)
  const offender = bakerAt(data, level, p1)
  if (!bytesEqual(offender, bakerAt(data, level, p2))) return refuse('not_equivocation', 'the blocks are by different bakers')
  const key = await delegateKey(state, ctx, offender)
  if (key === undefined || !checkBlockSignature(bh1.shell, bh1.protocolData, key) || !checkBlockSignature(bh2.shell, bh2.protocolData, key)) {
    return refuse('bad_signature', 'a header is not signed by the baker of its priority')
  }
  if (await isDenounced(state, 'baking', level, offender)) return refuse('already_denounced', `the baker was already denounced for level ${level}`)
  await slash(state, ctx, 'baking', level, offender)
  return undefined
}

async function applyNonceRevelation (c: Extract<Contents, { kind: 'seed_nonce_revelation' }>, state: ScratchState, ctx: OperationContext): Promise<InvalidOperationError | undefined> {
  const current = cycleOf(ctx.params, ctx.level)
  if (c.level < 1 || cycleOf(ctx.params, c.level) !== current - 1) {
    return refuse('unexpected_nonce', `the nonce of level ${c.level} is revealed during the cycle after it, not in cycle ${current}`)
  }
  const record = await readNonce(state, c.level)
  if (record === undefined) return refuse('unexpected_nonce', `no seed nonce commitment at level ${c.level}`)
  if (record.nonce !== undefined) return refuse('unexpected_nonce', `the nonce of level ${c.level} was already revealed`)
  if (!bytesEqual(blake2b256(c.nonce), record.hash)) return refuse('bad_nonce', `the nonce does not hash to the commitment of level ${c.level}`)
  writeNonce(state, c.level, { baker: record.baker, hash: record.hash, pendingReward: 0n, nonce: c.nonce })
  if (record.pendingReward > 0n) await credit(state, implicit(record.baker), record.pendingReward)
  if (ctx.baker !== undefined) await credit(state, implicit(ctx.baker), ctx.params.seedNonceRevelationTip)
  return undefined
}

async function applyActivation (c: Extract<Contents, { kind: 'activate_account' }>, state: ScratchState): Promise<InvalidOperationError | undefined> {
  const blinded = blindedPublicKeyHash(c.pkh, c.secret)
  const balance = await blindedBalance(state, blinded)
  if (balance === undefined) return refuse('invalid_activation', 'no unactivated commitment for this key hash and secret')
  writeBlinded(state, blinded, undefined)
  await credit(state, implicit(c.pkh), balance)
  return undefined
}

/** Checks and applies a consensus or anonymous operation (the manager kinds are `manager.ts`'s). */
export async function applyConsensusOrAnonymous (
  c: Contents, op: Operation, state: ScratchState, ctx: OperationContext
): Promise<InvalidOperationError | undefined> {
  switch (c.kind) {
    case 'endorsement': return await applyEndorsement(c, op, state, ctx)
    case 'seed_nonce_revelation': return await applyNonceRevelation(c, state, ctx)
    case 'activate_account': return await applyActivation(c, state)
    case 'double_endorsement_evidence': return await applyDoubleEndorsement(c, state, ctx)
    case 'double_baking_evidence': return await applyDoubleBaking(c, state, ctx)
    default: return refuse('refused', `${c.kind} is a manager operation`)
  }
}
