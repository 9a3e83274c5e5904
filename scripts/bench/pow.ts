/**
 * `npm run bench:pow`: how fast tzp2p searches proof-of-work stamps, per core and on all cores,
 * beside a native C loop doing the same work with the same libsodium function, measured in the
 * same run on the same machine.
 *
 *   npm run bench:pow                      # best of 3 rounds of 2 s runs, all cores (~30 s)
 *   npm run bench:pow -- --seconds 5 --rounds 5 --workers 4 --json pow.json
 *
 * The C baseline (scripts/bench/native/pow.c) is compiled on the fly with `cc` against the system
 * libsodium (Debian/Ubuntu: apt-get install libsodium-dev); without them only tzp2p's figures are
 * printed. tzp2p's search runs its loop in the native addon when `npm run build:native` has built
 * it, else through sodium-native; the report says which path ran, and why the addon was not used.
 *
 * Besides the wall-clock rates (best of the rounds), each round runs one tzp2p search thread and
 * one C process side by side, at the same time: on a machine shared with other work both then meet
 * the same load, so their ratio (wall-clock, and per CPU-second of the hashing thread and process)
 * moves much less with the load than ratios of runs taken one after the other.
 */
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { x25519Keypair, randomBytes } from '../../src/crypto/index.ts'
import { searchProofOfWork, PowSearchAbortedError, type PowProgress } from '../../src/identity/index.ts'
import { NATIVE_POW, PowScanner, POW_HASH_PATH, type PowEngine } from '../../src/identity/pow-scanner.ts'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson, type BenchFigure, type BenchResult } from './results.ts'

const run = promisify(execFile)
const NATIVE_SOURCE = fileURLToPath(new URL('./native/pow.c', import.meta.url))

export interface Rate {
  /** Million BLAKE2b-256 hashes (stamps tried) per second. */
  mhashPerSecond: number
  hashes: number
  seconds: number
  /** CPU time the hashing process or thread used meanwhile, when measured. */
  cpuSeconds?: number
}

export interface PowBenchResult {
  workers: number
  rounds: number
  secondsPerRun: number
  /** 1-minute load average when the run began: other work on the machine skews the figures. */
  loadAverageAtStart: number
  hashPath: string
  /** Why the native addon was not used, when it was not. */
  nativeAddonUnavailable?: string
  /** The scanner's loop on the main thread, per engine available in this run. */
  mainThreadLoop: Partial<Record<PowEngine, Rate>>
  tzp2p: { perCore: Rate, allCores: Rate }
  native: { perCore: Rate, allCores: Rate } | { unavailable: string }
  /** One search thread and one C process at the same time, once per round (with the C baseline). */
  sideBySide: Array<{ tzp2p: Rate, native: Rate }>
}

/**
 * tzp2p's real search (`searchProofOfWork` on worker threads) against an impossible target. The
 * measured window opens at the first progress snapshot after a short warm-up in which every worker
 * has reported (so thread start-up, module loading and JIT warm-up are not counted, however long
 * a loaded machine makes them) and lasts `seconds`, or, given `alongside`, as long as the work it
 * starts when the window opens.
 */
async function measureSearch (workers: number, seconds: number, alongside?: () => Promise<unknown>): Promise<Rate> {
  const { publicKey } = x25519Keypair()
  const abort = new AbortController()
  const warmupMs = Math.min(1000, seconds * 200)
  let first: PowProgress | undefined
  let last: PowProgress | undefined
  let stop = setTimeout(() => { abort.abort() }, 120_000) // no report at all: give up
  let other: Promise<unknown> | undefined
  try {
    await searchProofOfWork(publicKey, 0n, {
      workers,
      signal: abort.signal,
      progressIntervalMs: 25,
      onProgress: (p) => {
        if (first === undefined) {
          if (p.elapsedMs < warmupMs || !p.attemptsPerWorker.every((n) => n > 0)) return
          first = p
          clearTimeout(stop)
          if (alongside === undefined) stop = setTimeout(() => { abort.abort() }, seconds * 1000)
          else other = alongside().finally(() => { abort.abort() })
        }
        last = p
      }
    })
  } catch (e) {
    if (!(e instanceof PowSearchAbortedError)) throw e
  } finally {
    clearTimeout(stop)
  }
  await other
  if (first === undefined || last === undefined || last === first) throw new Error('the search reported no progress')
  const hashes = last.attempts - first.attempts
  const secs = (last.elapsedMs - first.elapsedMs) / 1000
  // CPU time of the search threads, from the same reports as the attempts.
  return { mhashPerSecond: hashes / secs / 1e6, hashes, seconds: secs, cpuSeconds: last.workerCpuSeconds - first.workerCpuSeconds }
}

