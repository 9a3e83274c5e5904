import { blake2b256 } from '../../crypto/index.ts'
import { bytesEqual, DecodeError } from '../../encoding/index.ts'
import type { SignatureCache } from './precheck.ts'
import type { BlockHeader } from '../../wire/block-header.ts'
import { InvalidBlockError, VALID, invalid, type Verdict } from '../errors.ts'
import type { ScratchState } from '../state.ts'
import { publicKeyHash } from '../demo/keys.ts'
import { checkBlockSignature, decodeBlockData, decodeV3Fitness, type BlockData } from './block-data.ts'
import { delegateKey, newContext, type OperationContext } from './context.ts'
import { freezeDeposit } from './consensus.ts'
import { VALIDATION_PASSES } from './encoding.ts'
import { cycleOf, expectsCommitment, type DemoV3Parameters } from './parameters.ts'
import { bakerAt, ensureCycle, firstPriorityOf, minimalTimestamp, type CycleContext } from './rights.ts'
import { credit, implicit, writeHeadLevel, writeNonce } from './store.ts'

/**
 * Block-level rules of demo v3: the header checks that need no state, the baker's right and
 * signature, and what every block does besides its operations (deposit, reward, nonce commitment).
 */

/** `makeBlock` with a key that holds no priority below the bound at the level: the caller waits for another level. */
export class NoBakingRightError extends Error {
  override readonly name = 'NoBakingRightError'
  readonly level: number
  readonly delegate: Uint8Array

  constructor (level: number, delegate: Uint8Array, maxPriority: number) {
    super(`no baking priority below ${maxPriority} at level ${level} for this key`)
    this.level = level
    this.delegate = delegate
  }
}

/**
 * `makeBlock` asked for a timestamp before the one Emmy*'s delay allows at the key's priority and
 * with the endorsements it found: the caller bakes again from `earliest` (with more endorsements,
 * the delay may shrink by then).
 */
export class TooEarlyForPriorityError extends Error {
  override readonly name = 'TooEarlyForPriorityError'
  readonly priority: number
  readonly earliest: bigint

  constructor (priority: number, endorsingPower: number, earliest: bigint) {
    super(`a block at priority ${priority} with endorsing power ${endorsingPower} may be dated from ${earliest}`)
    this.priority = priority
    this.earliest = earliest
  }
}

export interface BlockRules extends CycleContext {
  params: DemoV3Parameters
  authorityKey: Uint8Array
  signatures?: SignatureCache
}

/**
 * Header checks against the predecessor alone: fitness shape and level, the four passes, the
 * protocol data, the priority bound, the nonce commitment where one is due, and Emmy*'s minimal
 * timestamp for the priority and the endorsing power the fitness claims (the claim itself is
 * checked when the block is applied).
 */
export function checkV3Header (rules: BlockRules, header: BlockHeader, predecessor: BlockHeader): Verdict<InvalidBlockError> {
  const shell = header.shell
  let power: number
  try {
    const f = decodeV3Fitness(shell.fitness)
    if (f.level !== shell.level) return invalid(new InvalidBlockError('bad_fitness', `the fitness names level ${f.level}, the block is at ${shell.level}`))
    power = f.endorsingPower
  } catch (e) {
    if (e instanceof DecodeError) return invalid(new InvalidBlockError('bad_fitness', e.reason))
    throw e
  }
  if (shell.validationPass !== VALIDATION_PASSES) {
    return invalid(new InvalidBlockError('bad_validation_passes', `${shell.validationPass} validation passes, demo v3 has ${VALIDATION_PASSES}`))
  }
  let data: BlockData
  try {
    data = decodeBlockData(header.protocolData)
  } catch (e) {
    if (e instanceof DecodeError) return invalid(new InvalidBlockError('malformed_protocol_data', e.message))
    throw e
  }
  if (data.priority >= rules.params.maxPriority) {
    return invalid(new InvalidBlockError('bad_priority', `priority ${data.priority} is beyond the bound ${rules.params.maxPriority}`))
  }
  const due = expectsCommitment(rules.params, shell.level)
  if (due !== (data.seedNonceHash !== undefined)) {
    return invalid(new InvalidBlockError('bad_nonce_commitment', due
      ? `the block at level ${shell.level} must commit to a seed nonce`
      : `the block at level ${shell.level} carries a seed nonce hash where none is due`))
  }
  const earliest = minimalTimestamp(rules.params, predecessor.shell.timestamp, data.priority, power)
  if (shell.timestamp < earliest) {
    return invalid(new InvalidBlockError('timestamp_too_early',
      `a block at priority ${data.priority} with endorsing power ${power} may be baked from ${earliest}, not ${shell.timestamp}`))
  }
  return VALID
}

