/**
 * `npm run bench:peers`: what one node's memory costs per authenticated peer, and whether it
 * stays flat under steady gossip.
 *
 * One measured node (scripts/bench/peers/measured-node.ts, its own process, `--expose-gc`) runs
 * the demo chain with a baker (a head every `--bake-interval` ms, `--ops` transfers injected after
 * each) and accepts `--peers` peers, which run in `--processes` swarm processes
 * (scripts/bench/peers/swarm.ts): full tzp2p nodes at PoW 0 that dial it, authenticate, and follow
 * its chain. Steps:
 *
 *   1. cold baseline: the node alone, baking, after `--warmup` s; memory after a full GC;
 *   2. warm baseline: `--warm-peers` other peers (a quarter of `--peers` unless given) connect,
 *      authenticate, follow the chain for `--settle` s and go away (their processes stop); once
 *      the node has no connection left, memory again. What they leave behind (their point-book
 *      and peer-store entries) is counted in it; what the node compiled for them stays too;
 *   3. a quarter of the measured peers connect; once the node counts them all authenticated and
 *      they all hold its head, and after `--settle` s more, memory again ("quarter"); then every
 *      peer, and memory again: per peer over the cold baseline = (with − cold) / peers, the
 *      issue's figure, which carries the one-off costs of having peers at all (code compiled,
 *      buffers grown); per peer over the warm baseline = (with − warm) / peers, where those costs
 *      were paid by the warm-up round; per added peer = (with − quarter) / (peers added);
 *   4. `--duration` s of steady gossip, memory (after GC) every `--sample-every` s; the slope
 *      (KiB/min, least squares) and "flat": the mean of the last third of the samples within
 *      `--flat-tolerance` % of the mean of the first third.
 *
 *   npm run bench:peers [-- --peers 200 --processes 4 --duration 600 --json file]
 *   npm run bench:peers -- --peers 40 --processes 2 --duration 60 --sample-every 10   # quick
 *
 * `--heap-snapshots dir` writes V8 heap snapshots of the measured node at both baselines and with
 * every peer and at the end (open them in Chrome DevTools → Memory, "Comparison" view; V8 builds
 * each in malloc'd memory that glibc keeps, so the RSS figures of such a run are not the node's,
 * and at 200 peers the pause can outlast the peers' ping timeout);
 * `--node-log file` writes the measured node's log (info level) there;
 * `--profile-node dir` has it write a CPU profile of its whole run there when it exits
 * (summarise it with scripts/bench/profile-summary.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { BenchChild } from './peers/json-lines.ts'
import type { MeasuredNodeConfig, MemorySample, SwarmConfig, SwarmStatus } from './peers/shared.ts'
import { flatness, slopePerMinute, type Flatness } from './peers/stats.ts'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson } from './results.ts'

const { values } = parseScriptArgs({
  command: 'npm run bench:peers --',
  summary: 'Memory of one node per authenticated peer, and whether it stays flat under steady gossip.',
  options: {
    peers: { type: 'string', default: '200', placeholder: 'N', description: 'peers connecting to the measured node' },
    processes: { type: 'string', default: '4', placeholder: 'N', description: 'swarm processes the peers run in' },
    duration: { type: 'string', default: '600', placeholder: 's', description: 'seconds of steady gossip measured' },
    'sample-every': { type: 'string', default: '30', placeholder: 's', description: 'seconds between memory samples' },
    'bake-interval': { type: 'string', default: '2000', placeholder: 'ms', description: 'time between the measured node\'s blocks' },
    ops: { type: 'string', default: '4', placeholder: 'N', description: 'transfers injected after each block' },
    warmup: { type: 'string', default: '20', placeholder: 's', description: 'seconds alone before the baseline' },
    'warm-peers': { type: 'string', placeholder: 'N', description: 'peers of the warm-up round before the warm baseline (default a quarter of --peers; 0: none)' },
    settle: { type: 'string', default: '30', placeholder: 's', description: 'seconds after every peer joined before measuring' },
    'flat-tolerance': { type: 'string', default: '5', placeholder: '%', description: 'how far the last third may be from the first and still be flat' },
    'heap-snapshots': { type: 'string', placeholder: 'dir', description: 'write V8 heap snapshots of the measured node there' },
    'node-log': { type: 'string', placeholder: 'file', description: 'write the measured node\'s log there' },
    'profile-node': { type: 'string', placeholder: 'dir', description: 'have the measured node write a CPU profile there' },
    'default-malloc': { type: 'boolean', description: 'run the measured node without the README\'s MALLOC_MMAP_THRESHOLD_ setting' },
    'node-flags': { type: 'string', placeholder: 'flags', description: 'extra Node/V8 flags for the measured node, space-separated (to compare settings)' },
    'node-env': { type: 'string', placeholder: 'K=V ...', description: 'extra environment for the measured node, space-separated (e.g. MALLOC_ARENA_MAX=2)' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
  }
})
const PEERS = Number(values.peers)
const PROCESSES = Math.min(PEERS, Number(values.processes))
const DURATION_S = Number(values.duration)
const SAMPLE_EVERY_S = Number(values['sample-every'])
const BAKE_INTERVAL_MS = Number(values['bake-interval'])
const OPS = Number(values.ops)
const WARMUP_S = Number(values.warmup)
const WARM_PEERS = values['warm-peers'] === undefined ? Math.ceil(PEERS / 4) : Number(values['warm-peers'])
const SETTLE_S = Number(values.settle)
const FLAT_TOLERANCE = Number(values['flat-tolerance']) / 100
/** Issue 16's goals per authenticated peer over the baseline. */
const GOAL_RSS_KIB_PER_PEER = 128
const GOAL_HEAP_KIB_PER_PEER = 32
for (const [name, v] of Object.entries({ PEERS, PROCESSES, DURATION_S, SAMPLE_EVERY_S, BAKE_INTERVAL_MS, OPS, WARMUP_S, WARM_PEERS, SETTLE_S, FLAT_TOLERANCE })) {
  if (!(Number.isFinite(v) && v >= 0) || (name === 'PEERS' && v < 1) || (name === 'SAMPLE_EVERY_S' && v <= 0)) {
    process.stderr.write(`bench:peers: bad value for ${name.toLowerCase()}: ${v}\n`)
    process.exit(1)
  }
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const KiB = (bytes: number): number => bytes / 1024
const MiB = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)
const minutes = (seconds: number): string => seconds >= 60 ? `${+(seconds / 60).toFixed(1)} min` : `${seconds} s`
const log = (line: string): void => { process.stdout.write(line + '\n') }
/** Where the resident memory is: anonymous vs file-backed, and V8's spaces (resident / in use). */
const breakdown = (m: MemorySample): string => `  RSS anon ${MiB(m.rssAnon)} MiB (V8 pages ${MiB(m.residentByMapping.v8Pages)}, V8 code ${MiB(m.residentByMapping.v8Code)}, malloc main heap ${MiB(m.residentByMapping.mallocMain)}, other arenas ${MiB(m.residentByMapping.mallocArenas)}, other ${MiB(m.residentByMapping.otherAnon)}), file ${MiB(m.rssFile)} MiB; array buffers ${MiB(m.arrayBuffers)} MiB; V8 spaces ` +
  Object.entries(m.heapSpaces).filter(([, s]) => s.committed > 0).map(([name, s]) => `${name.replace(/_space$/, '')} ${MiB(s.committed)}/${MiB(s.used)}`).join(', ')
