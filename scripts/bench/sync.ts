/**
 * Sync benchmark, in one run on the same generated demo chain (default 10 000 blocks × 2 transfers):
 *
 *   (a) local import: the blocks handed to the chain in memory (header hash, Merkle check,
 *       signatures, protocol application, atomic store writes);
 *   (b) bootstrap over loopback: a fresh node in this process syncs the chain from 4 peer
 *       processes that hold it (TCP, Noise, yamux, the Tezos handshake, /tzp2p/gossip and
 *       /tzp2p/sync, the bootstrap pipeline, then the same application as (a)).
 *
 * Prints blocks/s of each and b/a.
 *
 *   node scripts/bench/sync.ts [--blocks N] [--transfers K] [--peers P] [--headers ranges|walk]
 *                              [--workers W] [--profile file.cpuprofile] [--json file]
 *
 * `--profile` writes a CPU profile of this process during (b) (the syncing node);
 * `--profile-peer dir` has the first peer write its own profile into `dir` when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { join } from 'node:path'
import { generateBenchChain, importBenchChain, seedBenchStore } from './support/import-bench.ts'
import { createNode } from '../../src/node/create-node.ts'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson } from './results.ts'
import { readyLineOf, statsOf, stopPeerProcesses } from './support/peer-processes.ts'
import { cpuByThreadOf, cpuSecondsOf, threadCpuBetween } from './support/process-cpu.ts'

const { values } = parseScriptArgs({
  command: 'npm run bench:sync --',
  summary: 'Blocks/s of a local import and of a bootstrap over loopback from peer processes, on the same generated demo chain.',
  options: {
    blocks: { type: 'string', default: '10000', placeholder: 'N', description: 'blocks of the generated chain' },
    transfers: { type: 'string', default: '2', placeholder: 'K', description: 'signed transfers per block' },
    peers: { type: 'string', default: '4', placeholder: 'P', description: 'peer processes holding the chain' },
    headers: { type: 'string', default: 'ranges', placeholder: 'ranges|walk', description: 'how the syncing node fetches headers' },
    workers: { type: 'string', placeholder: 'W', defaultText: 'one per core but one', description: 'signature-verification threads' },
    profile: { type: 'string', placeholder: 'file.cpuprofile', description: 'write a CPU profile of the syncing node there' },
    allocations: { type: 'boolean', default: false, description: 'sample the syncing node\'s allocations during (b) and print bytes allocated per block' },
    'profile-peer': { type: 'string', placeholder: 'dir', description: 'have the first peer write its CPU profile there' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
  }
})
const BLOCKS = Number(values.blocks)
const TRANSFERS = Number(values.transfers)
const PEERS = Number(values.peers)
const NETWORK = 'TZP2P_BENCH'
const headerFetchMode = values.headers === 'walk' ? 'walk' : 'ranges'
const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')
const CHILD = join(import.meta.dirname, '..', '..', 'test', 'e2e', 'chain-child.ts')

const t = performance.now()
const chain = await generateBenchChain({
  blocks: BLOCKS,
  transfersPerBlock: TRANSFERS,
  ...(values.workers === undefined ? {} : { verifyWorkers: Number(values.workers) })
})
console.log(`generated ${BLOCKS} blocks × ${TRANSFERS} transfers in ${((performance.now() - t) / 1000).toFixed(1)} s`)

// (a) Local import, after a short untimed warm-up (a syncing node is a warm process too).
await importBenchChain({ ...chain, blocks: chain.blocks.slice(0, 1000) })
const localCpuStart = process.cpuUsage()
const localThreadsStart = await cpuByThreadOf(process.pid)
const local = await importBenchChain(chain)
const localCpu = process.cpuUsage(localCpuStart)
const localThreads = threadCpuBetween(localThreadsStart, await cpuByThreadOf(process.pid))
console.log(`(a) local import: ${local.blocks} blocks in ${(local.milliseconds / 1000).toFixed(2)} s = ${local.blocksPerSecond.toFixed(0)} blocks/s`)

// (b) The peers' stores: one import, copied.
const dirs: string[] = []
const temp = async (label: string): Promise<string> => { const d = await mkdtemp(join(tmpdir(), `tzp2p-bench-${label}-`)); dirs.push(d); return d }
const seed = await temp('seed')
await seedBenchStore(chain, seed, NETWORK)
// The syncing node does not need the generated blocks: dropped, so that its garbage collections
// do not mark them (at 50 000 blocks they would weigh on every major GC of the timed part).
chain.blocks = []
const children: ChildProcess[] = []
const addresses: string[] = []
try {
  for (let i = 0; i < PEERS; i++) {
    const dir = await temp(`peer${i}`)
    await cp(join(seed, 'store'), join(dir, 'store'), { recursive: true })
    const profilePeer = values['profile-peer'] !== undefined && i === 0 ? ['--cpu-prof', `--cpu-prof-dir=${values['profile-peer']}`] : []
    const child = spawn(NODE, [...profilePeer, CHILD, JSON.stringify({
      dataDir: dir, chain: chain.setup.name, accounts: 200, validationPasses: 1, networkName: NETWORK
    })], { stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(child)
    addresses.push((await readyLineOf(child)).address)
  }

  const { protocol, genesis } = chain.freshSetup()
  const node = await createNode({
    dataDir: await temp('joiner'),
    expectedPow: 0,
    chainName: NETWORK,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    disablePeerDiscovery: true,
    chain: { protocol, genesis, headerFetchMode, synchronisation: { threshold: PEERS } }
  })
  await node.start()
  // Time spent applying (the same work as (a)), to tell it from the networking around it.
  let applyMs = 0
  let applyCalls = 0
  const nodeChain = node.chain
  if (nodeChain !== undefined) {
    const addBlocks = nodeChain.addBlocks.bind(nodeChain)
    nodeChain.addBlocks = async blocks => {
      const t0 = performance.now()
      applyCalls++
      try { return await addBlocks(blocks) } finally { applyMs += performance.now() - t0 }
    }
  }
  const done = Promise.withResolvers<void>()
  // The last progress report of the pipeline: where its application stage waited.
  let progress: { stageMs: { operations: number, precheck: number, apply: number } } | undefined
  node.events.on('sync:progress', p => { progress = p })
  node.events.on('head', change => { if (change.head.header.shell.level >= BLOCKS) done.resolve() })
  const session = new Session()
  if (values.profile !== undefined || values.allocations === true) session.connect()
  if (values.profile !== undefined) { await session.post('Profiler.enable'); await session.post('Profiler.start') }
  // Every allocation sampled, collected or not: the total estimates the bytes (b) allocated here.
  if (values.allocations === true) {
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as unknown as { samplingInterval: number })
  }
  // The syncing node's collections during (b): a major one marks everything that survived, so
  // their count says how much of what (b) allocated lived long enough to be promoted.
  const gc = { minor: 0, minorMs: 0, major: 0, majorMs: 0 }
  const gcObserver = new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) { gc.major++; gc.majorMs += e.duration } else if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) { gc.minor++; gc.minorMs += e.duration }
    }
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  const eluStart = performance.eventLoopUtilization()
  const ownThreadsStart = await cpuByThreadOf(process.pid)
  const peersCpuStart = await Promise.all(children.map(async c => await cpuSecondsOf(c.pid)))
  const threadsStart = await Promise.all(children.map(async c => await cpuByThreadOf(c.pid)))
  await Promise.all(addresses.map(async a => await node.dial(a)))
  await done.promise
  const ms = performance.now() - start
  gcObserver.disconnect()
  const cpu = process.cpuUsage(cpuStart)
  const elu = performance.eventLoopUtilization(eluStart)
  const ownThreads = threadCpuBetween(ownThreadsStart, await cpuByThreadOf(process.pid))
  const peersCpu = (await Promise.all(children.map(async c => await cpuSecondsOf(c.pid)))).reduce((n, x, i) => n + x - peersCpuStart[i], 0)
  // The peers' CPU by thread (main, libuv workers reading the store, GC helpers, LevelDB's own).
  const peerThreads = new Map<string, number>()
  for (const [i, c] of children.entries()) {
    for (const [name, seconds] of await cpuByThreadOf(c.pid)) peerThreads.set(name, (peerThreads.get(name) ?? 0) + seconds - (threadsStart[i].get(name) ?? 0))
  }
  let allocated: number | undefined
  if (values.allocations === true) {
    const { profile } = await session.post('HeapProfiler.stopSampling')
    const sum = (n: { selfSize: number, children: Array<typeof n> }): number => n.children.reduce((t, c) => t + sum(c), n.selfSize)
    allocated = sum(profile.head)
    if (process.env.TZP2P_BENCH_HEAP_PROFILE !== undefined) await writeFile(process.env.TZP2P_BENCH_HEAP_PROFILE, JSON.stringify(profile))
  }
  if (values.profile !== undefined) {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(values.profile, JSON.stringify(profile))
  }
  const rate = BLOCKS / (ms / 1000)
  const status = node.syncStatus()
  const sync = node.libp2p.services.sync
  console.log(`(b) bootstrap from ${PEERS} peers over loopback (${headerFetchMode} headers): ${BLOCKS} blocks in ${(ms / 1000).toFixed(2)} s = ${rate.toFixed(0)} blocks/s`)
  console.log(`    answers accepted per peer: ${Object.values(status.acceptedFrom).join(', ')}; requests sent: ${sync?.client.stats.requests ?? 0} in ${sync?.client.stats.exchanges ?? 0} exchanges (a stream or a channel batch each), ${sync?.client.stats.answers ?? 0} answers received`)
  // Where the data requests went: batches on each peer's sync channel (and the channel streams
  // opened), or a sync stream per exchange.
  const wire = { channelBatches: 0, channels: 0, syncStreams: 0 }
  for (const p of node.networkPeers.libp2p.list()) {
    wire.channelBatches += p.requestStats.syncChannel
    wire.syncStreams += p.requestStats.streams
    wire.channels += p.syncChannelStats?.opened ?? 0
  }
  console.log(`    libp2p: ${wire.channelBatches} batches on ${wire.channels} sync channels, ${wire.syncStreams} sync streams of one exchange`)
  console.log(`    of which applying blocks (chain.addBlocks, the work of (a)): ${(applyMs / 1000).toFixed(2)} s in ${applyCalls} calls (${(BLOCKS / Math.max(1, applyCalls)).toFixed(1)} blocks each)`)
  const stage = progress?.stageMs
  if (stage !== undefined) console.log(`    the application stage: ${(stage.apply / 1000).toFixed(2)} s applying, ${(stage.operations / 1000).toFixed(2)} s waiting for operations, ${(stage.precheck / 1000).toFixed(2)} s for signature prechecks`)
  console.log(`    the syncing node's collections: ${gc.minor} minor (${gc.minorMs.toFixed(0)} ms on the main thread), ${gc.major} major (${gc.majorMs.toFixed(0)} ms)`)
  console.log(`    the syncing node's event loop was idle ${(100 * (1 - elu.utilization)).toFixed(0)} % of (b)`)
  console.log(`    CPU during (b): syncing node ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, the ${PEERS} peers ${peersCpu.toFixed(2)} s (on ${availableParallelism()} cores, ${(ms / 1000).toFixed(2)} s of wall time)`)
  const byThread = (threads: Map<string, number>): string => [...threads].filter(([, x]) => x >= 0.005).sort((x, y) => y[1] - x[1]).map(([name, x]) => `${name} ${x.toFixed(2)} s`).join(', ')
  console.log(`    CPU by thread: (a) ${byThread(localThreads)}; (b) syncing node ${byThread(ownThreads)}`)
  console.log(`    the peers' CPU by thread: ${[...peerThreads].filter(([, x]) => x >= 0.005).sort((x, y) => y[1] - x[1]).map(([name, x]) => `${name} ${x.toFixed(2)} s`).join(', ')}`)
  // Requests the peers' throttles refused (sync.md §10): a bootstrap should be refused none.
  const peerStats = await Promise.all(children.map(async c => await statsOf(c)))
  console.log(`    sync requests the peers' throttles refused: ${peerStats.map(x => Number(x.syncThrottled ?? 0)).join(', ')}`)
  // Per block, for comparing sizes (`--blocks 2000 / 10000 / 50000`): flat means cost grows with the chain only.
  const perBlock = (seconds: number): string => `${(seconds * 1e6 / BLOCKS).toFixed(0)} µs`
  console.log(`    per block: (a) ${perBlock(local.milliseconds / 1000)}, (b) ${perBlock(ms / 1000)} of wall time; CPU (a) ${perBlock((localCpu.user + localCpu.system) / 1e6)}, (b) ${perBlock((cpu.user + cpu.system) / 1e6)} syncing node + ${perBlock(peersCpu)} peers`)
  if (allocated !== undefined) console.log(`    allocated by the syncing node during (b) (sampled): ${(allocated / 1e6).toFixed(0)} MB, ${(allocated / BLOCKS / 1024).toFixed(1)} KiB per block`)
  console.log(`b/a = ${(rate / local.blocksPerSecond).toFixed(2)} (goals: b ≥ 5000 blocks/s and b/a ≥ 0.8)`)
  const ratio = rate / local.blocksPerSecond
  await writeBenchJson(process.argv, {
    bench: 'sync',
    command: 'npm run bench:sync',
    params: { blocks: BLOCKS, transfersPerBlock: TRANSFERS, peers: PEERS, headers: headerFetchMode },
    figures: [
      {
        name: `bootstrap from ${PEERS} peer processes over loopback`,
        unit: 'blocks/s',
        value: rate,
        reference: { name: '(a) local import of the same blocks', value: local.blocksPerSecond },
        ratio,
        goal: '≥ 5 000 blocks/s and b/a ≥ 0.8',
        met: rate >= 5000 && ratio >= 0.8
      },
      { name: '(a) local import', unit: 'blocks/s', value: local.blocksPerSecond, goal: '≥ 5 000 blocks/s', met: local.blocksPerSecond >= 5000 }
    ]
  })
  await node.stop()
} finally {
  // Closing stdin stops a peer cleanly (a profiled one writes its profile on exit).
  await stopPeerProcesses(children)
  await chain.setup.protocol.close?.()
  await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
}