/**
 * Starts a block at `level` on `state`: runs the cycle transition if this is the first block of
 * its cycle, and returns the operation context and the baker of `priority`.
 */
export async function beginBlock (
  rules: BlockRules, state: ScratchState, level: number, priority: number, predecessorHash: Uint8Array
): Promise<{ ctx: OperationContext, baker: Uint8Array }> {
  const number = cycleOf(rules.params, level)
  const cycle = await ensureCycle(state, rules, number)
  rules.signatures?.learnCycle(number, cycle)
  const baker = bakerAt(cycle, level, priority)
  return { ctx: newContext(rules, { level, predecessorHash, baker }), baker }
}

/** Checks that the block is signed by the key of the baker of its priority. */
export async function checkBaker (rules: BlockRules, state: ScratchState, ctx: OperationContext, header: BlockHeader): Promise<void> {
  const baker = ctx.baker as Uint8Array
  const key = await delegateKey(state, ctx, baker)
  if (key === undefined) throw new InvalidBlockError('bad_baker', 'the delegate of this priority has no known key')
  const prechecked = rules.signatures?.verified.get(header)
  if ((prechecked === undefined || !bytesEqual(prechecked, key)) && !checkBlockSignature(header.shell, header.protocolData, key)) {
    throw new InvalidBlockError('bad_block_signature', 'the block is not signed by the delegate holding its priority at this level')
  }
}

/**
 * What the block itself does once its operations are applied: the baker freezes its block deposit
 * and earns the baking reward, held in the nonce record until the nonce is revealed when the block
 * commits to one (so an unrevealed nonce costs the reward); the head level is recorded for the mempool.
 */
export async function finishBlock (rules: BlockRules, state: ScratchState, ctx: OperationContext, seedNonceHash: Uint8Array | undefined): Promise<void> {
  const baker = ctx.baker as Uint8Array
  await freezeDeposit(state, cycleOf(rules.params, ctx.level), baker, rules.params.blockSecurityDeposit)
  if (seedNonceHash !== undefined) {
    writeNonce(state, ctx.level, { baker, hash: seedNonceHash, pendingReward: rules.params.bakingReward })
  } else if (rules.params.bakingReward > 0n) {
    await credit(state, implicit(baker), rules.params.bakingReward)
  }
  writeHeadLevel(state, ctx.level)
}

const NONCE_TAG = new TextEncoder().encode('tzp2p demo v3 nonce')

/**
 * The seed nonce a baker commits to at `level`: derived from its secret key, so the baker (and only
 * it) can recompute it to reveal it in the next cycle, even after a restart.
 */
export function seedNonceFor (secretKey: Uint8Array, level: number): Uint8Array {
  const l = new Uint8Array(4)
  new DataView(l.buffer).setInt32(0, level)
  return blake2b256([NONCE_TAG, secretKey.subarray(0, 32), l])
}

/** A delegate's baking slot at `level` on `state`: its first priority and the earliest timestamp for it (with no endorsements). */
export async function bakingSlot (
  rules: BlockRules, state: ScratchState, level: number, secretKey: Uint8Array
): Promise<{ priority: number, delegate: Uint8Array } | undefined> {
  const delegate = publicKeyHash(secretKey.subarray(32))
  const cycle = await ensureCycle(state, rules, cycleOf(rules.params, level))
  const priority = firstPriorityOf(cycle, level, delegate, rules.params.maxPriority)
  return priority === undefined ? undefined : { priority, delegate }
}