/** The scanner's loop on this thread, without workers: the cost of the loop itself. */
function measureMainThreadLoop (engine: PowEngine, seconds: number): Rate {
  const scanner = new PowScanner(x25519Keypair().publicKey, randomBytes(24), 0n, engine)
  scanner.scan(200_000) // warm-up: let the JIT optimise the loop
  let hashes = 0
  const started = performance.now()
  const cpuStarted = process.threadCpuUsage()
  let elapsed: number
  do {
    hashes += scanner.scan(1 << 16)
    elapsed = (performance.now() - started) / 1000
  } while (elapsed < seconds)
  const cpu = process.threadCpuUsage(cpuStarted)
  return { mhashPerSecond: hashes / elapsed / 1e6, hashes, seconds: elapsed, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}

/** Compiles the C baseline; returns the binary, or why it could not be built. */
async function buildNative (): Promise<{ binary: string } | { unavailable: string }> {
  const dir = join(tmpdir(), 'tzp2p-bench-native')
  await mkdir(dir, { recursive: true })
  const binary = join(dir, 'pow')
  const cc = process.env.CC ?? 'cc'
  try {
    await run(cc, ['-O2', '-o', binary, NATIVE_SOURCE, '-lsodium'])
    return { binary }
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string }
    if (err.code === 'ENOENT') return { unavailable: `no C compiler (${cc}) found` }
    const detail = /sodium\.h|lsodium/.test(err.stderr ?? '')
      ? 'libsodium headers/library not found (apt-get install libsodium-dev)'
      : (err.stderr ?? err.message).trim().split('\n')[0]
    return { unavailable: `cannot build ${NATIVE_SOURCE}: ${detail}` }
  }
}

/** `processes` copies of the C loop at once (one per core), summed. */
async function measureNative (binary: string, processes: number, seconds: number): Promise<Rate> {
  const outputs = await Promise.all(Array.from({ length: processes }, async () => await run(binary, [String(seconds)])))
  let hashes = 0
  let secs = 0
  let rate = 0
  let cpuSeconds = 0
  for (const { stdout } of outputs) {
    const r = JSON.parse(stdout) as { hashes: number, seconds: number, cpuSeconds: number }
    hashes += r.hashes
    secs = Math.max(secs, r.seconds)
    rate += r.hashes / r.seconds
    cpuSeconds += r.cpuSeconds
  }
  return { mhashPerSecond: rate / 1e6, hashes, seconds: secs, cpuSeconds }
}

/** The fastest of several runs: on a shared machine, other load only ever slows a run down. */
function best (rates: Rate[]): Rate {
  return rates.reduce((a, b) => (b.mhashPerSecond > a.mhashPerSecond ? b : a))
}

