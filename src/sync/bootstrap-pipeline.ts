import type { Operation } from '../wire/operation.ts'
import type { HashedHeader } from './checks.ts'
import { BoundedQueue } from './queue.ts'
import type { PlannedStep, StepHeaderFetcher } from './step-headers.ts'

/**
 * The bootstrap pipeline (Octez `src/lib_shell/bootstrap_pipeline.ml`): three stages joined by
 * bounded queues.
 *
 * 1. Headers: the locator's steps, oldest first; each step's headers are fetched top-down and
 *    verified by hash (`StepHeaderFetcher`: in chunks from several peers in parallel, which is
 *    where tzp2p departs from Octez's one-header-at-a-time walk), then checked (`checkHeader`:
 *    future blocks, checkpoint) and queued oldest first. Several steps are fetched at once.
 * 2. Operations: for the queued headers in order, every validation pass of every block is fetched
 *    in parallel (checked against the header's operations_hash by the requester), up to
 *    `blocksAhead` blocks ahead of the application.
 * 3. Application: strictly oldest to newest, in runs of the blocks whose operations are in, through
 *    `apply` (the chain, which validates with the protocol and stores atomically).
 *
 * Between 2 and 3, blocks whose operations are in are handed to `precheck` in batches of
 * `precheckBatch`, in the order they arrive: the protocol verifies their signatures on its worker
 * threads while the network stages keep fetching, instead of when their run reaches `apply`
 * (where the applying thread would wait for the first chunk's verification of every run, and the
 * workers would sit idle between runs). A block is applied once its precheck has settled, so the
 * chain never verifies the same signatures a second time; a precheck only remembers what it
 * verified, and anything it did not is checked by `apply` as before.
 *
 * Any error aborts the whole pipeline and is thrown by `run()`; the caller decides whom to blame
 * (an invalid block or a lying locator is the fault of the peer whose branch this is; answers that
 * fail their checks were already dealt with by the fetchers).
 */
export interface PipelineBlock {
  header: HashedHeader
  operations: Operation[][]
}

export interface BootstrapPlan {
  /** The peer whose branch this is. */
  peer: string
  /** Oldest first; the oldest step ends on a block we have. */
  steps: PlannedStep[]
  /** Level of the block we have below the oldest step. */
  startLevel: number
  targetLevel: number
  targetHash: Uint8Array
}

export interface BootstrapProgress {
  peer: string
  level: number
  startLevel: number
  targetLevel: number
  /** Levels applied per second since the pipeline started. */
  levelsPerSecond: number
  /** Seconds left at that rate (undefined until something was applied). */
  etaSeconds: number | undefined
  headersFetched: number
  blocksFetched: number
  /**
   * Where the application stage's time went since the pipeline started, in ms: waiting for the
   * next block's operations (the network is behind), waiting for its precheck (the signature
   * workers are behind), and in `apply`.
   */
  stageMs: { operations: number, precheck: number, apply: number }
}

export interface BootstrapPipelineDeps {
  fetchStepHeaders: StepHeaderFetcher
  /** A block's operations, one list per validation pass, checked against its header. */
  fetchOperations: (header: HashedHeader) => Promise<Operation[][]>
  /** Throws to refuse a header before its operations are fetched. */
  checkHeader?: (header: HashedHeader) => void
  /**
   * Whether we already have a block. The locator is sparse, so its first known entry may lie below
   * our head; blocks we have are skipped (Octez stops walking a step at a block it has).
   */
  isKnown?: (header: HashedHeader) => Promise<boolean>
  apply: (blocks: PipelineBlock[]) => Promise<void>
  /** Verifies what it can of the blocks ahead of `apply` (signatures); never throws for a bad block. */
  precheck?: (blocks: PipelineBlock[]) => Promise<void>
  onProgress?: (progress: BootstrapProgress) => void
  now?: () => number
}

export interface BootstrapPipelineOptions {
  /** Steps whose headers are fetched at once (default 16). */
  stepsAhead?: number
  /** Headers fetched but not yet handed to the operations stage (default 4096). */
  headersAhead?: number
  /** Blocks whose operations are being fetched or wait for application (default 2048). */
  blocksAhead?: number
  /** Most blocks per `apply` call (default 500). */
  maxRun?: number
  /** Blocks per `precheck` call (default 64; fewer when the application is waiting for them). */
  precheckBatch?: number
}

export interface BootstrapResult {
  applied: number
  level: number
  milliseconds: number
}

/** Precheck batches being verified at once (see `sendFullPrechecks`). */
const PRECHECKS_IN_FLIGHT = 2

export class PipelineAbortedError extends Error {
  override readonly name = 'PipelineAbortedError'
}

