import { Writer } from '../../encoding/index.ts'

/**
 * Demo v3's protocol parameters: the Emmy* constants (`Constants_repr.parametric` of protocols
 * 009–011) the protocol uses, scaled to a devnet (short cycles, small slots, seconds-long delays).
 * Amounts are in the demo's unit (a mutez, if you like).
 */
export interface DemoV3Parameters {
  /** Blocks per cycle (Tezos `blocks_per_cycle`). */
  blocksPerCycle: number
  /** A block commits to a seed nonce every this many levels (Tezos `blocks_per_commitment`). */
  blocksPerCommitment: number
  /** Endorsement slots per level (Tezos `endorsers_per_block`). */
  endorsersPerBlock: number
  /** Endorsing power under which a priority-0 block waits for more than `minimalBlockDelay` (Tezos `initial_endorsers`). */
  initialEndorsers: number
  /** Seconds after the predecessor for a priority-0 block with enough endorsements (Tezos `minimal_block_delay`). */
  minimalBlockDelay: number
  /** Seconds: the base delay and the delay per priority (Tezos `time_between_blocks`). */
  timeBetweenBlocks: [number, number]
  /** Seconds per endorsement slot missing below `initialEndorsers` (Tezos `delay_per_missing_endorsement`). */
  delayPerMissingEndorsement: number
  /** Cycles a deposit stays frozen, and the window in which evidence is accepted (Tezos `preserved_cycles`). */
  preservedCycles: number
  blockSecurityDeposit: bigint
  /** Per endorsement slot. */
  endorsementSecurityDeposit: bigint
  bakingReward: bigint
  /** Per endorsement slot. */
  endorsementReward: bigint
  /** Paid to the baker of the block that includes a seed nonce revelation (Tezos `seed_nonce_revelation_tip`). */
  seedNonceRevelationTip: bigint
  /** Priorities a baker may use (0 … maxPriority − 1). */
  maxPriority: number
}

export const DEFAULT_V3_PARAMETERS: Readonly<DemoV3Parameters> = {
  blocksPerCycle: 16,
  blocksPerCommitment: 4,
  endorsersPerBlock: 32,
  initialEndorsers: 16,
  minimalBlockDelay: 1,
  timeBetweenBlocks: [2, 2],
  delayPerMissingEndorsement: 0,
  preservedCycles: 2,
  blockSecurityDeposit: 512_000_000n,
  endorsementSecurityDeposit: 64_000_000n,
  bakingReward: 40_000_000n,
  endorsementReward: 1_250_000n,
  seedNonceRevelationTip: 125_000n,
  maxPriority: 64
}

export class DemoV3ParametersError extends RangeError {
  override readonly name = 'DemoV3ParametersError'
}

function positiveInt (what: string, v: number, max = 0xffff): void {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new DemoV3ParametersError(`demo v3: ${what} must be an integer in [1, ${max}], got ${v}`)
}

function nonNegativeInt (what: string, v: number, max = 0xffff): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new DemoV3ParametersError(`demo v3: ${what} must be an integer in [0, ${max}], got ${v}`)
}

function amount (what: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < 0n || v > 1n << 53n) throw new DemoV3ParametersError(`demo v3: ${what} must be an amount in [0, 2^53], got ${String(v)}`)
}

/** The parameters with defaults filled in, checked. */
export function resolveParameters (p: Partial<DemoV3Parameters> = {}): DemoV3Parameters {
  const out: DemoV3Parameters = { ...DEFAULT_V3_PARAMETERS, ...p }
  positiveInt('blocksPerCycle', out.blocksPerCycle, 1 << 20)
  positiveInt('blocksPerCommitment', out.blocksPerCommitment, out.blocksPerCycle)
  positiveInt('endorsersPerBlock', out.endorsersPerBlock, 0xffff)
  nonNegativeInt('initialEndorsers', out.initialEndorsers, out.endorsersPerBlock)
  nonNegativeInt('minimalBlockDelay', out.minimalBlockDelay, 3600)
  nonNegativeInt('timeBetweenBlocks[0]', out.timeBetweenBlocks[0], 3600)
  nonNegativeInt('timeBetweenBlocks[1]', out.timeBetweenBlocks[1], 3600)
  nonNegativeInt('delayPerMissingEndorsement', out.delayPerMissingEndorsement, 3600)
  positiveInt('preservedCycles', out.preservedCycles, 64)
  positiveInt('maxPriority', out.maxPriority, 0xffff)
  amount('blockSecurityDeposit', out.blockSecurityDeposit)
  amount('endorsementSecurityDeposit', out.endorsementSecurityDeposit)
  amount('bakingReward', out.bakingReward)
  amount('endorsementReward', out.endorsementReward)
  amount('seedNonceRevelationTip', out.seedNonceRevelationTip)
  return out
}

/** The parameters' bytes, part of the manifest's source digest. */
export function writeParameters (w: Writer, p: DemoV3Parameters): void {
  w.int32(p.blocksPerCycle).int32(p.blocksPerCommitment).uint16(p.endorsersPerBlock).uint16(p.initialEndorsers)
  w.int32(p.minimalBlockDelay).int32(p.timeBetweenBlocks[0]).int32(p.timeBetweenBlocks[1]).int32(p.delayPerMissingEndorsement)
  w.uint8(p.preservedCycles).uint16(p.maxPriority)
  for (const a of [p.blockSecurityDeposit, p.endorsementSecurityDeposit, p.bakingReward, p.endorsementReward, p.seedNonceRevelationTip]) w.int64(a)
}

/** Tezos cycles start at level 1: cycle = (level − 1) / blocksPerCycle. */
export function cycleOf (p: DemoV3Parameters, level: number): number {
  return Math.floor((level - 1) / p.blocksPerCycle)
}

/** Whether the block at `level` must commit to a seed nonce (Tezos `Level_repr.expected_commitment`). */
export function expectsCommitment (p: DemoV3Parameters, level: number): boolean {
  if (level < 1) return false
  const position = (level - 1) % p.blocksPerCycle
  return position % p.blocksPerCommitment === p.blocksPerCommitment - 1
}

/** The first level of `cycle`. */
export function firstLevelOf (p: DemoV3Parameters, cycle: number): number {
  return cycle * p.blocksPerCycle + 1
}
