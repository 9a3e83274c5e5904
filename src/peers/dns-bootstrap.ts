import { promises as dns } from 'node:dns'
import { DEFAULT_P2P_PORT, InvalidPointError, parsePoint, pointKey, type PointAddress } from '../net/point.ts'
import type { PointBook } from './point-book.ts'

/**
 * DNS bootstrap (the seed step "requesting a list of peers from the DNS").
 *
 * Bootstrap names are written `host[:port][#peer_id]` as Octez's bootstrap peers (or as a
 * `/dns…/tcp/…` multiaddr). Each name is looked up with A and AAAA queries, every address becoming
 * a point on the name's port (9732 by default) pinned to the name's peer id if it gives one, and
 * with a TXT query for records that carry whole multiaddrs:
 *
 *     tzp2p=/ip4/203.0.113.7/tcp/9732/p2p/12D3KooW…
 *     dnsaddr=/dns4/node.example.net/tcp/9733
 *
 * `tzp2p=` is tzp2p's own prefix; `dnsaddr=` is accepted too so records written for libp2p's
 * dnsaddr convention can be reused (tzp2p reads them on the name itself, not under `_dnsaddr.`,
 * and does not follow nested `/dnsaddr/` addresses). A multiaddr in a TXT record may end with
 * `#id…` to pin a Tezos peer id. Other TXT records (SPF…) are ignored; malformed `tzp2p=`/`dnsaddr=`
 * entries are reported and skipped.
 *
 * Every resolved point is trusted. Octez resolves its bootstrap names once at start-up; tzp2p
 * re-resolves them periodically and when the node runs out of candidates, so a changed record is
 * picked up without a restart.
 *
 * Errors never escape the timer: they go to `onError`. A name whose lookups fail (timeout, server
 * failure) keeps its previous points; a name the server answers for authoritatively (records, or
 * "no such name/record") gets exactly what it now resolves to.
 */

export type DnsRecordType = 'A' | 'AAAA' | 'TXT'

export interface ResolvedPoint {
  /** Point key (`pointKey`), the identity of the point. */
  key: string
  address: PointAddress
  /** The bootstrap name it came from, as configured. */
  name: string
  via: DnsRecordType | 'literal'
}

export interface DnsChange {
  added: ResolvedPoint[]
  removed: ResolvedPoint[]
  /** All points now resolved, across names. */
  points: ResolvedPoint[]
}

/** A lookup that failed, a name that resolved to nothing, or a malformed TXT entry. */
export class DnsBootstrapError extends Error {
  override readonly name = 'DnsBootstrapError'
  readonly bootstrapName: string
  readonly recordType?: DnsRecordType
  /** Resolver error code (`ETIMEOUT`, `ENOTFOUND`, `ESERVFAIL`…), or `EBADRECORD` / `ENOPOINTS`. */
  readonly code: string

  constructor (bootstrapName: string, code: string, message: string, recordType?: DnsRecordType, options?: ErrorOptions) {
    super(`DNS bootstrap ${JSON.stringify(bootstrapName)}${recordType !== undefined ? ` (${recordType})` : ''}: ${message}`, options)
    this.bootstrapName = bootstrapName
    this.code = code
    if (recordType !== undefined) this.recordType = recordType
  }
}

export interface DnsBootstrapOptions {
  names: readonly string[]
  /** DNS servers (`ip`, `ip:port`, `[ipv6]:port`); the system's when absent. */
  servers?: readonly string[]
  /** Period of re-resolution; null disables it. Default 10 minutes. */
  intervalMs?: number | null
  /** `refresh()` more often than this is skipped (maintenance may ask every few seconds). Default 30 s. */
  minRefreshIntervalMs?: number
  /** Per-query timeout and attempts of the resolver. Defaults 5 s and 2. */
  timeoutMs?: number
  tries?: number
  defaultPort?: number
  onChange?: (change: DnsChange) => void
  onError?: (error: DnsBootstrapError) => void
  now?: () => number
}

