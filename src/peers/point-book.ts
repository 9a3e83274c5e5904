import { DEFAULT_P2P_LIMITS, DEFAULT_RECONNECTION_CONFIG, type ReconnectionConfig, type TableBound } from './limits.ts'
import { isIpPoint, pointFromKey, pointKey, type PointAddress } from '../net/point.ts'
import { compareForSharing, lastMiss, toPointRecord, type MutablePoint, type PointInfo, type PointRecord } from './point-info.ts'

export { lastMiss, lastSeen } from './point-info.ts'
export type { PeerAt, PointInfo, PointRecord, PointState, ReconnectionInfo } from './point-info.ts'

/**
 * The known points (Octez `P2p_pool.known_points` + `P2p_point_state`): every address we know,
 * its connection state, its failure history and its reconnection back-off. Maintenance picks
 * dial candidates here, peer exchange reads and fills it, and it is persisted across restarts.
 *
 * It does no I/O and reads time only through the injected `now()`, so every rule is tested
 * without sockets or sleeping; the node moves points through the states as connections go.
 */

export type PointBookEvent =
  | { type: 'new-point', point: PointInfo }
  | { type: 'gc', removed: string[] }
  | { type: 'unregistered', key: string }

/** A transition the state machine does not allow: a bug in the caller, never peer input. */
export class PointStateError extends Error {
  override readonly name = 'PointStateError'
}

export interface PointBookOptions {
  /** Table size and GC target (Octez `max_known_points`, default 400/300); null = unbounded. */
  maxKnownPoints?: TableBound | null
  reconnection?: ReconnectionConfig
  /** `--private-mode`: only trusted points are candidates, and no list is shared or taken in. */
  privateMode?: boolean
  /** `--disable-peer-discovery`: Advertise/Nack lists are neither taken in nor given. */
  disablePeerDiscovery?: boolean
  /**
   * Banned or greylisted (by the host's IP, or by the peer ids pinned on or last seen at the
   * point): such points are skipped, never removed. Asked afresh each time, as bans and greylist
   * entries come and go.
   */
  isBanned?: (point: PointInfo) => boolean
  now?: () => number
  /** Uniform in [0, 1); ties and samples are drawn from it (inject a seeded one in tests). */
  random?: () => number
}

export interface CandidateSelection {
  /** When the maintenance pass started; points that failed after it are not retried in the pass. */
  startTime: number
  /** Most candidates wanted. */
  max: number
  /** Points already considered in this pass (Octez's `seen_points`); not mutated. */
  seen?: ReadonlySet<string>
}

export interface ListKnownPointsOptions {
  /** Skip points not known to be public (Octez `~ignore_private`). */
  ignorePrivate?: boolean
  /** Total wanted (Octez: 50 = 30 best + 20 random). */
  size?: number
  best?: number
  /** Only IP points (for lists in Octez's `ip:port` form). */
  ipOnly?: boolean
}

export class PointBook {
  private readonly points = new Map<string, MutablePoint>()
  private readonly selfKeys = new Set<string>()
  private readonly listeners = new Set<(e: PointBookEvent) => void>()
  private readonly bound: TableBound | null
  private readonly reconnectionConfig: ReconnectionConfig
  private readonly privateMode: boolean
  private readonly disablePeerDiscovery: boolean
  private readonly isBanned: (point: PointInfo) => boolean
  private readonly now: () => number
  private readonly random: () => number

  constructor (options: PointBookOptions = {}) {
    this.bound = options.maxKnownPoints === undefined ? DEFAULT_P2P_LIMITS.maxKnownPoints : options.maxKnownPoints
    this.reconnectionConfig = options.reconnection ?? DEFAULT_RECONNECTION_CONFIG
    this.privateMode = options.privateMode ?? false
    this.disablePeerDiscovery = options.disablePeerDiscovery ?? false
    this.isBanned = options.isBanned ?? (() => false)
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
  }

