import { b58Encode } from '../crypto/index.ts'
import { bytesEqual } from '../encoding/index.ts'
import { blockHash } from '../wire/block-header.ts'
import { locatorToSteps, type BlockLocator, type LocatorSeed } from '../wire/locator.ts'
import type { BootstrapPlan } from './bootstrap-pipeline.ts'
import { InvalidLocatorError, type PlannedStep } from './step-headers.ts'

/**
 * From a peer's locator to a bootstrap plan (Octez `Block_locator.unknown_prefix` and `to_steps`,
 * `src/lib_base/block_locator.ml`): the history is cut at the first block we have, the steps are replayed with the
 * seed the sender used (`{ sender: that peer, receiver: us }`), and each step's top level and
 * length follow from the head's level, so the fetchers can verify every step exactly.
 */
export type BlockStatus = 'valid' | 'invalid' | 'unknown'

export interface PlanInput {
  peer: string
  locator: BlockLocator
  seed: LocatorSeed
  /** Whether we have a block (stored with its operations), know it invalid, or neither. */
  status: (hash: Uint8Array) => Promise<BlockStatus>
  /** Level of a block we have. */
  levelOf: (hash: Uint8Array) => Promise<number | undefined>
  /**
   * The oldest block we hold when it is above genesis (a chain started from a checkpoint): a
   * history reaching below it is cut there, as Octez's `to_steps_truncate` cuts at the savepoint.
   */
  caboose?: { hash: Uint8Array, level: number }
}

export type PlanOutcome =
  | { kind: 'plan', plan: BootstrapPlan }
  /** We already have the head. */
  | { kind: 'known' }
  /** Nothing in the locator is ours (Octez `Unknown_ancestor`: the peer is of no use to us). */
  | { kind: 'unknown-ancestor' }

/** Throws `InvalidLocatorError` for a locator naming a known-invalid block or with impossible steps. */
export async function planFromLocator (input: PlanInput): Promise<PlanOutcome> {
  const { locator } = input
  const headHash = blockHash(locator.headHeader)
  const headStatus = await input.status(headHash)
  if (headStatus === 'valid') return { kind: 'known' }
  if (headStatus === 'invalid') throw new InvalidLocatorError(`the locator's head ${b58Encode('blockHash', headHash)} is known invalid`)
  let cut = -1
  for (let i = 0; i < locator.history.length; i++) {
    const s = await input.status(locator.history[i])
    if (s === 'invalid') throw new InvalidLocatorError(`the locator names known-invalid block ${b58Encode('blockHash', locator.history[i])}`)
    if (s === 'valid') { cut = i; break }
  }
  const headLevel = locator.headHeader.shell.level
  const caboose = input.caboose !== undefined && input.caboose.level > 0 ? input.caboose : undefined
  let raw
  let startLevel: number | undefined
  const knownLevel = cut < 0 ? undefined : await input.levelOf(locator.history[cut])
  if (caboose !== undefined && (knownLevel === undefined || knownLevel < caboose.level)) {
    // Nothing we hold in the history, or only blocks below the caboose (genesis): the steps stop
    // at the caboose, and the oldest one must end on it.
    if (headLevel <= caboose.level) return { kind: 'unknown-ancestor' }
    const history = cut < 0 ? locator.history : locator.history.slice(0, cut + 1)
    raw = locatorToSteps(input.seed, { headHeader: locator.headHeader, history }, { limit: headLevel - caboose.level, savePoint: caboose.hash })
    startLevel = caboose.level
    // A history too short to reach the caboose leaves a gap no step covers.
    if (raw.length === 0 || !bytesEqual(raw[0].predecessor, caboose.hash)) return { kind: 'unknown-ancestor' }
  } else {
    if (cut < 0) return { kind: 'unknown-ancestor' }
    const pruned: BlockLocator = { headHeader: locator.headHeader, history: locator.history.slice(0, cut + 1) }
    raw = locatorToSteps(input.seed, pruned)
    startLevel = knownLevel
  }
  if (startLevel === undefined) return { kind: 'unknown-ancestor' }
  // Tops from the newest step down: each strict step is exactly its drawn length.
  const steps = new Array<PlannedStep>(raw.length)
  let topLevel = headLevel
  for (let i = raw.length - 1; i >= 0; i--) {
    const r = raw[i]
    const count = i === 0 ? topLevel - startLevel : r.step
    if (count < 1 || count > r.step || (r.strictStep && count !== r.step)) {
      throw new InvalidLocatorError(`locator step ${raw.length - i} from level ${topLevel}: ${count} block(s) to the next entry, the seeded step is ${r.step}`)
    }
    steps[i] = { top: r.block, topLevel, predecessor: r.predecessor, count }
    topLevel -= count
  }
  return {
    kind: 'plan',
    plan: { peer: input.peer, steps, startLevel, targetLevel: headLevel, targetHash: headHash }
  }
}
