import type { BlockHeader } from '../wire/block-header.ts'
import { compareFitness } from '../wire/fitness.ts'
import type { BlockLocator } from '../wire/locator.ts'

/**
 * The branches peers announced that beat our head, waiting for the bootstrap pipeline: one per
 * peer (its best), the best of all taken when no pipeline runs, and a branch whose pipeline
 * stopped with nobody to blame offered again later. Kept apart from the chain validator
 * (chain-validator.ts), which decides when a branch is announced, dropped or taken.
 */

/** Octez answers Get_current_branch once per 4 s per peer: an unanswered request, or a stopped branch, is tried again after that. */
export const BRANCH_RETRY_MS = 4000

export interface BranchTarget {
  peer: string
  headHash: Uint8Array
  header: BlockHeader
  locator: BlockLocator
}

export class BranchTargets {
  private readonly byPeer = new Map<string, BranchTarget>()
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>()
  private stopped = false

  /** Keeps `target` unless its peer announced a better branch already. */
  offer (target: BranchTarget): void {
    const existing = this.byPeer.get(target.peer)
    if (existing === undefined || compareFitness(target.header.shell.fitness, existing.header.shell.fitness) >= 0) {
      this.byPeer.set(target.peer, target)
    }
  }

  /** Puts back a target `takeBest` gave. */
  restore (target: BranchTarget): void {
    this.byPeer.set(target.peer, target)
  }

  delete (peer: string): void {
    this.byPeer.delete(peer)
  }

  /** Drops the branches that no longer beat the head, and takes out the best one left, if any. */
  takeBest (beatsHead: (header: BlockHeader) => boolean): BranchTarget | undefined {
    const target = [...this.byPeer.values()]
      .filter(t => beatsHead(t.header))
      .sort((a, b) => compareFitness(b.header.shell.fitness, a.header.shell.fitness))[0]
    for (const t of this.byPeer.values()) if (!beatsHead(t.header)) this.byPeer.delete(t.peer)
    if (target !== undefined) this.byPeer.delete(target.peer)
    return target
  }

  /**
   * Offers `target` again after `BRANCH_RETRY_MS`, unless its peer announced another branch since
   * or is gone (`stillThere`), then calls `onDue` (to take the best branch), whatever happened.
   */
  retryLater (target: BranchTarget, stillThere: () => boolean, onDue: () => void): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer)
      if (!this.byPeer.has(target.peer) && stillThere()) this.byPeer.set(target.peer, target)
      onDue()
    }, BRANCH_RETRY_MS)
    timer.unref()
    this.retryTimers.add(timer)
  }

  stop (): void {
    this.stopped = true
    for (const t of this.retryTimers) clearTimeout(t)
  }
}