/** Codes meaning "the server answered: there is no such name / record" (not a failure to ask). */
const AUTHORITATIVE_ABSENCE = new Set(['ENODATA', 'ENOTFOUND'])
const TXT_PREFIXES = ['tzp2p=', 'dnsaddr=']

interface ParsedName {
  text: string
  point: PointAddress
}

export class DnsBootstrap {
  private readonly names: ParsedName[]
  private readonly resolver: dns.Resolver
  private readonly intervalMs: number | null
  private readonly minRefreshIntervalMs: number
  private readonly onChange: (change: DnsChange) => void
  private readonly onError: (error: DnsBootstrapError) => void
  private readonly now: () => number
  private readonly byName = new Map<string, ResolvedPoint[]>()
  private current = new Map<string, ResolvedPoint>()
  private inFlight: Promise<DnsChange> | undefined
  private lastResolution = -Infinity
  private timer: ReturnType<typeof setTimeout> | undefined
  private stopped = false

  /** Parses the names at once: a malformed name is a configuration error (`InvalidPointError`). */
  constructor (options: DnsBootstrapOptions) {
    const defaultPort = options.defaultPort ?? DEFAULT_P2P_PORT
    this.names = options.names.map(text => ({ text, point: parsePoint(text, { defaultPort }) }))
    this.resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 })
    if (options.servers !== undefined && options.servers.length > 0) this.resolver.setServers([...options.servers])
    this.intervalMs = options.intervalMs === undefined ? 10 * 60 * 1000 : options.intervalMs
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 30_000
    this.onChange = options.onChange ?? (() => {})
    this.onError = options.onError ?? (() => {})
    this.now = options.now ?? Date.now
  }

  /** Resolves every name once, then keeps re-resolving every `intervalMs`. */
  async start (): Promise<DnsChange> {
    this.stopped = false
    const change = await this.resolveAll()
    this.schedule()
    return change
  }

  /**
   * Resolves again now (e.g. the node ran out of candidates). Concurrent calls share one
   * resolution; a call within `minRefreshIntervalMs` of the last one is skipped (returns
   * undefined) unless `force`.
   */
  async refresh (options: { force?: boolean } = {}): Promise<DnsChange | undefined> {
    if (this.stopped) return undefined
    if (this.inFlight !== undefined) return await this.inFlight
    if (options.force !== true && this.now() - this.lastResolution < this.minRefreshIntervalMs) return undefined
    return await this.resolveAll()
  }

  /** Stops the timer and cancels queries in flight; resolves once nothing is left running. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.resolver.cancel()
    await this.inFlight?.catch(() => {})
  }

  /** Points resolved so far, across names. */
  points (): ResolvedPoint[] {
    return [...this.current.values()]
  }

  /** True while a periodic re-resolution is scheduled. */
  get scheduled (): boolean {
    return this.timer !== undefined
  }

  private schedule (): void {
    if (this.stopped || this.intervalMs === null) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      // resolveAll reports every failure through onError; nothing can reject here.
      void this.resolveAll().finally(() => { this.schedule() })
    }, this.intervalMs)
    // The node's sockets keep the process alive; this timer alone must not.
    this.timer.unref()
  }

  private async resolveAll (): Promise<DnsChange> {
    if (this.inFlight !== undefined) return await this.inFlight
    const run = (async () => {
      try {
        await Promise.all(this.names.map(async n => { await this.resolveName(n) }))
        return this.publish()
      } finally {
        this.lastResolution = this.now()
      }
    })()
    this.inFlight = run
    try {
      return await run
    } finally {
      this.inFlight = undefined
    }
  }

  private async resolveName (n: ParsedName): Promise<void> {
    const { point } = n
    if (point.hostKind === 'ip4' || point.hostKind === 'ip6') {
      this.byName.set(n.text, [resolved(n, point, 'literal')])
      return
    }
    const types: DnsRecordType[] = point.hostKind === 'dns4' ? ['A'] : point.hostKind === 'dns6' ? ['AAAA'] : ['A', 'AAAA', 'TXT']
    const results = await Promise.allSettled(types.map(async t => await this.query(n, t)))
    if (this.stopped) return
    const found: ResolvedPoint[] = []
    let complete = true
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') { found.push(...r.value); return }
      const code = (r.reason as { code?: string }).code ?? 'EUNKNOWN'
      if (AUTHORITATIVE_ABSENCE.has(code)) return
      complete = false
      this.report(new DnsBootstrapError(n.text, code, `lookup failed: ${(r.reason as Error).message}`, types[i], { cause: r.reason }))
    })
    if (!complete) {
      // Keep what the name resolved to before; add anything new that did come back.
      const previous = this.byName.get(n.text) ?? []
      const keys = new Set(found.map(p => p.key))
      this.byName.set(n.text, [...found, ...previous.filter(p => !keys.has(p.key))])
      return
    }
    if (found.length === 0) this.report(new DnsBootstrapError(n.text, 'ENOPOINTS', 'the name resolves to no address and no tzp2p= record'))
    this.byName.set(n.text, found)
  }

  private async query (n: ParsedName, type: DnsRecordType): Promise<ResolvedPoint[]> {
    const host = n.point.host
    if (type === 'A') return (await this.resolver.resolve4(host)).map(a => resolved(n, { ...n.point, hostKind: 'ip4', host: a }, 'A'))
    if (type === 'AAAA') {
      return (await this.resolver.resolve6(host)).map(a => resolved(n, { ...n.point, ...ipv6Host(a) }, 'AAAA'))
    }
    const out: ResolvedPoint[] = []
    for (const chunks of await this.resolver.resolveTxt(host)) {
      const text = chunks.join('')
      const prefix = TXT_PREFIXES.find(p => text.startsWith(p))
      if (prefix === undefined) continue
      const value = text.slice(prefix.length)
      try {
        if (!value.startsWith('/')) throw new InvalidPointError(value, `a ${prefix} record carries a multiaddr`)
        out.push(resolved(n, parsePoint(value), 'TXT'))
      } catch (e) {
        this.report(new DnsBootstrapError(n.text, 'EBADRECORD', `ignoring TXT record ${JSON.stringify(text)}: ${(e as Error).message}`, 'TXT', { cause: e }))
      }
    }
    return out
  }

  private publish (): DnsChange {
    const next = new Map<string, ResolvedPoint>()
    for (const n of this.names) for (const p of this.byName.get(n.text) ?? []) if (!next.has(p.key)) next.set(p.key, p)
    const added = [...next.values()].filter(p => !this.current.has(p.key))
    const removed = [...this.current.values()].filter(p => !next.has(p.key))
    this.current = next
    const change = { added, removed, points: [...next.values()] }
    if (!this.stopped && (added.length > 0 || removed.length > 0)) {
      try {
        this.onChange(change)
      } catch (e) {
        this.report(new DnsBootstrapError('*', 'ECALLBACK', `onChange failed: ${(e as Error).message}`, undefined, { cause: e }))
      }
    }
    return change
  }

  private report (error: DnsBootstrapError): void {
    if (this.stopped) return
    try {
      this.onError(error)
    } catch {
      // A failing error handler must not break resolution.
    }
  }
}

function resolved (n: ParsedName, address: PointAddress, via: ResolvedPoint['via']): ResolvedPoint {
  return { key: pointKey(address), address, name: n.text, via }
}

/** An AAAA answer as a point host (an IPv4-mapped answer becomes the IPv4 address). */
function ipv6Host (address: string): Pick<PointAddress, 'hostKind' | 'host'> {
  const p = parsePoint(`[${address}]:1`)
  return { hostKind: p.hostKind, host: p.host }
}

/**
 * Applies a DNS change to the point book: new points are registered as trusted (with their pins),
 * points no longer resolved stop being trusted (they stay known, like any other point).
 */
export function applyDnsChange (book: PointBook, change: DnsChange): void {
  for (const p of change.added) book.register(p.address, { trusted: true })
  const still = new Set(change.points.map(p => p.key))
  for (const p of change.removed) if (!still.has(p.key) && book.get(p.key) !== undefined) book.setTrusted(p.key, false)
}