  /** Subscribes to book events (new point, GC…); returns the unsubscribe function. */
  subscribe (listener: (e: PointBookEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  get size (): number {
    return this.points.size
  }

  get (key: string): PointInfo | undefined {
    return this.points.get(key)
  }

  all (): PointInfo[] {
    return [...this.points.values()]
  }

  /**
   * Adds a point, or updates the trust flag and pins of a known one (Octez `register_point`:
   * `trusted: true/false` sets/clears the flag, absent leaves it). Inserting into a full table
   * first runs the GC. Our own addresses are never registered (returns undefined).
   */
  register (address: PointAddress, options: { trusted?: boolean } = {}): PointInfo | undefined {
    const key = pointKey(address)
    if (this.selfKeys.has(key)) return undefined
    const known = this.points.get(key)
    if (known !== undefined) {
      if (options.trusted !== undefined) known.trusted = options.trusted
      // On a known point, pins change only through a trusted registration (configuration, DNS): an
      // address heard from a peer never sets or replaces a pin, or anyone could make our dials fail.
      if (options.trusted === true) {
        if (address.expectedPeerId !== undefined) known.expectedPeerId = address.expectedPeerId
        if (address.libp2pPeerId !== undefined) known.libp2pPeerId = address.libp2pPeerId
      }
      return known
    }
    if (this.bound !== null && this.points.size >= this.bound.max) this.gc(this.bound.target)
    const point: MutablePoint = {
      key,
      address: { hostKind: address.hostKind, host: address.host, port: address.port },
      state: 'disconnected',
      trusted: options.trusted ?? false,
      knownPublic: false,
      addedAt: this.now()
    }
    if (address.expectedPeerId !== undefined) point.expectedPeerId = address.expectedPeerId
    if (address.libp2pPeerId !== undefined) point.libp2pPeerId = address.libp2pPeerId
    this.points.set(key, point)
    this.emit({ type: 'new-point', point })
    return point
  }

  /**
   * Takes in points from a peer's Advertise, Nack or swap (Octez `register_new_points`). Ignored in
   * private mode and with peer discovery disabled. Returns how many were new.
   */
  registerAdvertised (addresses: readonly PointAddress[]): number {
    if (this.privateMode || this.disablePeerDiscovery) return 0
    let added = 0
    for (const a of addresses) {
      if (!this.points.has(pointKey(a)) && this.register(a) !== undefined) added++
    }
    return added
  }

  /** Forgets a point (Octez unregisters on chain-name/version mismatch). Returns whether it was known. */
  unregister (key: string): boolean {
    const removed = this.points.delete(key)
    if (removed) this.emit({ type: 'unregistered', key })
    return removed
  }

  /** Records one of our own addresses (a dial reached ourselves): forgotten now and never registered again. */
  markSelf (address: PointAddress): void {
    const key = pointKey(address)
    this.selfKeys.add(key)
    this.unregister(key)
  }

  setTrusted (key: string, trusted: boolean): void {
    this.require(key).trusted = trusted
  }

  /** Records what the handshake said about the node behind the point (Octez `set_private`). */
  setPrivate (key: string, isPrivate: boolean): void {
    this.require(key).knownPublic = !isPrivate
  }

  /** Our dial to the point started. */
  setRequested (key: string): void {
    const p = this.require(key)
    if (p.state !== 'disconnected' && p.state !== 'requested') throw new PointStateError(`cannot dial ${key}: it is ${p.state}`)
    p.state = 'requested'
  }

  /** The handshake with `peerId` succeeded on this point (either direction); the connection is being set up. */
  setAccepted (key: string, peerId: string): void {
    const p = this.require(key)
    if (p.state !== 'disconnected' && p.state !== 'requested') throw new PointStateError(`cannot accept ${peerId} on ${key}: it is ${p.state}`)
    p.state = 'accepted'
    p.currentPeerId = peerId
  }

  setRunning (key: string, peerId: string): void {
    const p = this.require(key)
    if (p.state === 'running') throw new PointStateError(`${key} is already running`)
    if (p.state === 'accepted' && p.currentPeerId !== peerId) {
      throw new PointStateError(`${key} was accepted for ${p.currentPeerId ?? '?'}, not ${peerId}`)
    }
    p.state = 'running'
    p.currentPeerId = peerId
    p.lastEstablishedConnection = { peerId, at: this.now() }
  }

  /**
   * The dial failed, the connection was refused, or a running connection ended (Octez
   * `set_disconnected`). A failure lengthens the back-off (wait `delay`, next delay ×factor up to the
   * cap); the end of a running connection waits `disconnection-delay` and resets the delay. Returns
   * false when the point was already disconnected (duplicate close notifications are harmless).
   */
  setDisconnected (key: string): boolean {
    const p = this.points.get(key)
    if (p === undefined || p.state === 'disconnected') return false
    const now = this.now()
    const c = this.reconnectionConfig
    if (p.state === 'running') {
      p.reconnection = { delayMs: c.initialDelayMs, endTime: now + c.disconnectionDelayMs }
      p.lastDisconnection = { peerId: p.currentPeerId ?? '', at: now }
    } else {
      const delay = p.reconnection?.delayMs ?? c.initialDelayMs
      p.reconnection = { delayMs: Math.min(delay * c.factor, c.increaseCapMs), endTime: now + delay }
      if (p.state === 'requested') p.lastFailedConnection = now
      else p.lastRejectedConnection = { peerId: p.currentPeerId ?? '', at: now }
    }
    p.state = 'disconnected'
    delete p.currentPeerId
    return true
  }

  /** Octez `cannot_reconnect_yet`: still inside the back-off window. */
  inBackOff (key: string): boolean {
    const r = this.points.get(key)?.reconnection
    return r !== undefined && this.now() <= r.endTime
  }

  /** False when the point pins a Tezos peer id and `peerId` is another one (Octez then greylists the IP). */
  acceptsPeer (key: string, peerId: string): boolean {
    const expected = this.points.get(key)?.expectedPeerId
    return expected === undefined || expected === peerId
  }

  /**
   * Dial candidates exactly as Octez maintenance picks them (`connectable`): skip points already
   * seen in this pass, banned/greylisted ones and, in private mode, untrusted ones (those stay
   * eligible for a later round); of the rest, only disconnected points outside their back-off with
   * no miss since the pass started are candidates. The best `max` are returned, preferring points
   * with no recorded miss, then the oldest last miss (ties broken at random). `seen` comes back
   * with every examined point added, for the next round of the same pass.
   */
  selectCandidates (selection: CandidateSelection): { candidates: PointInfo[], seen: Set<string> } {
    const seen = new Set(selection.seen ?? [])
    const now = this.now()
    const found: Array<{ point: PointInfo, miss: number | undefined }> = []
    for (const p of this.points.values()) {
      if (seen.has(p.key) || (this.privateMode && !p.trusted) || this.isBanned(p)) continue
      seen.add(p.key)
      if (p.state !== 'disconnected') continue
      const miss = lastMiss(p)
      const inBackOff = p.reconnection !== undefined && now <= p.reconnection.endTime
      if ((miss !== undefined && selection.startTime < miss) || inBackOff) continue
      found.push({ point: p, miss })
    }
    this.shuffle(found)
    found.sort((a, b) => a.miss === undefined
      ? (b.miss === undefined ? 0 : -1)
      : (b.miss === undefined ? 1 : a.miss - b.miss))
    return { candidates: found.slice(0, Math.max(0, selection.max)).map(f => f.point), seen }
  }

  /** Trusted points that are disconnected, allowed and out of back-off: maintenance redials them even within bounds. */
  trustedToRedial (): PointInfo[] {
    const now = this.now()
    return [...this.points.values()].filter(p => p.trusted && p.state === 'disconnected' && !this.isBanned(p) &&
      (p.reconnection === undefined || now > p.reconnection.endTime))
  }

  /**
   * Points to share in a Nack or an Advertise (Octez `list_known_points`): skip banned points and,
   * with `ignorePrivate`, points not known to be public; sort long-standing connections first, then
   * the most recently seen disconnected points, then never-seen ones; keep the `best` first and a
   * random sample of the rest up to `size`. Octez's sampler may repeat an index and return fewer;
   * this one draws distinct points. Empty in private mode or with peer discovery disabled.
   */
  listKnownPoints (options: ListKnownPointsOptions = {}): PointInfo[] {
    if (this.privateMode || this.disablePeerDiscovery) return []
    const size = options.size ?? 50
    const best = Math.min(options.best ?? 30, size)
    const eligible = [...this.points.values()].filter(p =>
      !(options.ignorePrivate === true && !p.knownPublic) && !(options.ipOnly === true && !isIpPoint(p.address)) && !this.isBanned(p))
    this.shuffle(eligible)
    eligible.sort(compareForSharing)
    if (eligible.length <= size) return eligible
    const rest = eligible.slice(best)
    const picks = size - best
    for (let i = 0; i < picks; i++) {
      const j = i + Math.floor(this.random() * (rest.length - i))
      const tmp = rest[i]; rest[i] = rest[j]; rest[j] = tmp
    }
    const chosen = new Set(rest.slice(0, picks))
    return [...eligible.slice(0, best), ...eligible.slice(best).filter(p => chosen.has(p))]
  }

  /**
   * Brings the table back to `target` points (Octez `gc_points`): removes disconnected, untrusted
   * points, oldest last miss first. Points never missed count as missed now, so they go last; among
   * them the most recently added go first — under a flood of advertised addresses, the old,
   * probably legitimate entries are the ones kept (the rule Octez applies to its peer table).
   */
  gc (target: number): string[] {
    const excess = this.points.size - target
    if (excess <= 0) return []
    const now = this.now()
    const removable = [...this.points.values()]
      .filter(p => p.state === 'disconnected' && !p.trusted)
      .map(p => ({ p, miss: lastMiss(p) ?? now }))
      .sort((a, b) => a.miss - b.miss || b.p.addedAt - a.p.addedAt)
      .slice(0, excess)
      .map(({ p }) => p.key)
    for (const key of removable) this.points.delete(key)
    if (removable.length > 0) this.emit({ type: 'gc', removed: removable })
    return removable
  }

  snapshot (): PointRecord[] {
    return [...this.points.values()].map(toPointRecord)
  }

  /**
   * Loads persisted points as disconnected. Trust is not restored: it comes from the current
   * configuration (`--peer`, bootstrap list, DNS), so an address removed from it stops being
   * trusted. For a point already registered, only the history and pins are taken.
   */
  restore (records: readonly PointRecord[]): void {
    for (const r of records) {
      if (this.selfKeys.has(r.key)) continue
      const existing = this.points.get(r.key)
      const p: MutablePoint = existing ?? {
        key: r.key, address: pointFromKey(r.key), state: 'disconnected', trusted: false, knownPublic: r.knownPublic, addedAt: r.addedAt
      }
      const history = {
        expectedPeerId: r.expectedPeerId,
        libp2pPeerId: r.libp2pPeerId,
        lastFailedConnection: r.lastFailedConnection,
        lastRejectedConnection: r.lastRejectedConnection,
        lastEstablishedConnection: r.lastEstablishedConnection,
        lastDisconnection: r.lastDisconnection,
        reconnection: r.reconnection
      }
      for (const [k, v] of Object.entries(history)) {
        if (v !== undefined && (p as Record<string, unknown>)[k] === undefined) (p as Record<string, unknown>)[k] = v
      }
      if (existing === undefined) this.points.set(r.key, p)
    }
    if (this.bound !== null && this.points.size > this.bound.max) this.gc(this.bound.target)
  }

  private require (key: string): MutablePoint {
    const p = this.points.get(key)
    if (p === undefined) throw new PointStateError(`unknown point ${key}`)
    return p
  }

  private emit (event: PointBookEvent): void {
    for (const l of this.listeners) l(event)
  }

  private shuffle<T> (items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      const tmp = items[i]; items[i] = items[j]; items[j] = tmp
    }
  }
}
