/**
 * Per-peer misbehaviour score.
 *
 * Octez declares a peer score (`Peer_metadata.score`) but it is the constant 1.0: misbehaviour is
 * handled only by greylisting at once (decoding errors, invalid blocks). That leaves nothing between
 * "fine" and "greylisted for a day" for faults that are sometimes honest — a late or empty answer
 * from a slow peer. Lodestar scores each peer in [-100, 100], subtracts a fixed penalty per
 * fault class (fatal, low/mid/high tolerance), lets the score decay back towards 0 with a
 * half-life of minutes, and disconnects/bans below thresholds; go-libp2p's gossipsub scoring uses
 * decaying counters the same way. tzp2p follows that model in its simplest form:
 *
 * - a peer starts at 0; each fault subtracts its penalty; nothing adds points, so a peer cannot
 *   bank credit by behaving for a while and then misbehave (the score lies in [-100, 0]);
 * - the score recovers by exponential decay towards 0 (half-life 10 minutes by default), so
 *   occasional honest faults never add up;
 * - at or below the threshold (-50) the verdict is "disconnect and greylist" (Octez's response to
 *   a fault, applied by `PeerPolicy` through the greylist).
 *
 * What each fault weighs is the policy's table (`src/peers/policy.ts`), not this module's.
 *
 * Time comes from an injected `now()`; nothing here keeps timers.
 */

export const MIN_SCORE = -100
export const DEFAULT_SCORE_THRESHOLD = -50
export const DEFAULT_SCORE_HALF_LIFE_MS = 10 * 60 * 1000
/** Scores this close to 0 are forgotten: the peer is back to a clean slate. */
const NEGLIGIBLE = 0.01

export interface ScoreVerdict {
  peerId: string
  score: number
  /** What the caller must do: nothing, or disconnect the peer and greylist it (IP and peer ids). */
  action: 'none' | 'disconnect-and-greylist'
}

export interface ScoreRecord {
  peerId: string
  score: number
  /** When `score` was computed (ms since the epoch); decay continues from there. */
  updatedAt: number
}

export interface PeerScoresOptions {
  threshold?: number
  halfLifeMs?: number
  /** Peers tracked at most; beyond it the scores closest to 0 are forgotten first. */
  maxPeers?: number
  now?: () => number
}

export class PeerScores {
  private readonly entries = new Map<string, { score: number, updatedAt: number }>()
  private readonly threshold: number
  private readonly halfLifeMs: number
  private readonly maxPeers: number
  private readonly now: () => number

  constructor (options: PeerScoresOptions = {}) {
    this.threshold = options.threshold ?? DEFAULT_SCORE_THRESHOLD
    this.halfLifeMs = options.halfLifeMs ?? DEFAULT_SCORE_HALF_LIFE_MS
    this.maxPeers = options.maxPeers ?? 4096
    this.now = options.now ?? Date.now
    if (!(this.threshold < 0 && this.threshold >= MIN_SCORE)) throw new RangeError(`score threshold must be in [${MIN_SCORE}, 0), got ${this.threshold}`)
    if (!(this.halfLifeMs > 0)) throw new RangeError(`score half-life must be positive, got ${this.halfLifeMs}`)
  }

  /** The peer's current score (0 for a peer never penalised). */
  score (peerId: string): number {
    const e = this.entries.get(peerId)
    return e === undefined ? 0 : this.decayed(e.score, e.updatedAt, this.now())
  }

  /** Subtracts a fault's penalty and tells the caller what to do about the peer. */
  penalise (peerId: string, penalty: number): ScoreVerdict {
    if (!(Number.isFinite(penalty) && penalty >= 0)) throw new RangeError(`a penalty must be a non-negative number, got ${penalty}`)
    const now = this.now()
    const score = Math.max(MIN_SCORE, this.score(peerId) - penalty)
    this.entries.delete(peerId)
    this.entries.set(peerId, { score, updatedAt: now })
    this.enforceBound(now, peerId)
    return { peerId, score, action: score <= this.threshold ? 'disconnect-and-greylist' : 'none' }
  }

  /** True while the peer is at or below the threshold (e.g. to refuse it after a restart). */
  isBelowThreshold (peerId: string): boolean {
    return this.score(peerId) <= this.threshold
  }

  forget (peerId: string): boolean {
    return this.entries.delete(peerId)
  }

  get size (): number {
    return this.entries.size
  }

  /** Current scores, decayed to now; negligible ones are dropped. */
  snapshot (): ScoreRecord[] {
    const now = this.now()
    const out: ScoreRecord[] = []
    for (const [peerId, e] of this.entries) {
      const score = this.decayed(e.score, e.updatedAt, now)
      if (score > -NEGLIGIBLE) this.entries.delete(peerId)
      else out.push({ peerId, score, updatedAt: now })
    }
    return out
  }

  /** Loads persisted scores; decay resumes from each record's time. */
  restore (records: readonly ScoreRecord[]): void {
    for (const r of records) {
      if (!(Number.isFinite(r.score) && Number.isFinite(r.updatedAt))) throw new RangeError(`bad score record for ${r.peerId}`)
      this.entries.set(r.peerId, { score: Math.max(MIN_SCORE, Math.min(0, r.score)), updatedAt: r.updatedAt })
    }
    this.enforceBound(this.now())
  }

  private decayed (score: number, at: number, now: number): number {
    const elapsed = Math.max(0, now - at)
    return score * Math.pow(0.5, elapsed / this.halfLifeMs)
  }

  /** Forgets the scores closest to 0 beyond the bound, never the one just updated (it would never add up). */
  private enforceBound (now: number, keep?: string): void {
    if (this.entries.size <= this.maxPeers) return
    const byCloseness = [...this.entries]
      .filter(([peerId]) => peerId !== keep)
      .map(([peerId, e]) => ({ peerId, score: this.decayed(e.score, e.updatedAt, now) }))
      .sort((a, b) => b.score - a.score)
    for (const { peerId } of byCloseness.slice(0, this.entries.size - this.maxPeers)) this.entries.delete(peerId)
  }
}
