/**
 * Per-peer token buckets: `rate` messages per second on average, bursts of up to `burst`.
 * Octez throttles incoming messages per connection (`throttle_callbacks` in `src/lib_p2p/p2p_protocol.ml`);
 * tzp2p counts per remote peer so that opening more streams does not buy a peer more answers.
 */
export interface RateSpec {
  /** Tokens added per second. */
  rate: number
  /** Bucket size. */
  burst: number
}

interface Bucket {
  tokens: number
  at: number
  /** Requests refused since the last one granted. */
  refusedInRow: number
}

/**
 * What `admit` decided. `flooding` is a refusal too, and marks the peer as ignoring the throttle:
 * it is given once per run of refusals, when the run reaches twice the bucket's size (a peer that
 * overshoots by a request or two, as an honest one may, is only dropped).
 */
export type Admission = 'granted' | 'dropped' | 'flooding'

export class RateLimiter {
  private readonly specs: ReadonlyMap<string, { spec: RateSpec, index: number }>
  /**
   * Each peer's buckets, one slot per kind (in `specs` order), made on first use. Keyed by peer
   * alone: one entry per peer, not a `kind + peer` string and an entry per kind and peer
   * (docs/profiles.md, "bench:peers: one listener table per event target").
   */
  private readonly buckets = new Map<string, Array<Bucket | undefined>>()
  private readonly now: () => number
  /** Buckets untouched this long are full again and can be forgotten. */
  private readonly maxIdleMs: number

  constructor (specs: Record<string, RateSpec>, now: () => number = Date.now) {
    this.specs = new Map(Object.entries(specs).map(([kind, spec], index) => [kind, { spec, index }]))
    this.now = now
    let idle = 0
    for (const { spec: s } of this.specs.values()) {
      if (!(s.rate > 0 && s.burst >= 1)) throw new RangeError(`a rate limit needs rate > 0 and burst ≥ 1, got ${JSON.stringify(s)}`)
      idle = Math.max(idle, s.burst / s.rate * 1000)
    }
    this.maxIdleMs = idle
  }

  /** Takes one token of `kind` for `peer`; false when the peer is over its limit. Unknown kinds are free. */
  take (peer: string, kind: string): boolean {
    return this.admit(peer, kind) === 'granted'
  }

  /**
   * `take`, telling a dropped request from one that makes the peer a flooder (see `Admission`).
   * `cost` tokens are taken at once (a request naming several keys costs one per key); refused
   * costs add up towards the flooding mark, so it comes after twice the burst in tokens.
   */
  admit (peer: string, kind: string, cost = 1): Admission {
    const entry = this.specs.get(kind)
    if (entry === undefined) return 'granted'
    const { spec, index } = entry
    const now = this.now()
    let slots = this.buckets.get(peer)
    if (slots === undefined) {
      if (this.buckets.size >= MAX_PEERS_BEFORE_SWEEP) this.sweep(now)
      slots = []
      this.buckets.set(peer, slots)
    }
    let b = slots[index]
    if (b === undefined) {
      b = { tokens: spec.burst, at: now, refusedInRow: 0 }
      slots[index] = b
    }
    b.tokens = Math.min(spec.burst, b.tokens + (now - b.at) / 1000 * spec.rate)
    b.at = now
    if (b.tokens < cost) {
      const before = b.refusedInRow
      b.refusedInRow += cost
      const mark = Math.ceil(2 * spec.burst)
      return before < mark && b.refusedInRow >= mark ? 'flooding' : 'dropped'
    }
    b.tokens -= cost
    b.refusedInRow = 0
    return 'granted'
  }

  /** Forgets a peer's buckets (it disconnected). */
  forget (peer: string): void {
    this.buckets.delete(peer)
  }

  /** Forgets the peers whose every bucket is idle (full again). */
  private sweep (now: number): void {
    for (const [peer, slots] of this.buckets) {
      if (slots.every(b => b === undefined || now - b.at > this.maxIdleMs)) this.buckets.delete(peer)
    }
  }
}

/** Peers with buckets past which idle ones are swept (buckets of peers that never said goodbye). */
const MAX_PEERS_BEFORE_SWEEP = 10_000
