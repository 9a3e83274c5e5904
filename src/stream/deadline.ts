/**
 * A deadline whose timer goes away when the work ends in time. `AbortSignal.timeout(ms)` keeps
 * its timer, its signal and every listener added to it (and what those reference: a stream,
 * its buffers) alive until it fires, whether the work needed it or not: with a 30 s deadline per
 * answer and a few answers per peer and head, that is tens of live timers per peer
 * (`npm run bench:peers`, heap snapshots). The signal aborts with a `TimeoutError`
 * `DOMException`, as `AbortSignal.timeout` does.
 */
export class Deadline {
  private readonly controller = new AbortController()
  private readonly timer: ReturnType<typeof setTimeout>

  constructor (ms: number) {
    this.timer = setTimeout(() => { this.controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) }, ms)
    // Like AbortSignal.timeout's: a pending deadline does not keep the process alive.
    this.timer.unref()
  }

  get signal (): AbortSignal {
    return this.controller.signal
  }

  /** The work is over: the timer is cleared (the signal stays as it is). */
  clear (): void {
    clearTimeout(this.timer)
  }
}
