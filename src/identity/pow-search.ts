import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { randomBytes, x25519Keypair } from '../crypto/index.ts'
import { makeIdentity, type Identity } from './identity.ts'
import { POW_STAMP_BYTES, checkProofOfWork, expectedPowAttempts, makePowTarget } from './pow.ts'

/** What the parent hands each search thread. */
export interface PowWorkerData {
  publicKey: Uint8Array
  startStamp: Uint8Array
  target: bigint
  /** Stamps tried between two progress reports. */
  chunk: number
}

/** `attempts`: stamps tried since the last message; `cpuMicros`: the thread's CPU time so far. */
export type PowWorkerMessage =
  | { kind: 'progress', attempts: number, cpuMicros: number }
  | { kind: 'found', stamp: Uint8Array, attempts: number, cpuMicros: number }

/** A snapshot of a running search, for progress displays. */
export interface PowProgress {
  /** Stamps tried so far, all workers together. */
  attempts: number
  elapsedMs: number
  /** Average rate since the first worker report (0 before it). */
  hashesPerSecond: number
  /** Mean number of attempts a search needs: 2^256 / (target + 1), about 2^difficulty. */
  expectedAttempts: number
  /** Mean duration of a whole search at the current rate. */
  expectedMs: number
  /**
   * Time until `expectedAttempts` is reached at the current rate (0 once passed). The search is
   * memoryless: however long it has run, the mean time still to go is `expectedMs`; this figure is
   * the familiar countdown towards the mean.
   */
  etaMs: number
  workers: number
  /** Attempts reported by each worker so far (shows that every thread is working). */
  attemptsPerWorker: number[]
  /**
   * CPU time the search threads had used at their latest reports, all together, in seconds: with
   * `attempts` (counted from the same reports), the rate per CPU-second, which other load on the
   * machine disturbs less than the wall-clock rate.
   */
  workerCpuSeconds: number
}

export interface PowSearchOptions {
  /** Search threads; default `os.availableParallelism()`. */
  workers?: number
  signal?: AbortSignal
  onProgress?: (progress: PowProgress) => void
  /** How often `onProgress` is called; default 250 ms. */
  progressIntervalMs?: number
  /** Stamps tried by a worker between two reports; default 65536 (a few ms of work). */
  chunk?: number
}

export interface PowSearchResult {
  stamp: Uint8Array
  /** Stamps tried by all workers, including the passing one. */
  attempts: number
}

/** The search was cancelled through its AbortSignal; its workers are already terminated. */
export class PowSearchAbortedError extends Error {
  override readonly name = 'AbortError'
  readonly code = 'ABORT_ERR'
  constructor (reason?: unknown) {
    super('proof-of-work search aborted', reason === undefined ? undefined : { cause: reason })
  }
}

/** A search thread failed (could not start, crashed, or reported a stamp that does not pass). */
export class PowWorkerError extends Error {
  override readonly name = 'PowWorkerError'
}

export class PowSearchOptionsError extends RangeError {
  override readonly name = 'PowSearchOptionsError'
}

/**
 * The worker file beside this module, with this module's own extension: `.ts` when Node runs the
 * sources, `.js` in the compiled `dist/` (tsc rewrites import specifiers, not URL strings).
 */
const WORKER_URL = new URL(`./pow-worker${/\.[cm]?[jt]s$/.exec(import.meta.url)?.[0] ?? '.js'}`, import.meta.url)

const DEFAULT_CHUNK = 1 << 16
const DEFAULT_PROGRESS_INTERVAL_MS = 250

/**
 * Finds a stamp for `publicKey` whose PoW hash is ≤ `target`, on `workers` threads each walking
 * from its own random start stamp (Octez's `Nonce.increment` order). Resolves once a stamp is found
 * and every worker is terminated; rejects with `PowSearchAbortedError` when `signal` aborts (again
 * after the workers are gone) and with `PowWorkerError` if a worker fails.
 */