interface InFlightBlock {
  header: HashedHeader
  operations?: Operation[][]
  /** Settles once the operations are in. */
  done: Promise<void>
  /** Settles once the operations are in and prechecked. */
  ready: Promise<void>
  /** `ready` has settled. */
  isReady: boolean
  /** Waiting in `toPrecheck` for the next batch. */
  precheckWaiting: boolean
}

export class BootstrapPipeline {
  readonly plan: BootstrapPlan
  private readonly deps: BootstrapPipelineDeps
  private readonly stepsAhead: number
  private readonly maxRun: number
  private readonly precheckBatch: number
  /** Blocks whose operations are in, waiting to be prechecked, in arrival order. */
  private toPrecheck: Array<{ block: InFlightBlock, resolve: () => void }> = []
  private prechecksInFlight = 0
  private readonly headers: BoundedQueue<HashedHeader[]>
  private readonly blocks: BoundedQueue<InFlightBlock>
  private readonly now: () => number
  private failure: Error | undefined
  private startedAt = 0
  private level: number
  private headersFetched = 0
  /** Still in the part of the branch we already have. */
  private skipping = true
  private blocksFetched = 0
  private readonly stageMs = { operations: 0, precheck: 0, apply: 0 }

  constructor (plan: BootstrapPlan, deps: BootstrapPipelineDeps, options: BootstrapPipelineOptions = {}) {
    this.plan = plan
    this.deps = deps
    this.stepsAhead = options.stepsAhead ?? 16
    this.maxRun = options.maxRun ?? 500
    this.precheckBatch = options.precheckBatch ?? 64
    // Queue items are whole steps; bound them so that about `headersAhead` headers wait.
    const meanStep = Math.max(1, (plan.targetLevel - plan.startLevel) / Math.max(1, plan.steps.length))
    this.headers = new BoundedQueue(Math.max(2, Math.ceil((options.headersAhead ?? 4096) / meanStep)))
    this.blocks = new BoundedQueue(options.blocksAhead ?? 2048)
    this.now = deps.now ?? Date.now
    this.level = plan.startLevel
  }

  /**
   * Settles when the pipeline is aborted. `run()` races its stages against it: a stage waiting on
   * a fetch (which ends only when the fetch succeeds or runs out of retries) must not keep a
   * pipeline alive once its branch is abandoned, e.g. when the peer behind it is greylisted.
   */
  private readonly abortion = Promise.withResolvers<never>()

  /** Stops the pipeline; `run()` rejects with `reason` at once. Fetches in flight end on their own. */
  abort (reason: Error = new PipelineAbortedError('bootstrap pipeline aborted')): void {
    this.failure ??= reason
    this.headers.fail(this.failure)
    this.blocks.fail(this.failure)
    this.abortion.reject(this.failure)
  }

  /** The peer whose branch this pipeline follows. */
  get peer (): string {
    return this.plan.peer
  }

  get aborted (): boolean {
    return this.failure !== undefined
  }

  async run (): Promise<BootstrapResult> {
    this.startedAt = this.now()
    const stages = [this.fetchHeaders(), this.fetchOperations(), this.applyBlocks()]
    const guarded = stages.map(async stage => { try { await stage } catch (e) { this.abort(e as Error); throw e } })
    this.abortion.promise.catch(() => {})
    const results = await Promise.race([Promise.allSettled(guarded), this.abortion.promise])
    if (this.failure !== undefined) throw this.failure
    for (const r of results) if (r.status === 'rejected') throw r.reason
    return { applied: this.level - this.plan.startLevel, level: this.level, milliseconds: this.now() - this.startedAt }
  }

  /** Stage 1: steps oldest first, `stepsAhead` of them in flight, each handed over bottom-up. */
  private async fetchHeaders (): Promise<void> {
    const steps = this.plan.steps
    const inFlight: Array<Promise<HashedHeader[]>> = []
    let next = 0
    const launch = (): void => {
      while (next < steps.length && inFlight.length < this.stepsAhead && !this.aborted) {
        const p = this.deps.fetchStepHeaders(steps[next++])
        p.catch(() => {})
        inFlight.push(p)
      }
    }
    for (let i = 0; i < steps.length; i++) {
      launch()
      const topDown = await inFlight.shift() as HashedHeader[]
      if (this.aborted) return
      let bottomUp = topDown.reverse()
      if (this.skipping && this.deps.isKnown !== undefined) {
        let known = 0
        while (known < bottomUp.length && await this.deps.isKnown(bottomUp[known])) known++
        if (known < bottomUp.length) this.skipping = false
        bottomUp = bottomUp.slice(known)
        if (bottomUp.length === 0) continue
      }
      for (const h of bottomUp) this.deps.checkHeader?.(h)
      this.headersFetched += bottomUp.length
      await this.headers.push(bottomUp)
    }
    this.headers.close()
  }

