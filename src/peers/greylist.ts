import type { PeerId } from '@libp2p/interface'
import { normaliseIpAddress } from '../net/point.ts'

/** Octez `greylist_timeout` / `ip_greylist_cleanup_delay`: one day. */
export const DEFAULT_GREYLIST_TTL_MS = 86_400_000
/** Octez `peer_greylist_size`. */
export const DEFAULT_MAX_GREYLISTED_PEERS = 1023
/**
 * Octez keeps greylisted IPs in a 2 MiB counting Bloom filter (no exact bound). tzp2p keeps an exact
 * table, so it needs its own bound; 8192 addresses is far more than any legitimate churn in a day
 * and costs well under a megabyte.
 */
export const DEFAULT_MAX_GREYLISTED_IPS = 8192

export type GreylistKind = 'ip' | 'peer'

export interface GreylistEntry {
  kind: GreylistKind
  /** A normalised IP address, or a peer id (Tezos `id…` or libp2p base58/CID string). */
  key: string
  reason: string
  /** Milliseconds since the epoch (from the list's clock). */
  since: number
  until: number
}

export interface GreylistOptions {
  /** How long a greylisted IP stays refused. */
  ipTtlMs?: number
  /** How long a greylisted peer id stays refused (Octez evicts peers only by FIFO; tzp2p also expires them). */
  peerTtlMs?: number
  maxIps?: number
  maxPeers?: number
  /** Clock, injectable so expiry can be tested without waiting. */
  now?: () => number
  /** Told about every addition and removal, e.g. to persist the greylist across restarts. */
  onChange?: (change: GreylistChange) => void
}

export type GreylistChange =
  | { type: 'add', entry: GreylistEntry }
  | { type: 'remove', kind: GreylistKind, key: string }
  | { type: 'clear' }

/** What `greylist()` records in one call: Octez's `greylist_peer` puts both the IP and the peer id in. */
export interface GreylistTarget {
  ip?: string
  /** Tezos peer ids (`id…`) and/or libp2p PeerIds. */
  peers?: Array<string | PeerId>
}

/** One host is one key however the socket layer spelled it (IPv4-mapped IPv6 unwrapped, IPv6 compressed). */
export function normaliseIp (ip: string): string | undefined {
  return normaliseIpAddress(ip.trim())?.address
}

export class InvalidGreylistKeyError extends TypeError {
  override readonly name = 'InvalidGreylistKeyError'
  constructor (key: string) { super(`not an IP address: ${JSON.stringify(key)}`) }
}

function peerKey (peer: string | PeerId): string {
  return typeof peer === 'string' ? peer : peer.toString()
}

interface Stored { reason: string, since: number, until: number }

/**
 * One bounded, expiring table. A JavaScript Map iterates in insertion order, and every entry of a
 * table has the same TTL, so re-inserting on refresh keeps the map sorted by expiry: expired entries
 * are always at the head (cheap sweep) and FIFO eviction is "drop the head".
 */
class ExpiringTable {
  private readonly entries = new Map<string, Stored>()
  private readonly ttlMs: number
  private readonly max: number
  private readonly now: () => number

  constructor (ttlMs: number, max: number, now: () => number) {
    if (!(ttlMs > 0)) throw new RangeError(`greylist TTL must be positive, got ${ttlMs}`)
    if (!(Number.isInteger(max) && max > 0)) throw new RangeError(`greylist size must be a positive integer, got ${max}`)
    this.ttlMs = ttlMs
    this.max = max
    this.now = now
  }

  add (key: string, reason: string): Stored {
    const since = this.now()
    return this.put(key, { reason, since, until: since + this.ttlMs })
  }

  put (key: string, stored: Stored): Stored {
    this.sweep(this.now())
    this.entries.delete(key)
    this.entries.set(key, stored)
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
    return stored
  }

  /** Whether anything is stored, expired or not: a cheap "nothing to check" test. */
  get empty (): boolean {
    return this.entries.size === 0
  }

  has (key: string): boolean {
    const e = this.entries.get(key)
    if (e === undefined) return false
    if (e.until <= this.now()) {
      this.entries.delete(key)
      return false
    }
    return true
  }

  delete (key: string): boolean {
    return this.entries.delete(key)
  }

  clear (): void {
    this.entries.clear()
  }