export async function searchProofOfWork (publicKey: Uint8Array, target: bigint, options: PowSearchOptions = {}): Promise<PowSearchResult> {
  const workerCount = options.workers ?? availableParallelism()
  if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > 1024) {
    throw new PowSearchOptionsError(`workers must be an integer from 1 to 1024, got ${workerCount}`)
  }
  const chunk = options.chunk ?? DEFAULT_CHUNK
  if (!Number.isInteger(chunk) || chunk < 1) throw new PowSearchOptionsError(`chunk must be a positive integer, got ${chunk}`)
  const { signal, onProgress } = options
  if (signal?.aborted === true) throw new PowSearchAbortedError(signal.reason)

  const expectedAttempts = expectedPowAttempts(target)
  const started = performance.now()
  let attempts = 0
  const attemptsPerWorker = new Array<number>(workerCount).fill(0)
  const cpuMicrosPerWorker = new Array<number>(workerCount).fill(0)
  // The rate is measured from the first report on, so thread start-up does not drag it down.
  let firstReportAt = 0
  let attemptsAtFirstReport = 0
  const snapshot = (): PowProgress => {
    const now = performance.now()
    const elapsedMs = now - started
    const window = now - firstReportAt
    const rate = firstReportAt > 0 && window > 0 ? (attempts - attemptsAtFirstReport) / (window / 1000) : 0
    return {
      attempts,
      elapsedMs,
      hashesPerSecond: rate,
      expectedAttempts,
      expectedMs: rate > 0 ? expectedAttempts / rate * 1000 : Infinity,
      etaMs: rate > 0 ? Math.max(0, expectedAttempts - attempts) / rate * 1000 : Infinity,
      workers: workerCount,
      attemptsPerWorker: attemptsPerWorker.slice(),
      workerCpuSeconds: cpuMicrosPerWorker.reduce((a, b) => a + b, 0) / 1e6
    }
  }

  const { promise, resolve, reject } = Promise.withResolvers<PowSearchResult>()
  const workers: Worker[] = []
  let settled = false
  let timer: NodeJS.Timeout | undefined
  // Settles only after every worker has stopped, so no thread outlives the search.
  const finish = (settle: () => void): void => {
    if (settled) return
    settled = true
    clearInterval(timer)
    signal?.removeEventListener('abort', onAbort)
    void Promise.allSettled(workers.map(async (w) => await w.terminate())).then(settle)
  }
  const onAbort = (): void => { finish(() => { reject(new PowSearchAbortedError(signal?.reason)) }) }
  signal?.addEventListener('abort', onAbort, { once: true })

  for (let i = 0; i < workerCount && !settled; i++) {
    const data: PowWorkerData = { publicKey, startStamp: randomBytes(POW_STAMP_BYTES), target, chunk }
    let worker: Worker
    try {
      worker = new Worker(WORKER_URL, { workerData: data })
    } catch (e) {
      finish(() => { reject(new PowWorkerError(`cannot start a proof-of-work worker: ${(e as Error).message}`, { cause: e })) })
      break
    }
    workers.push(worker)
    worker.on('message', (m: PowWorkerMessage) => {
      if (settled) return
      attempts += m.attempts
      attemptsPerWorker[i] += m.attempts
      cpuMicrosPerWorker[i] = m.cpuMicros
      if (firstReportAt === 0) {
        firstReportAt = performance.now()
        attemptsAtFirstReport = attempts
      }
      if (m.kind !== 'found') return
      const stamp = new Uint8Array(m.stamp)
      if (!checkProofOfWork(publicKey, stamp, target)) {
        finish(() => { reject(new PowWorkerError('a search worker reported a stamp that does not pass the target')) })
      } else {
        finish(() => { resolve({ stamp, attempts }) })
      }
    })
    worker.on('error', (e: Error) => {
      finish(() => { reject(new PowWorkerError(`proof-of-work worker failed: ${e.message}`, { cause: e })) })
    })
    worker.on('exit', (code) => {
      finish(() => { reject(new PowWorkerError(`proof-of-work worker stopped unexpectedly (exit code ${code})`)) })
    })
  }

  if (onProgress !== undefined) {
    timer = setInterval(() => {
      try {
        onProgress(snapshot())
      } catch (e) {
        finish(() => { reject(e) })
      }
    }, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS)
  }
  return await promise
}

export interface GenerateIdentityOptions extends PowSearchOptions {
  /** Proof-of-work difficulty, 0 to 256, fractional allowed (Octez default 26). */
  difficulty: number
}

/**
 * Octez `P2p_identity.generate`: a fresh X25519 keypair, then a PoW stamp for it at `difficulty`,
 * searched on every core.
 */
export async function generateIdentity (options: GenerateIdentityOptions): Promise<Identity> {
  const target = makePowTarget(options.difficulty)
  const { publicKey, secretKey } = x25519Keypair()
  const { stamp } = await searchProofOfWork(publicKey, target, options)
  return makeIdentity(publicKey, secretKey, stamp)
}
