import type { P2pLimits } from './limits.ts'

const SECOND = 1000

export interface InboundRateLimiterOptions {
  /** Connections allowed per IP within one `windowMs`. */
  perWindow: number
  windowMs?: number
  /** IPs tracked at once; the least recently seen is forgotten beyond it (a flood of addresses cannot grow memory). */
  maxTrackedIps?: number
  now?: () => number
}

/**
 * Per-IP inbound connection rate (a sliding window per address). Octez has no such check beyond
 * its greylist; js-libp2p's connection manager refuses more than a few inbound connections per
 * second from one host, and tzp2p does the same in its gater so a single host cannot churn
 * handshakes (each one costs a Noise handshake and a Tezos PoW check). Callers pass normalised
 * IPs; `allow` records the attempt when it returns true.
 */
export class InboundRateLimiter {
  private readonly perWindow: number
  private readonly windowMs: number
  private readonly maxTracked: number
  private readonly now: () => number
  /** IP → times of recent accepted connections, oldest first; Map order = least recently seen first. */
  private readonly recent = new Map<string, number[]>()

  constructor (options: InboundRateLimiterOptions) {
    if (!(Number.isInteger(options.perWindow) && options.perWindow > 0)) throw new RangeError(`perWindow must be a positive integer, got ${options.perWindow}`)
    this.perWindow = options.perWindow
    this.windowMs = options.windowMs ?? SECOND
    this.maxTracked = options.maxTrackedIps ?? 4096
    this.now = options.now ?? Date.now
  }

  /** The limiter `limits` asks for, or undefined when the check is disabled. */
  static fromLimits (limits: P2pLimits, now?: () => number): InboundRateLimiter | undefined {
    const rate = limits.inboundConnectionsPerIpPerSecond
    if (rate === null) return undefined
    // A fractional rate (0.5/s) becomes one connection per 2 s.
    return rate >= 1
      ? new InboundRateLimiter({ perWindow: Math.floor(rate), windowMs: SECOND, now })
      : new InboundRateLimiter({ perWindow: 1, windowMs: Math.round(SECOND / rate), now })
  }

  allow (ip: string): boolean {
    const now = this.now()
    const times = (this.recent.get(ip) ?? []).filter(t => now - t < this.windowMs)
    this.recent.delete(ip)
    if (times.length >= this.perWindow) {
      this.recent.set(ip, times)
      return false
    }
    times.push(now)
    this.recent.set(ip, times)
    while (this.recent.size > this.maxTracked) {
      const oldest = this.recent.keys().next().value
      if (oldest === undefined) break
      this.recent.delete(oldest)
    }
    return true
  }

  get trackedIps (): number {
    return this.recent.size
  }
}
