import { isIP } from 'node:net'
import { fromOctezPointString, ipPoint, toOctezPointString } from '../net/point.ts'
import { ADVERTISE_MAX_POINTS } from '../wire/peer-messages.ts'

/**
 * The Octez-wire points a node knows (Octez `P2P_point.Id`, `ip:port`), beside the libp2p point
 * book's multiaddrs: the `--octez-peer` points (trusted), the points peers advertise (Advertise,
 * Swap, Nack lists) and those of connected peers. Bootstrap is answered from here.
 */
export interface OctezPointInfo {
  /** `ip:port` (`[ipv6]:port`). */
  point: string
  host: string
  port: number
  trusted: boolean
  state: 'disconnected' | 'connected'
  /** Tezos peer id last seen at this point. */
  peerId?: string
  /** The remote is a private node: its point is never advertised. */
  private: boolean
  lastSeen?: number
  lastFailed?: number
}

/** The most points kept (Octez `max_known_points` is 400 by default). */
const MAX_KNOWN = 400

export class OctezPoints {
  private readonly byPoint = new Map<string, OctezPointInfo>()
  /** Our own points (a dial that reached ourselves): never dialled again. */
  readonly own = new Set<string>()

  /** Registers `host:port` (an IP literal, or a DNS name for a trusted point); returns its record. */
  add (host: string, port: number, options: { trusted?: boolean } = {}): OctezPointInfo | undefined {
    const point = isIP(host) === 0 ? `${host}:${port}` : toOctezPointString(ipPoint(host, port))
    let info = this.byPoint.get(point)
    if (info === undefined) {
      if (this.byPoint.size >= MAX_KNOWN && options.trusted !== true && !this.evictOne()) return undefined
      info = { point, host, port, trusted: false, state: 'disconnected', private: false }
      this.byPoint.set(point, info)
    }
    if (options.trusted === true) info.trusted = true
    return info
  }

  /** Points a peer told us of (`ip:port` strings); malformed ones are skipped, as Octez does. */
  learn (points: readonly string[]): number {
    let added = 0
    for (const text of points) {
      const parsed = parseOctezPoint(text)
      if (parsed === undefined || parsed.port === 0) continue
      if (!this.byPoint.has(toOctezPointString(ipPoint(parsed.host, parsed.port))) && this.add(parsed.host, parsed.port) !== undefined) added++
    }
    return added
  }

  get (point: string): OctezPointInfo | undefined {
    return this.byPoint.get(point)
  }

  connected (info: OctezPointInfo, peerId: string, isPrivate: boolean, at: number): void {
    info.state = 'connected'
    info.peerId = peerId
    info.private = isPrivate
    info.lastSeen = at
  }

  disconnected (point: string, at: number): void {
    const info = this.byPoint.get(point)
    if (info === undefined) return
    info.state = 'disconnected'
    info.lastSeen = at
  }

  failed (point: string, at: number): void {
    const info = this.byPoint.get(point)
    if (info !== undefined) info.lastFailed = at
  }

  /** Up to 100 public points to Advertise, connected first (Octez `Advertise` carries at most 100). */
  advertisable (except?: string): string[] {
    const all = [...this.byPoint.values()].filter(p => !p.private && p.point !== except && !this.own.has(p.point) && isIP(p.host) !== 0)
    all.sort((a, b) => (a.state === b.state ? 0 : a.state === 'connected' ? -1 : 1))
    return all.slice(0, ADVERTISE_MAX_POINTS).map(p => p.point)
  }

  list (): OctezPointInfo[] {
    return [...this.byPoint.values()]
  }

  /** Trusted points not connected now: the ones to dial again. */
  trustedToDial (): OctezPointInfo[] {
    return [...this.byPoint.values()].filter(p => p.trusted && p.state === 'disconnected' && !this.own.has(p.point))
  }

  private evictOne (): boolean {
    for (const [key, p] of this.byPoint) {
      if (!p.trusted && p.state === 'disconnected') { this.byPoint.delete(key); return true }
    }
    return false
  }
}

/** `a.b.c.d:port` or `[ipv6]:port` (Octez's point form, `fromOctezPointString`), or undefined. */
export function parseOctezPoint (text: string): { host: string, port: number } | undefined {
  try {
    const p = fromOctezPointString(text)
    return { host: p.host, port: p.port }
  } catch {
    return undefined
  }
}