  /** Stage 2: every pass of every block fetched in parallel, handed over in order. */
  private async fetchOperations (): Promise<void> {
    for (;;) {
      const batch = await this.headers.shift()
      if (batch === undefined) break
      for (const header of batch) {
        // Queued first, fetched once queued: at most `blocksAhead` blocks wait, plus the one being applied.
        const started = Promise.withResolvers<void>()
        const checked = Promise.withResolvers<void>()
        const block: InFlightBlock = { header, done: started.promise, ready: checked.promise, isReady: false, precheckWaiting: false }
        block.done.catch(() => {})
        block.ready.catch(() => {})
        await this.blocks.push(block)
        this.deps.fetchOperations(header).then(ops => {
          block.operations = ops
          this.blocksFetched++
          started.resolve()
          this.queuePrecheck(block, () => { block.isReady = true; checked.resolve() })
        }, (e: Error) => { started.reject(e); checked.reject(e) })
      }
    }
    this.blocks.close()
  }

  /** Hands `block` to the next precheck batch, which goes once it is full. */
  private queuePrecheck (block: InFlightBlock, resolve: () => void): void {
    if (this.deps.precheck === undefined || this.aborted) { resolve(); return }
    block.precheckWaiting = true
    this.toPrecheck.push({ block, resolve })
    this.sendFullPrechecks()
  }

  /**
   * Full batches go while fewer than `PRECHECKS_IN_FLIGHT` are being verified: enough to keep the
   * workers busy, while the blocks waiting for them stay here, in one list, instead of in queued
   * verification requests (which would outlive young-generation collections by the hundreds).
   */
  private sendFullPrechecks (): void {
    while (this.toPrecheck.length >= this.precheckBatch && this.prechecksInFlight < PRECHECKS_IN_FLIGHT) this.sendPrechecks(this.precheckBatch)
  }

  /** The `count` oldest blocks waiting for a precheck go as one batch. */
  private sendPrechecks (count: number): void {
    if (this.toPrecheck.length === 0 || this.deps.precheck === undefined) return
    const batch = this.toPrecheck.splice(0, count)
    for (const { block } of batch) block.precheckWaiting = false
    this.prechecksInFlight++
    const settle = (): void => {
      this.prechecksInFlight--
      for (const { resolve } of batch) resolve()
      this.sendFullPrechecks()
    }
    this.deps.precheck(batch.map(({ block }) => ({ header: block.header, operations: block.operations as Operation[][] }))).then(settle, settle)
  }

  /** Stage 3: oldest first, in runs of whatever has its operations in and prechecked already. */
  private async applyBlocks (): Promise<void> {
    let lastReport = 0
    for (;;) {
      const first = await this.blocks.shift()
      if (first === undefined) break
      let t = performance.now()
      await first.done
      const fetched = performance.now()
      this.stageMs.operations += fetched - t
      // The application waits for this block: it goes now with the blocks that arrived before it,
      // in batches of `precheckBatch` (verified in order, so the first results come back first).
      if (first.precheckWaiting) {
        const at = this.toPrecheck.findIndex(e => e.block === first)
        for (let sent = 0; sent <= at; sent += this.precheckBatch) this.sendPrechecks(Math.min(this.precheckBatch, at + 1 - sent))
      }
      await first.ready
      t = performance.now()
      this.stageMs.precheck += t - fetched
      const run: PipelineBlock[] = [{ header: first.header, operations: first.operations as Operation[][] }]
      while (run.length < this.maxRun) {
        const next = this.blocks.peek()
        if (next === undefined || !next.isReady) break
        await this.blocks.shift()
        run.push({ header: next.header, operations: next.operations as Operation[][] })
      }
      if (this.aborted) return
      await this.deps.apply(run)
      this.stageMs.apply += performance.now() - t
      this.level = run[run.length - 1].header.header.shell.level
      const now = this.now()
      if (now - lastReport >= 1000 || this.level >= this.plan.targetLevel) {
        lastReport = now
        this.report(now)
      }
    }
  }

  private report (now: number): void {
    const seconds = Math.max(0.001, (now - this.startedAt) / 1000)
    const done = this.level - this.plan.startLevel
    const rate = done / seconds
    this.deps.onProgress?.({
      peer: this.plan.peer,
      level: this.level,
      startLevel: this.plan.startLevel,
      targetLevel: this.plan.targetLevel,
      levelsPerSecond: rate,
      etaSeconds: rate > 0 ? Math.max(0, this.plan.targetLevel - this.level) / rate : undefined,
      headersFetched: this.headersFetched,
      blocksFetched: this.blocksFetched,
      stageMs: { ...this.stageMs }
    })
  }
}
