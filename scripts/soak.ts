/**
 * `npm run soak [-- --nodes 20 --minutes 10 --bake-interval 2 --stable 3 --seed 1 --dir <dir> --json <file>]`
 *
 * A devnet of `--nodes` `tzp2p run` processes (node0 bakes) under random churn for `--minutes`:
 * every few seconds a random node other than the baker and nodes 1…`--stable` is killed (SIGKILL or SIGTERM, at random) and
 * restarted on its data dir and ports a few seconds later, while transfers are injected through
 * random live nodes. Every 30 s it records each live node's RSS and heap (its `/metrics`). At the
 * end the churn stops, downed nodes come back, and it waits for every node to report the same head.
 *
 * Passes (exit 0) when every node reaches the same head and the memory of the nodes that ran the
 * whole time is flat: the mean heap of the last third of the samples within 15 % (+8 MiB) of the
 * first third's, after a 1-minute warm-up.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseScriptArgs } from './script-args.ts'
import type { ChildProcess } from 'node:child_process'
import { startDevnet, startDevnetNode, stopDevnet } from '../src/runtime/devnet/supervisor.ts'
import { terminate } from '../src/runtime/devnet/processes.ts'
import type { DevnetNodeState } from '../src/runtime/devnet/state.ts'
import { DEVNET_ACCOUNT_COUNT } from '../src/config/presets.ts'
import { injectDevnetTransfer } from '../src/runtime/devnet/transfer.ts'
import { seededRandom } from '../test/helpers/seeded-random.ts'

const { values: args } = parseScriptArgs({
  command: 'npm run soak --',
  summary: 'A devnet under random churn with injected transfers; passes when every node ends on the same head and memory stays flat.',
  options: {
    nodes: { type: 'string', default: '20', placeholder: 'N', description: 'tzp2p run processes (node0 bakes)' },
    minutes: { type: 'string', default: '10', placeholder: 'M', description: 'minutes of churn' },
    'bake-interval': { type: 'string', default: '2', placeholder: 's', description: 'seconds between blocks' },
    seed: { type: 'string', default: '1', placeholder: 'S', description: 'seed of the churn and transfers' },
    stable: { type: 'string', default: '3', placeholder: 'N', description: 'nodes 1…N are never churned' },
    'base-port': { type: 'string', default: '29700', placeholder: 'port', description: 'node i uses P2P port base + i and RPC port base + 1000 + i' },
    dir: { type: 'string', placeholder: 'dir', defaultText: 'a temporary directory', description: 'where the nodes\' data dirs go' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
  }
})
const NODES = Number(args.nodes)
const MINUTES = Number(args.minutes)
const BAKE_INTERVAL = Number(args['bake-interval'])
const SEED = Number(args.seed)
/** Nodes 1…STABLE are never churned: with the baker, they show whether memory stays flat. */
const STABLE = Number(args.stable)
const BASE_PORT = Number(args['base-port'])
for (const [name, v, min] of [['--nodes', NODES, 2], ['--minutes', MINUTES, 0.1], ['--bake-interval', BAKE_INTERVAL, 0.1], ['--base-port', BASE_PORT, 1024]] as const) {
  if (!Number.isFinite(v) || v < min) { process.stderr.write(`soak: ${name} must be a number ≥ ${min}, got ${String(v)}\n`); process.exit(2) }
}

const random = seededRandom(SEED)
const int = (n: number): number => Math.floor(random() * n)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`
const say = (line: string): void => { process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`) }

const dir = args.dir ?? await mkdtemp(join(tmpdir(), 'tzp2p-soak-'))
const options = {
  dir,
  nodes: NODES,
  bakeInterval: BAKE_INTERVAL,
  baseP2pPort: BASE_PORT,
  baseRpcPort: BASE_PORT + 1000,
  protocol: 'demo' as const,
  netNamespaces: false,
  clean: true,
  logLevel: 'info'
}

say(`soak: ${NODES} nodes, ${MINUTES} min of churn, bake every ${BAKE_INTERVAL} s, seed ${SEED}, dir ${dir}; ` +
  `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${mib(totalmem())}, load ${loadavg()[0].toFixed(2)}`)
