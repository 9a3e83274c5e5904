import { blake2b256 } from '../../crypto/index.ts'
import { bytesEqual, toHex } from '../../encoding/index.ts'
import type { ScratchState } from '../state.ts'
import { expectsCommitment, firstLevelOf, type DemoV3Parameters } from './parameters.ts'
import {
  credit, delegates, frozenDeposit, implicit, readCycle, readNonce, stakeOf, writeCycle, writeFrozenDeposit, writeNonce, type CycleData
} from './store.ts'

/**
 * Baking and endorsement rights (Tezos `Baking`/`Roll_storage` of protocols 005–011, simplified):
 * each cycle has a seed and a snapshot of every delegate's stake, both fixed when the cycle starts;
 * the delegate at (level, priority) and the delegate of each endorsement slot are drawn from the
 * seed with probability proportional to stake (Tezos draws rolls of 8 000 tez; here the stake
 * itself weighs, which the P2P layer cannot tell apart).
 */

const TEXT = new TextEncoder()
const SEED_TAG = TEXT.encode('tzp2p demo v3 seed')

function int32 (v: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setInt32(0, v)
  return out
}

/** What a cycle transition needs besides the state: the parameters and the authority's key hash. */
export interface CycleContext {
  params: DemoV3Parameters
  /**
   * The protocol's authority (the configured baker of demo v1/v2): it holds every right while no
   * delegate has stake, so a chain that activates v3 before anyone registers still gets blocks.
   */
  authority: Uint8Array
}

/**
 * The draw data of `cycle`, computing and storing it on first use (the cycle transition, run by the
 * first block of the cycle, or by whoever needs the rights first on a scratch state):
 * - seed(c) = BLAKE2b-256("tzp2p demo v3 seed" ‖ seed(c−1) or 32 zero bytes ‖ c ‖ the nonces
 *   revealed for the commitments of cycle c−2, in level order). Those nonces were committed in
 *   cycle c−2 and revealed during c−1, so nobody could choose them knowing the seed they make;
 * - the commitments of cycle c−2 are settled: unrevealed ones lose their held reward (Tezos
 *   forfeits the baker's rewards of the cycle), revealed ones are removed once folded in;
 * - the deposits frozen in cycle c − preservedCycles − 1 go back to their delegates;
 * - the stake snapshot is every registered delegate's current stake (the authority with stake 1 if
 *   none has any).
 */
export async function ensureCycle (state: ScratchState, ctx: CycleContext, cycle: number): Promise<CycleData> {
  const existing = await readCycle(state, cycle)
  if (existing !== undefined) return existing
  const previous = cycle > 0 ? await readCycle(state, cycle - 1) : undefined
  const parts: Uint8Array[] = [SEED_TAG, previous?.seed ?? new Uint8Array(32), int32(cycle)]
  if (cycle >= 2) {
    const first = firstLevelOf(ctx.params, cycle - 2)
    for (let level = first; level < first + ctx.params.blocksPerCycle; level++) {
      if (!expectsCommitment(ctx.params, level)) continue
      const n = await readNonce(state, level)
      if (n === undefined) continue
      if (n.nonce !== undefined) parts.push(n.nonce)
      writeNonce(state, level, undefined)
    }
  }
  const list = await delegates(state)
  const unfreeze = cycle - ctx.params.preservedCycles - 1
  if (unfreeze >= 0) {
    for (const d of [...list, ctx.authority]) {
      const frozen = await frozenDeposit(state, unfreeze, d)
      if (frozen === 0n) continue
      writeFrozenDeposit(state, unfreeze, d, 0n)
      await credit(state, implicit(d), frozen)
    }
  }
  const stakes: CycleData['stakes'] = []
  for (const d of list) {
    const stake = await stakeOf(state, d)
    if (stake > 0n) stakes.push({ delegate: d, stake })
  }
  if (stakes.length === 0) stakes.push({ delegate: ctx.authority, stake: 1n })
  const data: CycleData = { seed: blake2b256(parts), stakes }
  writeCycle(state, cycle, data)
  return data
}

/** One stake-weighted draw: BLAKE2b-256(seed ‖ purpose ‖ level ‖ index), first 8 bytes mod total stake. */
function draw (c: CycleData, purpose: number, level: number, index: number): Uint8Array {
  return drawRun(c, purpose, level, index, 1)[0]
}

