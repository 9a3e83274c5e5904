import type { MaintenanceBounds } from './limits.ts'
import type { PointBook, PointInfo } from './point-book.ts'

/**
 * The maintenance loop (Octez `P2p_maintenance`): keeps the number of authenticated connections
 * between the bounds of `maintenanceBounds` by dialling known points, asking peers for more, and
 * pruning; within bounds it proposes a swap. It runs at start, every `idleTimeMs`, and at once when
 * triggered ("too few" after a disconnection, "too many" after a connection, an explicit request).
 *
 * Everything it acts on comes through `MaintenanceDeps`, so the rules are tested with plain
 * functions, and the node wires them to real connections (`src/node/connection-manager.ts`).
 */

export type MaintenanceTrigger = 'start' | 'idle' | 'too-few' | 'too-many' | 'request'

export interface MaintenanceReport {
  trigger: MaintenanceTrigger
  /** Authenticated connections when the pass started and when it ended. */
  before: number
  after: number
  /** Dials attempted and dials that ended authenticated (trusted redials included). */
  dialled: number
  established: number
  /** Connections closed because there were too many. */
  pruned: number
  /** Times the pass ran out of candidates and asked peers (and DNS) for more. */
  askedForMore: number
  /** Whether a swap was proposed. */
  swapped: boolean
}

export interface MaintenanceDeps {
  bounds: MaintenanceBounds
  pointBook: PointBook
  /** Authenticated connections now. */
  activeConnections: () => number
  /** Dials a point; true once the connection is authenticated. Must not throw. */
  connect: (point: PointInfo, signal: AbortSignal) => Promise<boolean>
  /** Connections pruning may close: never trusted peers, never private+trusted ones. */
  pruneCandidates: () => string[]
  disconnect: (connectionId: string) => Promise<void>
  /**
   * Octez `ask_for_more_contacts`: Bootstrap to connected non-private peers (not in private mode),
   * DNS refresh. Must not throw.
   */
  askForMoreContacts: (signal: AbortSignal) => Promise<void>
  /** One swap proposal (Octez `send_swap_request`); returns whether one was sent. Must not throw. */
  trySwap: (signal: AbortSignal) => Promise<boolean>
  /** `--private-mode`: no swap. */
  privateMode: boolean
  /** `maintenance-idle-time`; null disables maintenance altogether, as in Octez. */
  idleTimeMs: number | null
  /** How long to wait for new points after asking for more before trying again (Octez: 5 s). */
  timeBetweenLookingForPeersMs: number
  onRun?: (report: MaintenanceReport) => void
  onError?: (error: Error) => void
  random?: () => number
  now?: () => number
}

export class Maintenance {
  private readonly deps: MaintenanceDeps
  private readonly random: () => number
  private readonly now: () => number
  private controller: AbortController | undefined
  private running: Promise<void> | undefined
  /** A trigger that arrived while a pass was running: the next wait returns at once. */
  private pendingTrigger: MaintenanceTrigger | undefined
  private wakeTrigger: ((t: MaintenanceTrigger) => void) | undefined
  private wakeContacts: (() => void) | undefined
  private passes = 0

  constructor (deps: MaintenanceDeps) {
    this.deps = deps
    this.random = deps.random ?? Math.random
    this.now = deps.now ?? Date.now
  }

  get enabled (): boolean {
    return this.deps.idleTimeMs !== null
  }

  /** Passes completed so far. */
  get runs (): number {
    return this.passes
  }

  /** Starts the loop (a first pass at once). Does nothing when maintenance is disabled. */
  start (): void {
    if (!this.enabled || this.running !== undefined) return
    this.controller = new AbortController()
    const signal = this.controller.signal
    this.running = this.loop(signal).catch(err => {
      if (!signal.aborted) this.deps.onError?.(err as Error)
    })
  }

  /** Stops the loop; resolves once the pass in progress (and its dials) have given up. */
  async stop (): Promise<void> {
    this.controller?.abort(new Error('maintenance stopped'))
    this.wakeTrigger?.('request')
    this.wakeContacts?.()
    await this.running
    this.running = undefined
    this.controller = undefined
  }

  /** Asks for a pass now (coalesced with one already due). */
  trigger (reason: MaintenanceTrigger = 'request'): void {
    if (this.running === undefined) return
    if (this.wakeTrigger !== undefined) this.wakeTrigger(reason)
    else this.pendingTrigger ??= reason
  }

  /** A new point or peer is known: a pass waiting for contacts goes on at once. */
  newContact (): void {
    this.wakeContacts?.()
  }

