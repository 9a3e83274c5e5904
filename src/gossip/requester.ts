/**
 * The requester (Octez `src/lib_requester/requester.ml`): fetches objects by key from peers.
 *
 * - A key is never in flight twice: a second `fetch` of a pending key waits for the first.
 * - Keys are grouped into requests of at most `maxKeysPerRequest` (10) per peer, spread over the
 *   peers with the fewest requests in flight (at most `maxInFlightPerPeer` each).
 * - A key a peer does not answer (unknown keys are simply not answered) or answers wrongly is
 *   retried on another peer after a delay that grows ×1.5 (`initialDelayMs` first); peers not
 *   yet tried for the key, and the key's preferred peers (who announced it), come first.
 * - Each key has a deadline (`timeoutMs`); past it the fetch fails with `RequestTimeoutError`.
 *
 * The transport is injected (`request`), so the scheduling is tested without sockets; the sync
 * service provides the real one. `request` checks the answers and returns the accepted values by
 * key id; it throws when the peer misbehaved (the error goes to `onRequestError`, which may
 * penalise the peer) or the request failed.
 */

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError'
  readonly key: string
  constructor (what: string, key: string, ms: number) {
    super(`${what} ${key}: no peer answered within ${ms} ms`)
    this.key = key
  }
}

export class RequestCancelledError extends Error {
  override readonly name = 'RequestCancelledError'
}

export interface RequesterOptions<K, V> {
  /** What is fetched (`block header`, `operations`), for errors and logs. */
  name: string
  /** Stable identity of a key (e.g. hex hash). */
  keyId: (key: K) => string
  /** Sends one request for `keys` to `peer`; resolves with the accepted answers by key id. */
  request: (peer: string, keys: K[], signal: AbortSignal) => Promise<Map<string, V>>
  /** Peers that may be asked now. */
  peers: () => string[]
  onRequestError?: (peer: string, error: Error, keys: K[]) => void
  maxKeysPerRequest?: number
  maxInFlightPerPeer?: number
  /** Delay before the first retry of a key; grows ×`backoff` (default 1.5) per retry. */
  initialDelayMs?: number
  backoff?: number
  maxDelayMs?: number
  /** Default per-key deadline. */
  timeoutMs?: number
  /** How long one request may take before its keys are retried elsewhere. */
  requestTimeoutMs?: number
}

export interface FetchOptions {
  /** Peers to ask first (those that announced the object). */
  preferred?: readonly string[]
  /** Peers never to ask for this key. */
  exclude?: readonly string[]
  timeoutMs?: number
}

export interface Fetched<V> {
  value: V
  /** The peer whose answer was accepted. */
  peer: string
}

/** `exclude` of a key fetched without one: shared, never written. */
const NO_PEERS: ReadonlySet<string> = new Set()

interface Entry<K, V> {
  id: string
  key: K
  /**
   * The caller's list, never written (a later fetch naming more peers replaces it with a copy).
   * Arrays, not sets: they hold a few peers, and a bootstrap makes an entry per key.
   */
  preferred: readonly string[]
  exclude: ReadonlySet<string>
  tried: string[]
  waiters: Array<PromiseWithResolvers<Fetched<V>>>
  state: 'ready' | 'in-flight' | 'waiting' | 'done'
  delayMs: number
  deadline: ReturnType<typeof setTimeout>
  retry?: ReturnType<typeof setTimeout>
}

export class Requester<K, V> {
  private readonly o: Required<Omit<RequesterOptions<K, V>, 'onRequestError'>> & Pick<RequesterOptions<K, V>, 'onRequestError'>
  private readonly entries = new Map<string, Entry<K, V>>()
  /** Retries first, then new keys, each in arrival order. */
  private readonly retryQueue = new Set<string>()
  private readonly newQueue = new Set<string>()
  private readonly inFlight = new Map<string, number>()
  private pumpScheduled = false
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private sentRequests = 0

  constructor (options: RequesterOptions<K, V>) {
    this.o = {
      maxKeysPerRequest: 10,
      maxInFlightPerPeer: 4,
      initialDelayMs: 500,
      backoff: 1.5,
      maxDelayMs: 30_000,
      timeoutMs: 300_000,
      requestTimeoutMs: 10_000,
      ...options
    }
    if (!(this.o.maxKeysPerRequest >= 1 && this.o.maxInFlightPerPeer >= 1)) throw new RangeError(`${this.o.name} requester: bad limits`)
  }

  /** Keys waiting or in flight. */
  get pending (): number {
    return this.entries.size
  }