/**
 * What a per-peer heap figure is made of: each V8 space's bytes in use grown from `from` to `to`,
 * per peer (old space holds the objects; code, trusted and code-large-object spaces the compiled
 * code and its metadata).
 */
const spacesGrown = (from: MemorySample, to: MemorySample, peers: number): string => Object.keys(to.heapSpaces)
  .map(name => [name.replace(/_space$/, ''), KiB(to.heapSpaces[name].used - (from.heapSpaces[name]?.used ?? 0)) / peers] as const)
  .filter(([, kib]) => Math.abs(kib) >= 0.05).map(([name, kib]) => `${name} ${kib.toFixed(1)}`).join(', ')
/** What a per-peer RSS figure is made of, per peer: anonymous memory by mapping (measured-node.ts). */
const residentGrown = (from: MemorySample, to: MemorySample, peers: number): string => {
  const grown = (f: (m: MemorySample) => number): string => (KiB(f(to) - f(from)) / peers).toFixed(1)
  return `V8 pages ${grown(m => m.residentByMapping.v8Pages)}, V8 code ${grown(m => m.residentByMapping.v8Code)}, malloc main heap ${grown(m => m.residentByMapping.mallocMain)}, other malloc arenas ${grown(m => m.residentByMapping.mallocArenas)}, other anonymous ${grown(m => m.residentByMapping.otherAnon)}, file-backed ${grown(m => m.rssFile)}`
}
/** Per-peer bytes of the code spaces (code, trusted, and their large-object spaces). */
const codeGrown = (from: MemorySample, to: MemorySample, peers: number): number => Object.keys(to.heapSpaces)
  .filter(name => /code|trusted/.test(name)).reduce((sum, name) => sum + to.heapSpaces[name].used - (from.heapSpaces[name]?.used ?? 0), 0) / 1024 / peers