  private async loop (signal: AbortSignal): Promise<void> {
    let reason: MaintenanceTrigger = 'start'
    while (!signal.aborted) {
      try {
        const report = await this.maintain(reason, signal)
        this.passes++
        if (!signal.aborted) this.deps.onRun?.(report)
      } catch (err) {
        if (signal.aborted) return
        this.deps.onError?.(err as Error)
      }
      reason = await this.nextTrigger(signal)
    }
  }

  /** Octez `do_maintain`, repeated until the count is within [min_threshold, max_threshold]. */
  private async maintain (trigger: MaintenanceTrigger, signal: AbortSignal): Promise<MaintenanceReport> {
    const { bounds } = this.deps
    const report: MaintenanceReport = {
      trigger, before: this.deps.activeConnections(), after: 0, dialled: 0, established: 0, pruned: 0, askedForMore: 0, swapped: false
    }
    await this.redialTrusted(report, signal)
    while (!signal.aborted) {
      const n = this.deps.activeConnections()
      if (n < bounds.minThreshold) {
        const contacted = await this.tryToContact(bounds.minTarget - n, bounds.maxTarget - n, report, signal)
        // A round that "succeeded" without raising the count (connections closed at once) must not
        // spin: it waits for new contacts like a round that found nobody.
        if (!contacted || this.deps.activeConnections() <= n) {
          if (signal.aborted) break
          report.askedForMore++
          await this.deps.askForMoreContacts(signal)
          await this.waitForContacts(this.deps.timeBetweenLookingForPeersMs, signal)
        }
        continue
      }
      if (n > bounds.maxThreshold) {
        report.pruned += await this.prune(n - bounds.maxTarget)
        if (this.deps.activeConnections() >= n) break // nothing could be pruned (all protected)
        continue
      }
      if (!this.deps.privateMode) report.swapped = await this.deps.trySwap(signal)
      break
    }
    report.after = this.deps.activeConnections()
    return report
  }

  /** Trusted points are always wanted: every pass redials those that are down and out of back-off. */
  private async redialTrusted (report: MaintenanceReport, signal: AbortSignal): Promise<void> {
    const trusted = this.deps.pointBook.trustedToRedial()
    if (trusted.length === 0) return
    report.dialled += trusted.length
    const results = await Promise.all(trusted.map(async p => await this.deps.connect(p, signal)))
    report.established += results.filter(Boolean).length
  }

  /**
   * Octez `try_to_contact`: dials the best candidates (at most `max`) in parallel, and again with
   * the next best until `min` connections were established. False when candidates run out first.
   */
  private async tryToContact (min: number, max: number, report: MaintenanceReport, signal: AbortSignal): Promise<boolean> {
    const startTime = this.now()
    let seen: Set<string> | undefined
    while (min > 0 && !signal.aborted) {
      const selection = this.deps.pointBook.selectCandidates({ startTime, max, seen })
      seen = selection.seen
      if (selection.candidates.length === 0) return false
      report.dialled += selection.candidates.length
      const results = await Promise.all(selection.candidates.map(async p => await this.deps.connect(p, signal)))
      const established = results.filter(Boolean).length
      report.established += established
      min -= established
      max -= established
    }
    return true
  }

  /** Closes `count` connections picked at random among those that may be pruned. */
  private async prune (count: number): Promise<number> {
    const candidates = this.deps.pruneCandidates()
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      const tmp = candidates[i]; candidates[i] = candidates[j]; candidates[j] = tmp
    }
    const chosen = candidates.slice(0, Math.max(0, count))
    await Promise.all(chosen.map(async id => { await this.deps.disconnect(id) }))
    return chosen.length
  }

  private async nextTrigger (signal: AbortSignal): Promise<MaintenanceTrigger> {
    if (signal.aborted) return 'request'
    if (this.pendingTrigger !== undefined) {
      const t = this.pendingTrigger
      this.pendingTrigger = undefined
      return t
    }
    return await new Promise<MaintenanceTrigger>(resolve => {
      const timer = setTimeout(() => { done('idle') }, this.deps.idleTimeMs ?? 0)
      timer.unref()
      const onAbort = (): void => { done('request') }
      const done = (t: MaintenanceTrigger): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.wakeTrigger = undefined
        resolve(t)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.wakeTrigger = done
    })
  }

  private async waitForContacts (ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { done() }, ms)
      timer.unref()
      const onAbort = (): void => { done() }
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.wakeContacts = undefined
        resolve()
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.wakeContacts = done
    })
  }
}