  /** Requests sent so far (for tests and metrics). */
  get requestsSent (): number {
    return this.sentRequests
  }

  has (key: K): boolean {
    return this.entries.has(this.o.keyId(key))
  }

  fetch (key: K, options: FetchOptions = {}): Promise<Fetched<V>> {
    if (this.stopped) return Promise.reject(new RequestCancelledError(`${this.o.name} requester is stopped`))
    const id = this.o.keyId(key)
    const waiter = Promise.withResolvers<Fetched<V>>()
    const existing = this.entries.get(id)
    if (existing !== undefined) {
      for (const p of options.preferred ?? []) if (!existing.preferred.includes(p)) existing.preferred = [...existing.preferred, p]
      existing.waiters.push(waiter)
      return waiter.promise
    }
    const timeoutMs = options.timeoutMs ?? this.o.timeoutMs
    const entry: Entry<K, V> = {
      id,
      key,
      preferred: options.preferred ?? [],
      exclude: options.exclude === undefined || options.exclude.length === 0 ? NO_PEERS : new Set(options.exclude),
      tried: [],
      waiters: [waiter],
      state: 'ready',
      delayMs: this.o.initialDelayMs,
      deadline: setTimeout(() => { this.settle(entry, new RequestTimeoutError(this.o.name, id, timeoutMs)) }, timeoutMs)
    }
    this.entries.set(id, entry)
    this.newQueue.add(id)
    this.schedulePump()
    return waiter.promise
  }

  /**
   * Asks `peer` too for a key in flight to another peer, when `peer` can answer at once (it pushed
   * the answer with its announcement, `protocols/gossip.md` §4.6): the first answer that passes
   * settles the key, the other is ignored. A hedge that gets no answer changes nothing (the
   * request in flight goes on). False when the key is not pending or `peer` was already asked.
   */
  hedge (key: K, peer: string): boolean {
    const e = this.entries.get(this.o.keyId(key))
    if (e === undefined || e.state !== 'in-flight' || e.tried.includes(peer) || e.exclude.has(peer)) return false
    e.tried.push(peer)
    this.inFlight.set(peer, (this.inFlight.get(peer) ?? 0) + 1)
    void this.sendHedge(peer, e)
    return true
  }

  /** Gives up on one key (its fetches reject with `RequestCancelledError`). */
  cancel (key: K): void {
    const e = this.entries.get(this.o.keyId(key))
    if (e !== undefined) this.settle(e, new RequestCancelledError(`${this.o.name} ${e.id}: cancelled`))
  }

  /** Call when peers connect: keys waiting for a peer are tried again at once. */
  peersChanged (): void {
    this.schedulePump()
  }

  /** Cancels everything pending; later fetches are refused. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.idleTimer)
    for (const e of [...this.entries.values()]) this.settle(e, new RequestCancelledError(`${this.o.name} requester stopped`))
  }

  private settle (e: Entry<K, V>, outcome: Error | Fetched<V>): void {
    if (e.state === 'done') return
    e.state = 'done'
    clearTimeout(e.deadline)
    clearTimeout(e.retry)
    this.entries.delete(e.id)
    this.retryQueue.delete(e.id)
    this.newQueue.delete(e.id)
    for (const w of e.waiters) {
      if (outcome instanceof Error) w.reject(outcome)
      else w.resolve(outcome)
    }
  }

  private schedulePump (): void {
    if (this.pumpScheduled || this.stopped) return
    this.pumpScheduled = true
    queueMicrotask(() => { this.pumpScheduled = false; this.pump() })
  }

  /** Assigns ready keys to peers and sends the requests. */
  private pump (): void {
    const peers = this.o.peers()
    if (peers.length === 0) { this.wakeLater(); return }
    const groups = new Map<string, Array<Entry<K, V>>>()
    const send = (peer: string): void => {
      const group = groups.get(peer)
      if (group === undefined || group.length === 0) return
      groups.delete(peer)
      void this.send(peer, group)
    }
    const capacity = (p: string): boolean => (this.inFlight.get(p) ?? 0) < this.o.maxInFlightPerPeer
    const anyUsable = (): boolean => {
      for (const p of peers) if (groups.has(p) || capacity(p)) return true
      return false
    }
    let starved = false
    for (const queue of [this.retryQueue, this.newQueue]) {
      for (const id of queue) {
        if (!anyUsable()) { starved = true; break }
        const e = this.entries.get(id)
        if (e === undefined) { queue.delete(id); continue }
        const peer = this.choosePeer(e, peers, groups, capacity)
        if (peer === undefined) continue
        queue.delete(id)
        e.state = 'in-flight'
        e.tried.push(peer)
        const group = groups.get(peer) ?? []
        group.push(e)
        groups.set(peer, group)
        if (group.length === 1) this.inFlight.set(peer, (this.inFlight.get(peer) ?? 0) + 1)
        if (group.length >= this.o.maxKeysPerRequest) send(peer)
      }
      if (starved) break
    }
    for (const peer of [...groups.keys()]) send(peer)
    if (this.retryQueue.size + this.newQueue.size > 0) this.wakeLater()
  }