/** Polls until `check` holds; the deadline only keeps a broken run from hanging. */
async function until (what: string, check: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench:peers: not reached within ${deadlineMs / 1000} s: ${what}`)
    await sleep(500)
  }
}

/**
 * The measured node runs with the malloc setting the README asks operators to use ("Memory"):
 * without it, glibc raises its mmap threshold each time a large block is freed, after which large
 * buffers come from the main heap, which then grows by 70–130 MiB with the first peers and never
 * shrinks (docs/profiles.md). `--default-malloc` runs it without, to compare.
 */
const MALLOC_ENV: Record<string, string> = {
  ...(values['default-malloc'] === true ? {} : { MALLOC_MMAP_THRESHOLD_: '131072' }),
  ...Object.fromEntries((values['node-env'] ?? '').split(' ').filter(kv => kv.includes('=')).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
}

const root = await mkdtemp(join(tmpdir(), 'tzp2p-bench-peers-'))
const chainName = 'bench-peers'
const measured = new BenchChild<{ address: string, level: number }>('measured node', join(import.meta.dirname, 'peers', 'measured-node.ts'), {
  dataDir: join(root, 'measured'), chain: chainName, maxPeers: Math.max(PEERS, WARM_PEERS), bakeIntervalMs: BAKE_INTERVAL_MS, opsPerHead: OPS,
  ...(values['node-log'] === undefined ? {} : { logFile: values['node-log'] })
} satisfies MeasuredNodeConfig, ['--expose-gc', ...(values['node-flags']?.split(' ').filter(f => f !== '') ?? []), ...(values['profile-node'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values['profile-node']}`])], MALLOC_ENV)
const swarms: Array<BenchChild<{ nodes: number }>> = []

// Ctrl-C or a kill: stop the children (closing their stdin stops their nodes) and remove the data.
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return
    interrupted = true
    void Promise.allSettled([...swarms.map(async s => { await s.stop(5000) }), measured.stop(5000)])
      .then(async () => { await rm(root, { recursive: true, force: true }) })
      .finally(() => process.exit(130))
  })
}

async function sample (): Promise<MemorySample> {
  return (await measured.request<{ memory: MemorySample }>('memory', { gc: true })).memory
}

/**
 * After V8's memory-pressure GC, which also returns the heap pages V8 pools for reuse after a
 * burst (a forced GC keeps them): 100–150 MiB at 200 peers. Taken at the baseline and at the end
 * only, so that the series in between is not lowered by it.
 */
async function releasedSample (): Promise<MemorySample> {
  return (await measured.request<{ memory: MemorySample }>('memory', { gc: 'last-resort' })).memory
}

/** The median of three GC'd readings a second apart, by heap: one reading can catch a burst. */
async function steadySample (): Promise<MemorySample> {
  const readings: MemorySample[] = []
  for (let i = 0; i < 3; i++) { if (i > 0) await sleep(1000); readings.push(await sample()) }
  return readings.sort((a, b) => a.heapUsed - b.heapUsed)[1]
}

async function swarmStatus (): Promise<SwarmStatus[]> {
  return await Promise.all(swarms.map(async s => (await s.request<{ status: SwarmStatus }>('status')).status))
}