/** One tzp2p search thread and one C process (`seconds` long) at the same time. */
async function measureSideBySide (binary: string, seconds: number): Promise<{ tzp2p: Rate, native: Rate }> {
  let native: Promise<Rate> | undefined
  const tzp2p = await measureSearch(1, seconds, async () => { native = measureNative(binary, 1, seconds); return await native })
  if (native === undefined) throw new Error('the side-by-side run did not start the C loop')
  return { tzp2p, native: await native }
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Median over the rounds of tzp2p's rate over the C loop's, wall-clock and per CPU-second. */
export function sideBySideRatios (runs: PowBenchResult['sideBySide']): { wall: number, cpu: number } | undefined {
  if (runs.length === 0) return undefined
  const perCpu = (r: Rate): number => r.hashes / (r.cpuSeconds ?? Number.NaN)
  return {
    wall: median(runs.map((r) => r.tzp2p.mhashPerSecond / r.native.mhashPerSecond)),
    cpu: median(runs.map((r) => perCpu(r.tzp2p) / perCpu(r.native)))
  }
}

export async function runPowBenchmark (options: { seconds?: number, workers?: number, rounds?: number } = {}): Promise<PowBenchResult> {
  const seconds = options.seconds ?? 2
  const workers = options.workers ?? availableParallelism()
  const rounds = options.rounds ?? 3
  const built = await buildNative()
  const loopSeconds = Math.min(2, seconds)
  const mainThreadLoop: Partial<Record<PowEngine, Rate>> = { 'sodium-native': measureMainThreadLoop('sodium-native', loopSeconds) }
  if (NATIVE_POW.loaded) mainThreadLoop['native addon'] = measureMainThreadLoop('native addon', loopSeconds)
  // Interleaved rounds, so that a burst of other load hits both sides alike.
  const js1: Rate[] = []
  const jsN: Rate[] = []
  const c1: Rate[] = []
  const cN: Rate[] = []
  const sideBySide: PowBenchResult['sideBySide'] = []
  for (let i = 0; i < rounds; i++) {
    js1.push(await measureSearch(1, seconds))
    if ('binary' in built) c1.push(await measureNative(built.binary, 1, seconds))
    jsN.push(await measureSearch(workers, seconds))
    if ('binary' in built) cN.push(await measureNative(built.binary, workers, seconds))
    if ('binary' in built) sideBySide.push(await measureSideBySide(built.binary, seconds))
  }
  return {
    workers,
    rounds,
    secondsPerRun: seconds,
    loadAverageAtStart: loadavg()[0],
    hashPath: POW_HASH_PATH,
    ...(NATIVE_POW.loaded ? {} : { nativeAddonUnavailable: NATIVE_POW.reason }),
    mainThreadLoop,
    tzp2p: { perCore: best(js1), allCores: best(jsN) },
    native: 'binary' in built ? { perCore: best(c1), allCores: best(cN) } : built,
    sideBySide
  }
}

function report (r: PowBenchResult): string {
  const f = (x: Rate): string => `${x.mhashPerSecond.toFixed(2)} Mhash/s`.padEnd(16)
  const lines = [
    'PoW search: BLAKE2b-256(pk ‖ stamp), 56 bytes per attempt, stamps in Nonce.increment order',
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; Node ${process.version}; ` +
      `tzp2p hashes through the ${r.hashPath}` +
      (r.nativeAddonUnavailable === undefined ? '' : ` (native addon not used: ${r.nativeAddonUnavailable})`),
    `best of ${r.rounds} interleaved ${r.secondsPerRun}-second runs each; load average at start ${r.loadAverageAtStart.toFixed(2)}`,
    '',
    `${''.padEnd(28)}${'per core (1)'.padEnd(16)}${`all cores (${r.workers})`.padEnd(16)}scaling`,
    `${'tzp2p (worker_threads)'.padEnd(28)}${f(r.tzp2p.perCore)}${f(r.tzp2p.allCores)}` +
      `${(r.tzp2p.allCores.mhashPerSecond / r.tzp2p.perCore.mhashPerSecond).toFixed(2)}x`
  ]
  if ('perCore' in r.native) {
    const n = r.native
    lines.push(
      `${'native C (libsodium)'.padEnd(28)}${f(n.perCore)}${f(n.allCores)}` +
        `${(n.allCores.mhashPerSecond / n.perCore.mhashPerSecond).toFixed(2)}x`,
      `${'ratio tzp2p / native'.padEnd(28)}${(r.tzp2p.perCore.mhashPerSecond / n.perCore.mhashPerSecond).toFixed(3).padEnd(16)}` +
        `${(r.tzp2p.allCores.mhashPerSecond / n.allCores.mhashPerSecond).toFixed(3)}`
    )
    const side = sideBySideRatios(r.sideBySide)
    if (side !== undefined) {
      lines.push(`side by side (1 search thread and 1 C process at once), median of ${r.sideBySide.length}: ` +
        `ratio ${side.wall.toFixed(3)} wall-clock, ${side.cpu.toFixed(3)} per CPU-second`)
    }
  } else {
    lines.push(`native C baseline not measured: ${r.native.unavailable}`)
  }
  const loops = Object.entries(r.mainThreadLoop).map(([engine, rate]) => `${engine} ${f(rate).trim()}`)
  lines.push(`(scanner loop on the main thread, no workers: ${loops.join(', ')})`)
  return lines.join('\n')
}

/** The figures in the shared shape of `scripts/bench/results.ts`. */
export function powBenchResult (r: PowBenchResult): BenchResult {
  const goal = '≥ 0.95× native'
  const figure = (name: string, ours: Rate, native: Rate | undefined): BenchFigure => native === undefined
    ? { name, unit: 'Mhash/s', value: ours.mhashPerSecond }
    : {
        name,
        unit: 'Mhash/s',
        value: ours.mhashPerSecond,
        reference: { name: 'native C loop over libsodium', value: native.mhashPerSecond },
        ratio: ours.mhashPerSecond / native.mhashPerSecond,
        goal,
        met: ours.mhashPerSecond / native.mhashPerSecond >= 0.95
      }
  const native = 'perCore' in r.native ? r.native : undefined
  const scaling = r.tzp2p.allCores.mhashPerSecond / r.tzp2p.perCore.mhashPerSecond
  const side = sideBySideRatios(r.sideBySide)
  return {
    bench: 'pow',
    command: 'npm run bench:pow',
    params: { seconds: r.secondsPerRun, rounds: r.rounds, workers: r.workers, hashPath: r.hashPath },
    figures: [
      figure('PoW search, 1 core', r.tzp2p.perCore, native?.perCore),
      figure(`PoW search, ${r.workers} cores`, r.tzp2p.allCores, native?.allCores),
      {
        name: `PoW scaling, ${r.workers} cores over 1`,
        unit: '×',
        value: scaling,
        ...(native === undefined ? {} : { reference: { name: 'native C loop', value: native.allCores.mhashPerSecond / native.perCore.mhashPerSecond } }),
        goal: `linear (≥ ${(0.9 * r.workers).toFixed(1)}×)`,
        met: scaling >= 0.9 * r.workers
      },
      // Not goal figures (the goal compares separate runs): the side-by-side ratios, which a
      // loaded machine disturbs less.
      ...(side === undefined
        ? []
        : [
            { name: 'PoW search side by side with the C loop, 1 thread each: wall-clock', unit: '×', value: side.wall },
            { name: 'PoW search side by side with the C loop, 1 thread each: per CPU-second', unit: '×', value: side.cpu }
          ])
    ]
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseScriptArgs({
    command: 'npm run bench:pow --',
    summary: 'Proof-of-work search rate of tzp2p (one core, all cores) beside a native C loop doing the same work. ' +
      'tzp2p runs its loop in the native addon when `npm run build:native` has built it, else through sodium-native; ' +
      'the report names the path that ran.',
    options: {
      seconds: { type: 'string', placeholder: 'S', defaultText: '2', description: 'seconds per measured run' },
      rounds: { type: 'string', placeholder: 'R', defaultText: '3', description: 'rounds; the best is kept' },
      workers: { type: 'string', placeholder: 'N', defaultText: 'one per core', description: 'worker threads of the all-cores run' },
      json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
    }
  })
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds)
  const workers = values.workers === undefined ? undefined : Number(values.workers)
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds)
  const positiveInteger = (n: number | undefined): boolean => n === undefined || (Number.isInteger(n) && n > 0)
  if ((seconds !== undefined && !(seconds > 0)) || !positiveInteger(workers) || !positiveInteger(rounds)) {
    process.stderr.write('usage: npm run bench:pow -- [--seconds S] [--rounds R] [--workers N] [--json file]\n')
    process.exit(1)
  }
  const result = await runPowBenchmark({ seconds, workers, rounds })
  process.stdout.write(report(result) + '\n')
  await writeBenchJson(process.argv, powBenchResult(result))
}
