/**
 * Octez's "bootstrapped" heuristic (`synchronisation_heuristic.ml`, chain validator): for each
 * peer, the timestamp of the most recent block it gave us that we hold valid. The node is
 * synchronised when `threshold` distinct peers have such a block no older than `latency`; it is
 * also synchronised ("chain stuck") when `threshold` peers all sit on blocks with the same
 * timestamp, older than that — there is nothing newer to catch up with. A threshold of 0 means
 * synchronised from the start. Once synchronised, the node is `bootstrapped` for good.
 */
export interface SynchronisationOptions {
  /** Octez `synchronisation_threshold` (default 4). */
  threshold?: number
  /** Octez `latency`, seconds (default 50). */
  latencySeconds?: number
  now?: () => number
}

export type SynchronisationStatus =
  | { synchronised: false }
  | { synchronised: true, chainStuck: boolean }

export class SynchronisationHeuristic {
  readonly threshold: number
  readonly latencySeconds: number
  private readonly now: () => number
  /** Peer → timestamp (seconds) of its latest block we hold valid. */
  private readonly candidates = new Map<string, number>()
  private bootstrappedAt: number | undefined

  constructor (options: SynchronisationOptions = {}) {
    this.threshold = options.threshold ?? 4
    this.latencySeconds = options.latencySeconds ?? 50
    this.now = options.now ?? Date.now
    if (!Number.isInteger(this.threshold) || this.threshold < 0) throw new RangeError(`synchronisation threshold must be a non-negative integer, got ${this.threshold}`)
    if (this.threshold === 0) this.bootstrappedAt = this.now()
  }

  get bootstrapped (): boolean {
    return this.bootstrappedAt !== undefined
  }

  /** Records that `peer` gave us (or has) a valid block with this timestamp; true when this made us bootstrapped. */
  update (peer: string, timestampSeconds: number): boolean {
    const previous = this.candidates.get(peer)
    if (previous === undefined || timestampSeconds > previous) this.candidates.set(peer, timestampSeconds)
    if (this.bootstrappedAt !== undefined) return false
    if (this.status().synchronised) {
      this.bootstrappedAt = this.now()
      return true
    }
    return false
  }

  forget (peer: string): void {
    this.candidates.delete(peer)
  }

  status (): SynchronisationStatus {
    if (this.threshold === 0) return { synchronised: true, chainStuck: false }
    if (this.candidates.size < this.threshold) return { synchronised: false }
    const sorted = [...this.candidates.values()].sort((a, b) => b - a)
    const best = sorted[0]
    const least = sorted[this.threshold - 1]
    if (least >= this.now() / 1000 - this.latencySeconds) return { synchronised: true, chainStuck: false }
    if (best === least) return { synchronised: true, chainStuck: true }
    return { synchronised: false }
  }
}