try {
  const { address } = await measured.ready
  log(`bench:peers — Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${loadavg()[0].toFixed(2)}`)
  log(`measured node environment: ${Object.entries(MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ') || 'default malloc settings'}`)
  log(`measured node at ${address}: a head every ${BAKE_INTERVAL_MS} ms with ${OPS} transfers; ${PEERS} peers in ${PROCESSES} processes`)
  if (values['heap-snapshots'] !== undefined) log('heap snapshots: their malloc\'d memory stays resident, so this run\'s RSS figures are not the node\'s (docs/profiles.md)')
  await sleep(WARMUP_S * 1000)
  // Released first: a baseline taken with startup's pooled pages still held, and released just
  // after, would make every later figure over it look smaller.
  const baselineReleased = await releasedSample()
  const baseline = await steadySample()
  log(`baseline (0 peers, level ${baseline.level}): RSS ${MiB(baseline.rss)} MiB, heap ${MiB(baseline.heapUsed)} MiB (V8 heap committed ${MiB(baseline.heapTotal)} MiB), external ${MiB(baseline.external)} MiB`)
  log(breakdown(baseline))
  if (values['heap-snapshots'] !== undefined) await measured.request('heapSnapshot', { path: join(values['heap-snapshots'], 'peers-baseline.heapsnapshot') })

  /** Starts `peers` peers in `processes` swarm processes under `dir`; their sizes, in order. */
  const startSwarms = (into: Array<BenchChild<{ nodes: number }>>, dir: string, peers: number, processes: number): number[] => {
    const sizes = Array.from({ length: processes }, (_, p) => Math.floor(peers / processes) + (p < peers % processes ? 1 : 0))
    sizes.forEach((nodes, p) => {
      into.push(new BenchChild(`${dir} ${p}`, join(import.meta.dirname, 'peers', 'swarm.ts'), {
        dataRoot: join(root, `${dir}-${p}`), chain: chainName, nodes, target: address, dialConcurrency: 8
      } satisfies SwarmConfig))
    })
    return sizes
  }
  /** From the start of the current group of peers: the times admit() reports. */
  let started = performance.now()
  /**
   * Has the first `share` of each of `group`'s nodes dial (`present` peers already in from other
   * groups), waits until they are all in and following, then settles.
   */
  const admit = async (group: Array<BenchChild<{ nodes: number }>>, sizes: number[], share: number): Promise<void> => {
    const limits = sizes.map(n => Math.ceil(n * share))
    const target = limits.reduce((a, b) => a + b, 0)
    const connect = async (): Promise<void> => { await Promise.all(group.map(async (s, p) => await s.request('connect', { limit: limits[p] }))) }
    await connect()
    // A dial that failed (a burst the listener shed) is retried until every peer is in.
    await until(`${target} authenticated peers`, async () => {
      if ((await sample()).peers >= target) return true
      await connect()
      return false
    }, 300_000)
    const connectedS = (performance.now() - started) / 1000
    await until('every peer at the measured node\'s head', async () => {
      const level = (await sample()).level
      const statuses = await Promise.all(group.map(async s => (await s.request<{ status: SwarmStatus }>('status')).status))
      return statuses.every(s => s.connected === 0 || s.minConnectedLevel >= level - 1)
    }, 300_000)
    log(`${target} peers authenticated after ${connectedS.toFixed(1)} s, all following the head after ${((performance.now() - started) / 1000).toFixed(1)} s`)
    await sleep(SETTLE_S * 1000)
  }

  // The warm-up round: peers that connect, follow the chain and go away, so that what the node
  // compiles and grows once it has peers at all is paid before the warm baseline. They are other
  // nodes than the measured peers (their own keys), so the measured peers' point-book and
  // peer-store entries are counted as theirs.
  let warmBaseline = baseline
  if (WARM_PEERS > 0) {
    const warmSwarms: Array<BenchChild<{ nodes: number }>> = []
    try {
      const sizes = startSwarms(warmSwarms, 'warm-up', WARM_PEERS, Math.min(PROCESSES, WARM_PEERS))
      await Promise.all(warmSwarms.map(async s => await s.ready))
      await admit(warmSwarms, sizes, 1)
    } finally {
      await Promise.all(warmSwarms.map(async s => { await s.stop() }))
    }
    await until('the warm-up peers gone', async () => { const m = await sample(); return m.peers === 0 && m.connections === 0 }, 120_000)
    await releasedSample()
    warmBaseline = await steadySample()
    log(`warm baseline (0 peers after ${WARM_PEERS} came and went, level ${warmBaseline.level}): RSS ${MiB(warmBaseline.rss)} MiB, heap ${MiB(warmBaseline.heapUsed)} MiB (V8 heap committed ${MiB(warmBaseline.heapTotal)} MiB), external ${MiB(warmBaseline.external)} MiB; left behind: ${warmBaseline.knownPoints} known points, ${warmBaseline.peerStorePeers} peer-store entries`)
    log(breakdown(warmBaseline))
    log(`  grown from the cold baseline, per warm-up peer, KiB: ${spacesGrown(baseline, warmBaseline, WARM_PEERS)}`)
    if (values['heap-snapshots'] !== undefined) await measured.request('heapSnapshot', { path: join(values['heap-snapshots'], 'peers-warm-baseline.heapsnapshot') })
  }

  // The measured peers: processes start in parallel (their nodes open stores), then dial.
  started = performance.now()
  const swarmSizes = startSwarms(swarms, 'swarm', PEERS, PROCESSES)
  await Promise.all(swarms.map(async s => await s.ready))
  // A quarter first: from there on the code the peers run is compiled and the node's one-off
  // costs of having peers at all are paid, so (with − quarter) / (peers added) is what one more
  // peer costs.
  await admit(swarms, swarmSizes, 0.25)
  const quarter = await steadySample()
  log(`with ${quarter.peers} peers: RSS ${MiB(quarter.rss)} MiB, heap ${MiB(quarter.heapUsed)} MiB (V8 heap committed ${MiB(quarter.heapTotal)} MiB), external ${MiB(quarter.external)} MiB`)
  log(breakdown(quarter))
  await admit(swarms, swarmSizes, 1)
  const withPeers = await steadySample()
  if (values['heap-snapshots'] !== undefined) await measured.request('heapSnapshot', { path: join(values['heap-snapshots'], 'peers-with.heapsnapshot') })
  const added = withPeers.peers - quarter.peers
  const perAddedPeer = {
    rss: added > 0 ? KiB(withPeers.rss - quarter.rss) / added : NaN,
    heap: added > 0 ? KiB(withPeers.heapUsed - quarter.heapUsed) / added : NaN
  }
  const perPeer = {
    rss: KiB(withPeers.rss - baseline.rss) / withPeers.peers,
    heap: KiB(withPeers.heapUsed - baseline.heapUsed) / withPeers.peers,
    external: KiB(withPeers.external - baseline.external) / withPeers.peers
  }
  const perPeerWarm = {
    rss: KiB(withPeers.rss - warmBaseline.rss) / withPeers.peers,
    heap: KiB(withPeers.heapUsed - warmBaseline.heapUsed) / withPeers.peers,
    external: KiB(withPeers.external - warmBaseline.external) / withPeers.peers
  }
  log(`with ${withPeers.peers} peers (${withPeers.connections} connections, level ${withPeers.level}): RSS ${MiB(withPeers.rss)} MiB, heap ${MiB(withPeers.heapUsed)} MiB (V8 heap committed ${MiB(withPeers.heapTotal)} MiB), external ${MiB(withPeers.external)} MiB`)
  log(breakdown(withPeers))
  log(`  streams open: ${Object.entries(withPeers.streams).map(([p, n]) => `${p} ${n}`).join(', ')}`)
  log(`per peer over the cold baseline: RSS ${perPeer.rss.toFixed(1)} KiB, heap ${perPeer.heap.toFixed(1)} KiB (code spaces ${codeGrown(baseline, withPeers, withPeers.peers).toFixed(1)}), external ${perPeer.external.toFixed(1)} KiB (goals: RSS ≤ ${GOAL_RSS_KIB_PER_PEER} KiB, heap ≤ ${GOAL_HEAP_KIB_PER_PEER} KiB)`)
  log(`  V8 spaces grown per peer, KiB: ${spacesGrown(baseline, withPeers, withPeers.peers)}`)
  log(`  resident memory grown per peer, KiB: ${residentGrown(baseline, withPeers, withPeers.peers)}`)
  if (WARM_PEERS > 0) {
    log(`per peer over the warm baseline: RSS ${perPeerWarm.rss.toFixed(1)} KiB, heap ${perPeerWarm.heap.toFixed(1)} KiB (code spaces ${codeGrown(warmBaseline, withPeers, withPeers.peers).toFixed(1)}), external ${perPeerWarm.external.toFixed(1)} KiB`)
    log(`  V8 spaces grown per peer, KiB: ${spacesGrown(warmBaseline, withPeers, withPeers.peers)}`)
    log(`  resident memory grown per peer, KiB: ${residentGrown(warmBaseline, withPeers, withPeers.peers)}`)
    log('  (cold: from the node alone, counting what it compiles and grows once it has peers at all, the issue\'s figure and the goal rows; warm: after a warm-up round of peers came and went, what these peers cost)')
  }
  log(`per peer added from ${quarter.peers} to ${withPeers.peers} peers: RSS ${perAddedPeer.rss.toFixed(1)} KiB, heap ${perAddedPeer.heap.toFixed(1)} KiB`)

  // Steady gossip.
  const t0 = performance.now()
  const series: Array<{ minutes: number, m: MemorySample }> = [{ minutes: 0, m: withPeers }]
  let fewestPeers = withPeers.peers
  const samples = Math.floor(DURATION_S / SAMPLE_EVERY_S)
  for (let k = 1; k <= samples; k++) {
    // On a fixed grid from t0: the time a sample takes does not push the next one later.
    await sleep(Math.max(0, t0 + k * SAMPLE_EVERY_S * 1000 - performance.now()))
    const m = await sample()
    fewestPeers = Math.min(fewestPeers, m.peers)
    series.push({ minutes: (performance.now() - t0) / 60_000, m })
    log(`  t=${(series.at(-1)!.minutes * 60).toFixed(0).padStart(4)} s  level ${String(m.level).padStart(5)}  peers ${m.peers}  RSS ${MiB(m.rss)} MiB  heap ${MiB(m.heapUsed)} MiB  mempool ${m.mempool}  injected ${m.injected}`)
  }
  const last = series.at(-1)!.m
  log(breakdown(last))
  const endReleased = await releasedSample()
  const releasedRssPerPeer = KiB(endReleased.rss - baselineReleased.rss) / endReleased.peers
  log(`RSS once V8 returned its pooled pages: baseline ${MiB(baselineReleased.rss)} MiB, end ${MiB(endReleased.rss)} MiB with ${endReleased.peers} peers: ${releasedRssPerPeer.toFixed(1)} KiB per peer`)
  if (values['heap-snapshots'] !== undefined) await measured.request('heapSnapshot', { path: join(values['heap-snapshots'], 'peers-end.heapsnapshot') })
  const followers = await swarmStatus()
  const lagging = followers.reduce((n, s) => n + (s.minLevel < last.level - 2 ? 1 : 0), 0)
  const heapSlope = slopePerMinute(series.map(s => ({ x: s.minutes, y: KiB(s.m.heapUsed) })))
  const rssSlope = slopePerMinute(series.map(s => ({ x: s.minutes, y: KiB(s.m.rss) })))
  const heapFlat = flatness(series.map(s => s.m.heapUsed), FLAT_TOLERANCE)
  const rssFlat = flatness(series.map(s => s.m.rss), FLAT_TOLERANCE)
  const describe = (f: Flatness): string => `${f.flat ? 'flat' : f.change > 0 ? 'growing' : 'falling'} (last third ${(f.change * 100).toFixed(1)} % vs first third)`
  log(`over ${(series.at(-1)!.minutes).toFixed(1)} min of gossip (${last.level - withPeers.level} heads, ${last.injected - withPeers.injected} transfers; fewest peers ${fewestPeers}; swarm processes lagging: ${lagging}):`)
  log(`  heap ${heapSlope.toFixed(1)} KiB/min, ${describe(heapFlat)}; RSS ${rssSlope.toFixed(1)} KiB/min, ${describe(rssFlat)}`)
  // Over the intervals that began and ended with every peer connected (a drop must not lower it).
  let steadyHeads = 0
  let steadyCpuMs = 0
  for (let k = 1; k < series.length; k++) {
    const a = series[k - 1].m
    const b = series[k].m
    if (a.peers < withPeers.peers || b.peers < withPeers.peers) continue
    steadyHeads += b.level - a.level
    steadyCpuMs += b.cpuMs - a.cpuMs
  }
  const cpuPerHead = steadyHeads > 0 ? steadyCpuMs / steadyHeads : NaN
  log(`  CPU of the measured node: ${cpuPerHead.toFixed(1)} ms per head with ${PEERS} peers; ${last.disconnections - withPeers.disconnections} disconnections, ${last.penalties - withPeers.penalties} penalties during the run`)

  const flatGoal = `flat (last third within ${(FLAT_TOLERANCE * 100).toFixed(0)} % of first)`
  await writeBenchJson(process.argv, {
    bench: 'peers',
    command: 'npm run bench:peers',
    params: { peers: withPeers.peers, processes: PROCESSES, durationS: DURATION_S, sampleEveryS: SAMPLE_EVERY_S, bakeIntervalMs: BAKE_INTERVAL_MS, opsPerHead: OPS, measuredNodeEnv: Object.entries(MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ') },
    figures: [
      { name: 'RSS per authenticated peer over baseline', unit: 'KiB', value: perPeer.rss, goal: `≤ ${GOAL_RSS_KIB_PER_PEER} KiB`, met: perPeer.rss <= GOAL_RSS_KIB_PER_PEER },
      { name: 'JS heap per authenticated peer over baseline', unit: 'KiB', value: perPeer.heap, goal: `≤ ${GOAL_HEAP_KIB_PER_PEER} KiB`, met: perPeer.heap <= GOAL_HEAP_KIB_PER_PEER },
      { name: 'RSS per peer at the end, V8\'s pooled pages returned', unit: 'KiB', value: releasedRssPerPeer },
      ...(WARM_PEERS > 0
        ? [{ name: `RSS per peer over the warm baseline (after ${WARM_PEERS} warm-up peers)`, unit: 'KiB', value: perPeerWarm.rss },
            { name: `JS heap per peer over the warm baseline (after ${WARM_PEERS} warm-up peers)`, unit: 'KiB', value: perPeerWarm.heap }]
        : []),
      { name: `RSS per peer added from ${quarter.peers} to ${withPeers.peers} peers`, unit: 'KiB', value: perAddedPeer.rss },
      { name: `JS heap per peer added from ${quarter.peers} to ${withPeers.peers} peers`, unit: 'KiB', value: perAddedPeer.heap },
      { name: `heap growth during ${minutes(DURATION_S)} of gossip`, unit: 'KiB/min', value: heapSlope, ratio: 1 + heapFlat.change, goal: flatGoal, met: heapFlat.flat },
      { name: `RSS growth during ${minutes(DURATION_S)} of gossip`, unit: 'KiB/min', value: rssSlope, ratio: 1 + rssFlat.change, goal: flatGoal, met: rssFlat.flat },
      { name: `CPU per head, measured node with ${withPeers.peers} peers`, unit: 'ms', value: cpuPerHead }
    ]
  })
  const reasons = followers.flatMap(s => Object.entries(s.greylistReasons))
  if (reasons.length > 0) log(`  peers' greylist entries: ${reasons.map(([r, n]) => `${n}× ${r}`).join('; ').slice(0, 600)}`)
  if (fewestPeers < PEERS || lagging > 0) log(`warning: peers dropped (fewest ${fewestPeers}) or fell behind (${lagging} swarm processes): the figures are not those of ${PEERS} steady peers`)
  log(`machine: ${availableParallelism()} cores, ${MiB(totalmem())} MiB RAM`)
} finally {
  await Promise.all(swarms.map(async s => { await s.stop() }))
  await measured.stop()
  await rm(root, { recursive: true, force: true })
}