/** `count` draws at indexes `first`, `first + 1`…: one message buffer, its index rewritten for each hash. */
function drawRun (c: CycleData, purpose: number, level: number, first: number, count: number): Uint8Array[] {
  let total = 0n
  for (const s of c.stakes) total += s.stake
  const at = c.seed.length
  const message = new Uint8Array(at + 1 + 4 + 4)
  const view = new DataView(message.buffer)
  message.set(c.seed)
  message[at] = purpose
  view.setInt32(at + 1, level)
  const out: Uint8Array[] = []
  for (let index = first; index < first + count; index++) {
    view.setInt32(at + 5, index)
    const h = blake2b256(message)
    let r = new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0) % total
    let chosen = c.stakes[c.stakes.length - 1].delegate
    for (const s of c.stakes) {
      if (r < s.stake) { chosen = s.delegate; break }
      r -= s.stake
    }
    out.push(chosen)
  }
  return out
}

const BAKING = 0x62 // 'b'
const ENDORSING = 0x65 // 'e'

/** The delegate that may bake at `level` with `priority`. */
export function bakerAt (c: CycleData, level: number, priority: number): Uint8Array {
  return draw(c, BAKING, level, priority)
}

/**
 * Slot draws remembered by everything they depend on (the cycle's seed and stake snapshot, the
 * level, the slot count): every endorsement of a level is checked against the same draw in the
 * mempool, in each block carrying it, by the evidence watch and by the node's own endorser, and
 * each draw is one BLAKE2b per slot. A few levels are live at once; the bound keeps the table small.
 */
const SLOT_DRAWS = 64
const slotDraws = new Map<string, readonly Uint8Array[]>()

function drawKey (c: CycleData, level: number, endorsersPerBlock: number): string {
  const parts = [toHex(c.seed), String(level), String(endorsersPerBlock)]
  for (const s of c.stakes) parts.push(toHex(s.delegate), s.stake.toString())
  return parts.join(':')
}

/** The delegates of the `endorsersPerBlock` endorsement slots of `level`, slot by slot. */
export function endorsementSlots (c: CycleData, level: number, endorsersPerBlock: number): Uint8Array[] {
  const key = drawKey(c, level, endorsersPerBlock)
  let slots = slotDraws.get(key)
  if (slots === undefined) {
    slots = drawRun(c, ENDORSING, level, 0, endorsersPerBlock)
    if (slotDraws.size >= SLOT_DRAWS) slotDraws.delete(slotDraws.keys().next().value as string)
    slotDraws.set(key, slots)
  }
  // A copy of the list (callers may keep or reorder it); the delegates are the snapshot's, never written.
  return slots.map(d => d)
}

/** A delegate's slots at a level; its endorsement names the first, its endorsing power is their number. */
export function slotsOf (slots: readonly Uint8Array[], delegate: Uint8Array): number[] {
  const out: number[] = []
  slots.forEach((d, i) => { if (bytesEqual(d, delegate)) out.push(i) })
  return out
}

/** The first priority `delegate` holds at `level` below `maxPriority`, if any. */
export function firstPriorityOf (c: CycleData, level: number, delegate: Uint8Array, maxPriority: number): number | undefined {
  for (let p = 0; p < maxPriority; p++) if (bytesEqual(bakerAt(c, level, p), delegate)) return p
  return undefined
}

/**
 * The earliest timestamp of a block at `priority` carrying `endorsingPower`, after a predecessor
 * stamped `predecessorTimestamp`: Emmy*'s `minimal_valid_time` (`baking.ml` of protocols 009–011):
 * - priority 0 with at least `initialEndorsers` slots endorsed: predecessor + minimalBlockDelay;
 * - otherwise Emmy+'s delay: predecessor + timeBetweenBlocks[0] + priority × timeBetweenBlocks[1]
 *   + delayPerMissingEndorsement × max(0, initialEndorsers − endorsingPower).
 */
export function minimalTimestamp (p: DemoV3Parameters, predecessorTimestamp: bigint, priority: number, endorsingPower: number): bigint {
  if (priority === 0 && endorsingPower >= p.initialEndorsers) return predecessorTimestamp + BigInt(p.minimalBlockDelay)
  const missing = Math.max(0, p.initialEndorsers - endorsingPower)
  return predecessorTimestamp + BigInt(p.timeBetweenBlocks[0] + priority * p.timeBetweenBlocks[1] + p.delayPerMissingEndorsement * missing)
}