  list (kind: GreylistKind): GreylistEntry[] {
    const now = this.now()
    this.sweep(now)
    return [...this.entries].filter(([, e]) => e.until > now).map(([key, e]) => ({ kind, key, ...e }))
  }

  private sweep (now: number): void {
    for (const [key, e] of this.entries) {
      if (e.until > now) break
      this.entries.delete(key)
    }
  }
}

/**
 * The greylist (Octez `P2p_acl` greylists): peers that misbehaved are refused for a while, by IP
 * and by peer id. It holds no timers; entries expire when looked at, so it never keeps a process
 * alive. The connection gater consults it on every inbound and outbound connection, and the
 * handshake consults it for the Tezos peer id once that is known.
 */
export class Greylist {
  private readonly ips: ExpiringTable
  private readonly peers: ExpiringTable
  private readonly now: () => number
  private readonly onChange: (change: GreylistChange) => void

  constructor (options: GreylistOptions = {}) {
    const now = options.now ?? Date.now
    this.now = now
    this.onChange = options.onChange ?? (() => {})
    const ipTtl = options.ipTtlMs ?? DEFAULT_GREYLIST_TTL_MS
    this.ips = new ExpiringTable(ipTtl, options.maxIps ?? DEFAULT_MAX_GREYLISTED_IPS, now)
    this.peers = new ExpiringTable(options.peerTtlMs ?? ipTtl, options.maxPeers ?? DEFAULT_MAX_GREYLISTED_PEERS, now)
  }

  greylistIp (ip: string, reason: string): void {
    const key = normaliseIp(ip)
    if (key === undefined) throw new InvalidGreylistKeyError(ip)
    this.onChange({ type: 'add', entry: { kind: 'ip', key, ...this.ips.add(key, reason) } })
  }

  greylistPeer (peer: string | PeerId, reason: string): void {
    const key = peerKey(peer)
    this.onChange({ type: 'add', entry: { kind: 'peer', key, ...this.peers.add(key, reason) } })
  }

  /**
   * Reloads persisted entries with their own expiry (already expired ones are skipped); no change
   * notifications, since they are stored already.
   */
  restore (entries: ReadonlyArray<Pick<GreylistEntry, 'kind' | 'key' | 'until'> & Partial<GreylistEntry>>): void {
    const now = this.now()
    for (const e of [...entries].sort((x, y) => x.until - y.until)) {
      if (e.until <= now) continue
      const key = e.kind === 'ip' ? normaliseIp(e.key) : e.key
      if (key === undefined) throw new InvalidGreylistKeyError(e.key)
      const table = e.kind === 'ip' ? this.ips : this.peers
      table.put(key, { reason: e.reason ?? 'restored', since: e.since ?? now, until: e.until })
    }
  }

  /** Greylists an IP and peer ids together (Octez `greylist_peer`); a missing IP is skipped. */
  greylist (target: GreylistTarget, reason: string): void {
    if (target.ip !== undefined && normaliseIp(target.ip) !== undefined) this.greylistIp(target.ip, reason)
    for (const p of target.peers ?? []) this.greylistPeer(p, reason)
  }

  /** False only when nothing at all is greylisted: lets hot paths skip parsing their keys. */
  get mayContainEntries (): boolean {
    return !this.ips.empty || !this.peers.empty
  }

  /** True if the IP (when `key` is an IP literal) or the peer id is currently greylisted. */
  isGreylisted (key: string | PeerId): boolean {
    if (typeof key !== 'string') return this.peers.has(key.toString())
    const ip = normaliseIp(key)
    return ip !== undefined ? this.ips.has(ip) : this.peers.has(key)
  }

  /** Lifts one entry early (an operator's `/network/greylist` clear of a single key). */
  remove (key: string | PeerId): boolean {
    const ip = typeof key === 'string' ? normaliseIp(key) : undefined
    const [kind, k, table] = ip !== undefined
      ? ['ip' as const, ip, this.ips]
      : ['peer' as const, typeof key === 'string' ? key : key.toString(), this.peers]
    const removed = table.delete(k)
    if (removed) this.onChange({ type: 'remove', kind, key: k })
    return removed
  }

  clear (): void {
    this.ips.clear()
    this.peers.clear()
    this.onChange({ type: 'clear' })
  }

  list (): GreylistEntry[] {
    return [...this.ips.list('ip'), ...this.peers.list('peer')]
  }

  get size (): number {
    return this.ips.list('ip').length + this.peers.list('peer').length
  }
}