const devnet = await startDevnet(options)
const nodes: Array<DevnetNodeState | undefined> = [...devnet.state.nodes]
const children: Array<ChildProcess | undefined> = nodes.map(n => devnet.children.find(c => c.pid === n?.pid))
const seedAddress = nodes[0]!.p2p
/** Nodes that were never stopped: their memory tells whether it is flat. */
const churned = new Set<number>()
const samples = new Map<number, Array<{ t: number, rss: number, heap: number }>>()
const counts = { kills: 0, sigkills: 0, restarts: 0, transfers: 0, transferErrors: 0, restartErrors: 0 }
say(`devnet up: ${nodes.map(n => n?.rpc).join(' ')}`)

/** Restarted nodes are not in the devnet's state file: stop every process this run started. */
async function stopAll (): Promise<void> {
  await Promise.all(nodes.map(async n => { if (n !== undefined) await terminate(n.pid) }))
  await stopDevnet(dir).catch(() => [])
}
let interrupted = false
process.on('SIGINT', () => {
  if (interrupted) process.exit(130)
  interrupted = true
  say('interrupted: stopping every node')
  void stopAll().finally(() => process.exit(130))
})

async function metricsOf (rpc: string): Promise<{ rss: number, heap: number } | undefined> {
  try {
    const text = await (await fetch(`${rpc}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    return { rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes') }
  } catch {
    return undefined
  }
}

async function headOf (rpc: string): Promise<{ level: number, hash: string } | undefined> {
  try {
    const h = await (await fetch(`${rpc}/chains/main/blocks/head/header`, { signal: AbortSignal.timeout(5000) })).json() as { level: number, hash: string }
    return { level: h.level, hash: h.hash }
  } catch {
    return undefined
  }
}

const started = Date.now()
const end = started + MINUTES * 60_000
let running = true

const sampler = (async () => {
  while (running) {
    const t = (Date.now() - started) / 1000
    await Promise.all(nodes.map(async (n, i) => {
      if (n === undefined) return
      const m = await metricsOf(n.rpc)
      if (m === undefined || !Number.isFinite(m.rss)) return
      const list = samples.get(i) ?? []
      list.push({ t, ...m })
      samples.set(i, list)
    }))
    const heads = await Promise.all(nodes.map(async n => n === undefined ? undefined : await headOf(n.rpc)))
    const levels = heads.filter(h => h !== undefined).map(h => h.level)
    say(`t=${t.toFixed(0)} s: ${levels.length} nodes up, levels ${Math.min(...levels)}–${Math.max(...levels)}, ` +
      `kills ${counts.kills} (${counts.sigkills} SIGKILL), restarts ${counts.restarts}, transfers ${counts.transfers}`)
    for (let waited = 0; running && waited < 30_000; waited += 500) await sleep(500)
  }
})()

const transfers = (async () => {
  while (running) {
    const live = nodes.map((n, i) => ({ n, i })).filter(x => x.n !== undefined)
    const target = live[int(live.length)]
    if (target?.n !== undefined) {
      try {
        const from = int(DEVNET_ACCOUNT_COUNT)
        await injectDevnetTransfer({ rpc: target.n.rpc, from, to: (from + 1 + int(DEVNET_ACCOUNT_COUNT - 1)) % DEVNET_ACCOUNT_COUNT, amount: 1n + BigInt(int(1000)) })
        counts.transfers++
      } catch {
        counts.transferErrors++
      }
    }
    await sleep(1000 + int(2000))
  }
})()

async function restart (i: number): Promise<void> {
  try {
    const { child, node } = await startDevnetNode(options, i, seedAddress)
    children[i] = child
    nodes[i] = node
    counts.restarts++
  } catch (e) {
    counts.restartErrors++
    say(`node${i} failed to restart: ${(e as Error).message}`)
  }
}

const downed = new Set<Promise<void>>()
while (Date.now() < end) {
  await sleep(3000 + int(9000))
  if (Date.now() >= end) break
  const candidates = nodes.map((n, i) => ({ n, i })).filter(x => x.i > STABLE && x.n !== undefined)
  // Keep most of the network up: at most a quarter of the nodes down at once.
  if (candidates.length + STABLE + 1 <= Math.ceil(NODES * 3 / 4) || candidates.length === 0) continue
  const victim = candidates[int(candidates.length)]
  const signal: NodeJS.Signals = random() < 0.5 ? 'SIGKILL' : 'SIGTERM'
  const child = children[victim.i]
  nodes[victim.i] = undefined
  churned.add(victim.i)
  counts.kills++
  if (signal === 'SIGKILL') counts.sigkills++
  // The node may have exited on its own already (ESRCH): it is down either way, which is the point.
  try { process.kill(victim.n!.pid, signal) } catch { /* already gone */ }
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    await new Promise(resolve => { child.once('exit', resolve); setTimeout(resolve, 25_000) })
  }
  const downFor = 2000 + int(13_000)
  say(`node${victim.i}: ${signal}, back in ${(downFor / 1000).toFixed(0)} s`)
  const p: Promise<void> = sleep(downFor).then(async () => { await restart(victim.i) }).finally(() => { downed.delete(p) })
  downed.add(p)
}
say('churn over: bringing every node back and waiting for one head')
await Promise.all(downed)
running = false
await Promise.all([sampler, transfers])

// Every node on the same head at the same moment (the baker keeps baking: poll until they agree).
let agreed: { level: number, hash: string } | undefined
const deadline = Date.now() + 180_000
let lastHeads: Array<{ level: number, hash: string } | undefined> = []
while (Date.now() < deadline) {
  lastHeads = await Promise.all(nodes.map(async n => n === undefined ? undefined : await headOf(n.rpc)))
  const first = lastHeads[0]
  if (first !== undefined && lastHeads.every(h => h !== undefined && h.hash === first.hash)) { agreed = first; break }
  await sleep(200)
}

// Memory: nodes that ran the whole time, after a 1-minute warm-up.
interface Flatness { node: number, samples: number, firstRss: number, lastRss: number, firstHeap: number, lastHeap: number, flat: boolean }
const flatness: Flatness[] = []
for (const [i, list] of samples) {
  if (churned.has(i)) continue
  const usable = list.filter(s => s.t >= 60)
  if (usable.length < 3) continue
  const third = Math.max(1, Math.floor(usable.length / 3))
  const mean = (xs: typeof usable, key: 'rss' | 'heap'): number => xs.reduce((a, s) => a + s[key], 0) / xs.length
  const firstHeap = mean(usable.slice(0, third), 'heap')
  const lastHeap = mean(usable.slice(-third), 'heap')
  flatness.push({
    node: i,
    samples: usable.length,
    firstRss: mean(usable.slice(0, third), 'rss'),
    lastRss: mean(usable.slice(-third), 'rss'),
    firstHeap,
    lastHeap,
    flat: lastHeap <= firstHeap * 1.15 + 8 * 1048576
  })
}
flatness.sort((a, b) => a.node - b.node)

await stopAll()
if (args.dir === undefined) await rm(dir, { recursive: true, force: true })

const sameHead = agreed !== undefined
const memoryFlat = flatness.length > 0 && flatness.every(f => f.flat)
process.stdout.write(`\nsoak: ${NODES} nodes, ${MINUTES} min of churn: ${counts.kills} kills (${counts.sigkills} SIGKILL, ${counts.kills - counts.sigkills} SIGTERM), ` +
  `${counts.restarts} restarts (${counts.restartErrors} failed), ${counts.transfers} transfers injected (${counts.transferErrors} refused)\n`)
process.stdout.write(sameHead
  ? `same head on all ${NODES} nodes: level ${agreed!.level} ${agreed!.hash}\n`
  : `NOT on one head: ${lastHeads.map((h, i) => `node${i} ${h === undefined ? 'down' : `${h.level} ${h.hash.slice(0, 10)}`}`).join(', ')}\n`)
process.stdout.write('\n| node (never restarted) | samples | RSS first third → last third | heap first third → last third | flat |\n|---|---|---|---|---|\n')
for (const f of flatness) {
  process.stdout.write(`| node${f.node} | ${f.samples} | ${mib(f.firstRss)} → ${mib(f.lastRss)} | ${mib(f.firstHeap)} → ${mib(f.lastHeap)} | ${f.flat ? 'yes' : 'NO'} |\n`)
}
process.stdout.write(`\n${sameHead && memoryFlat ? 'OK' : 'FAILED'}: same head ${sameHead ? 'yes' : 'no'}, memory flat ${memoryFlat ? 'yes' : 'no'}\n`)
if (args.json !== undefined) {
  await writeFile(args.json, JSON.stringify({ nodes: NODES, minutes: MINUTES, seed: SEED, counts, agreed, flatness, sameHead, memoryFlat }, null, 2))
}
process.exitCode = sameHead && memoryFlat ? 0 : 1