  /**
   * A peer for one key: not excluded; among those not yet tried for it (all, once every one has
   * been tried); preferred peers first; a peer whose request is still being filled before one
   * that would need a new request; then the least busy.
   */
  private choosePeer (e: Entry<K, V>, peers: string[], groups: Map<string, Array<Entry<K, V>>>, capacity: (p: string) => boolean): string | undefined {
    // Two passes over `peers` and no intermediate lists: this runs once per key a bootstrap fetches.
    let allowed = false
    let untried = false
    for (const p of peers) {
      if (e.exclude.has(p)) continue
      allowed = true
      if (!e.tried.includes(p)) { untried = true; break }
    }
    if (!allowed) return undefined
    if (!untried) e.tried.length = 0
    let best: string | undefined
    let bestScore = Infinity
    let bestPreferred: string | undefined
    let bestPreferredScore = Infinity
    for (const p of peers) {
      if (e.exclude.has(p) || (untried && e.tried.includes(p))) continue
      const filling = groups.has(p)
      if (!filling && !capacity(p)) continue
      const score = (filling ? -1000 : 0) + (this.inFlight.get(p) ?? 0)
      if (score < bestScore) { best = p; bestScore = score }
      if (score < bestPreferredScore && e.preferred.includes(p)) { bestPreferred = p; bestPreferredScore = score }
    }
    return bestPreferred ?? best
  }

  /** Keys are waiting for a peer or for capacity: look again soon even if nothing else happens. */
  private wakeLater (): void {
    if (this.idleTimer !== undefined || this.stopped) return
    this.idleTimer = setTimeout(() => { this.idleTimer = undefined; this.schedulePump() }, 200)
  }

  private async send (peer: string, group: Array<Entry<K, V>>): Promise<void> {
    this.sentRequests++
    let answers: Map<string, V> | undefined
    try {
      answers = await this.o.request(peer, group.map(e => e.key), AbortSignal.timeout(this.o.requestTimeoutMs))
    } catch (err) {
      this.o.onRequestError?.(peer, err as Error, group.map(e => e.key))
    } finally {
      this.release(peer)
    }
    for (const e of group) {
      if (e.state === 'done') continue
      const value = answers?.get(e.id)
      if (value !== undefined || answers?.has(e.id) === true) {
        this.settle(e, { value: value as V, peer })
        continue
      }
      this.retryLater(e)
    }
    this.schedulePump()
  }

  private async sendHedge (peer: string, e: Entry<K, V>): Promise<void> {
    this.sentRequests++
    let answers: Map<string, V> | undefined
    try {
      answers = await this.o.request(peer, [e.key], AbortSignal.timeout(this.o.requestTimeoutMs))
    } catch (err) {
      this.o.onRequestError?.(peer, err as Error, [e.key])
    } finally {
      this.release(peer)
    }
    if (e.state !== 'done' && answers?.has(e.id) === true) this.settle(e, { value: answers.get(e.id) as V, peer })
  }

  /** A request to `peer` ended: one fewer in flight. */
  private release (peer: string): void {
    const n = (this.inFlight.get(peer) ?? 1) - 1
    if (n <= 0) this.inFlight.delete(peer)
    else this.inFlight.set(peer, n)
  }

  private retryLater (e: Entry<K, V>): void {
    e.state = 'waiting'
    const delay = e.delayMs
    e.delayMs = Math.min(this.o.maxDelayMs, e.delayMs * this.o.backoff)
    // A key that has peers it was not yet sent to goes to them at once; the delay applies to re-asking.
    const others = this.o.peers().some(p => !e.tried.includes(p) && !e.exclude.has(p))
    if (others) {
      e.state = 'ready'
      this.retryQueue.add(e.id)
      return
    }
    e.retry = setTimeout(() => {
      if (e.state !== 'waiting') return
      e.state = 'ready'
      this.retryQueue.add(e.id)
      this.schedulePump()
    }, delay)
  }
}
