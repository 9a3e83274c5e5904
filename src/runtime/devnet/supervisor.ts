import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isOurNode, terminate } from './processes.ts'
import { writeDelegateFiles } from './delegates.ts'
import {
  createNetworkNamespaces, inNamespace, namespaceLayout, networkNamespacesUnavailable, removeNetworkNamespaces, type NamespaceLayout
} from './netns.ts'
import { readDevnetState, removeDevnetState, writeDevnetState, type DevnetNodeState, type DevnetState } from './state.ts'

/**
 * A devnet: N `tzp2p run` processes with their own data dirs, PoW 0, the demo protocol's devnet
 * preset (well-known baker and accounts, fixed genesis), node0 the seed and the only baker, every
 * other node given only the seed as a trusted peer (peer exchange wires the rest). On loopback by
 * default; with network namespaces, each node in its own namespace on a bridge.
 */
export interface DevnetOptions {
  dir: string
  nodes: number
  /** Seconds between two blocks. */
  bakeInterval: number
  /** First P2P and RPC ports (node i uses base + i); 0 lets the system pick every port. */
  baseP2pPort: number
  baseRpcPort: number
  protocol: 'demo' | 'accept-all'
  /** The baker's `--activate <protocol@level>` (e.g. `demo-v2@20`). */
  activate?: string
  /**
   * A chain of delegates: demo v3 from genesis, nodes 0 to bakers − 1 each baking and endorsing
   * with its own delegate key (`delegates.ts`). Absent: demo v1 and node0 the one baker.
   */
  bakers?: number
  /** With `bakers`: the node whose delegate bakes two blocks at each level it bakes. */
  equivocate?: number
  /** With `bakers`: the node whose delegate endorses every head, a second one at a level included. */
  doubleEndorse?: number
  /** Each node in its own network namespace (root only). */
  netNamespaces: boolean
  /** Remove the nodes' data dirs first (a new chain). */
  clean: boolean
  logLevel: string
  /** Told about each node as it comes up. */
  onNode?: (node: DevnetNodeState) => void
}

export class DevnetError extends Error {
  override readonly name = 'DevnetError'
}

/** The launcher beside this module's package: `bin/tzp2p.js` from `src/runtime/devnet` and `dist/runtime/devnet`. */
const TZP2P_BIN = fileURLToPath(new URL('../../../bin/tzp2p.js', import.meta.url))

export interface RunningDevnet {
  state: DevnetState
  children: ChildProcess[]
}

/** The JSON log line `tzp2p run` writes once it runs (in the node's log file). */
interface RunningLine { rpc: string[], addresses: string[] }

/** The "node running" line written after byte `from` of the log (earlier runs appended before it). */
function runningLineOf (logFile: string, from: number): RunningLine | undefined {
  let text: string
  try { text = readFileSync(logFile).subarray(from).toString('utf8') } catch { return undefined }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"node running"')) continue
    try {
      const json = JSON.parse(line) as { msg?: string } & RunningLine
      if (json.msg === 'node running') return json
    } catch { /* a log line that is not JSON: not the one looked for */ }
  }
  return undefined
}

/** Waits for the node's "node running" log line; fails with the log's tail if it exits first. */
async function waitRunning (child: ChildProcess, name: string, logFile: string, from: number, deadlineMs = 120_000): Promise<RunningLine> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const line = runningLineOf(logFile, from)
    if (line !== undefined) return line
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n')
      throw new DevnetError(`${name} exited (${child.exitCode ?? child.signalCode}) while starting; the end of ${logFile}:\n${tail}`)
    }
    if (Date.now() > deadline) throw new DevnetError(`${name} did not start within ${deadlineMs / 1000} s; see ${logFile}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

function hostPortOfMultiaddr (ma: string): string {
  const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(ma)
  if (m === null) throw new DevnetError(`unexpected listen address ${ma}`)
  return `${m[1]}:${m[2]}`
}

/**
 * Starts node `i` of a devnet (`tzp2p run` in its own process, detached, logging to
 * `<dir>/node<i>/node.log`) and waits until it runs. Node 0 is the baker; the others are given
 * `seed` as their trusted peer. With fixed base ports a restarted node gets its old ports back.
 * `onSpawned` hears of the process as soon as it exists (to clean it up if the start fails).
 */
export async function startDevnetNode (
  options: Pick<DevnetOptions, 'dir' | 'bakeInterval' | 'baseP2pPort' | 'baseRpcPort' | 'protocol' | 'clean' | 'logLevel' | 'activate' | 'bakers' | 'equivocate' | 'doubleEndorse'>,
  i: number,
  seed: string | undefined,
  layout?: NamespaceLayout,
  onSpawned?: (child: ChildProcess) => void
): Promise<{ child: ChildProcess, node: DevnetNodeState }> {
  const dir = resolve(options.dir)
  const name = `node${i}`
  const dataDir = join(dir, name)
  if (options.clean) await rm(dataDir, { recursive: true, force: true })
  await mkdir(dataDir, { recursive: true })
  const host = layout?.nodes[i].address ?? '127.0.0.1'
  const port = (base: number): number => base === 0 ? 0 : base + i
  // In its own namespace a node may use the default ports: the address tells nodes apart.
  const p2pPort = layout !== undefined ? 9732 : port(options.baseP2pPort)
  const rpcPort = layout !== undefined ? 8732 : port(options.baseRpcPort)
  const seedNode = seed === undefined
  const delegateFlags = options.bakers === undefined ? undefined : await writeDelegateFiles(dataDir, i, options.bakers, { equivocate: options.equivocate, doubleEndorse: options.doubleEndorse })
  const baker = delegateFlags === undefined ? seedNode : delegateFlags.length > 0
  const args = [
    TZP2P_BIN, 'run',
    '--data-dir', dataDir,
    '--expected-pow', '0',
    '--net-addr', `${host}:${p2pPort}`,
    '--rpc-addr', `${host}:${rpcPort}`,
    // In a namespace the RPC listens on the devnet's private bridge, not on loopback: the devnet's
    // own tools (status, transfers, tests) use every RPC there, so it serves all of them.
    ...(layout !== undefined ? ['--allow-all-rpc', `${host}:${rpcPort}`] : []),
    '--protocol', options.protocol,
    '--log-level', options.logLevel,
    '--log-output', 'stdout',
    // The baker is the chain's source: bootstrapped from the start. The others once one peer is in sync.
    '--synchronisation-threshold', seedNode ? '0' : '1',
    ...(seed === undefined ? [] : ['--peer', seed]),
    ...(delegateFlags ?? (seedNode ? ['--baker', '--bake-interval', String(options.bakeInterval)] : [])),
    ...(seedNode && options.activate !== undefined ? ['--activate', options.activate] : [])
  ]
  const logFile = join(dataDir, 'node.log')
  const fd = openSync(logFile, 'a')
  // A reused data dir keeps the log of earlier runs: only what this run writes counts.
  const logStart = fstatSync(fd).size
  const command = layout !== undefined ? inNamespace(layout.nodes[i].namespace, process.execPath, args) : { command: process.execPath, args }
  let child: ChildProcess
  try {
    child = spawn(command.command, command.args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, TZP2P_DATA_DIR: '' } })
  } finally {
    closeSync(fd)
  }
  onSpawned?.(child)
  child.unref()
  const pid = child.pid
  if (pid === undefined) throw new DevnetError(`${name} could not be started`)
  const running = await waitRunning(child, name, logFile, logStart)
  const node: DevnetNodeState = {
    name,
    pid,
    dataDir,
    logFile,
    p2p: hostPortOfMultiaddr(running.addresses[0]),
    rpc: running.rpc[0],
    baker,
    ...(layout !== undefined ? { namespace: layout.nodes[i].namespace } : {})
  }
  return { child, node }
}

/**
 * Starts the devnet and records it in `<dir>/devnet.json`. Refuses if one already runs there.
 * Returns the children (they run in their own process groups, so a terminal's Ctrl-C reaches
 * only the caller, which then stops them in order).
 */
export async function startDevnet (options: DevnetOptions): Promise<RunningDevnet> {
  if (!(Number.isInteger(options.nodes) && options.nodes >= 1 && options.nodes <= 200)) {
    throw new DevnetError(`--nodes must be an integer from 1 to 200, got ${options.nodes}`)
  }
  if (options.bakers !== undefined && (options.bakers > options.nodes || options.protocol !== 'demo')) {
    throw new DevnetError(`--bakers ${options.bakers}: at most --nodes (${options.nodes}) bakers, with the demo protocol`)
  }
  if (options.equivocate !== undefined && (options.bakers === undefined || options.equivocate >= options.bakers)) {
    throw new DevnetError(`--equivocate ${options.equivocate}: the node must be one of the --bakers`)
  }
  if (options.doubleEndorse !== undefined && (options.bakers === undefined || options.doubleEndorse >= options.bakers)) {
    throw new DevnetError(`--double-endorse ${options.doubleEndorse}: the node must be one of the --bakers`)
  }
  const dir = resolve(options.dir)
  await mkdir(dir, { recursive: true })
  const previous = await readDevnetState(dir)
  if (previous !== undefined) {
    const alive = await Promise.all(previous.nodes.map(async n => await isOurNode(n.pid, n.dataDir)))
    if (alive.some(a => a)) throw new DevnetError(`a devnet already runs in ${dir}: see \`tzp2p devnet status --dir ${options.dir}\`, stop it with \`tzp2p devnet down --dir ${options.dir}\``)
    // Left behind by a devnet that was killed: clean what it set up.
    if (previous.namespaces !== undefined) await removeNetworkNamespaces(previous.namespaces)
    await removeDevnetState(dir)
  }
  let layout: NamespaceLayout | undefined
  if (options.netNamespaces) {
    const why = await networkNamespacesUnavailable()
    if (why !== undefined) throw new DevnetError(`--net-namespaces: ${why}`)
    layout = namespaceLayout(String(process.pid % 100000), process.pid % 200 + 20, options.nodes)
    await createNetworkNamespaces(layout)
  }

  const children: ChildProcess[] = []
  const nodes: DevnetNodeState[] = []
  const state: DevnetState = {
    version: 1, supervisorPid: process.pid, startedAt: new Date().toISOString(), nodes, ...(layout !== undefined ? { namespaces: layout } : {})
  }
  // Nodes come up together; their state writes go one after the other.
  let saving: Promise<void> = Promise.resolve()
  const save = async (): Promise<void> => {
    saving = saving.then(async () => { await writeDevnetState(dir, { ...state, nodes: nodes.filter(n => n !== undefined) }) })
    await saving
  }
  const startNode = async (i: number, seed: string | undefined): Promise<DevnetNodeState> => {
    const { node } = await startDevnetNode(options, i, seed, layout, child => { children.push(child) })
    nodes[i] = node
    await save()
    options.onNode?.(node)
    return node
  }

  try {
    // The seed first (its address is what the others are given), then the others together.
    const seed = await startNode(0, undefined)
    // Settled, not raced: when one fails, every child started meanwhile is known before cleaning up.
    const others = await Promise.allSettled(Array.from({ length: options.nodes - 1 }, async (_, k) => await startNode(k + 1, seed.p2p)))
    const failure = others.find(r => r.status === 'rejected')
    if (failure !== undefined) throw failure.reason
  } catch (e) {
    await stopDevnetNodes(children.map(c => c.pid).filter(p => p !== undefined))
    if (layout !== undefined) await removeNetworkNamespaces(layout)
    await removeDevnetState(dir)
    throw e
  }
  return { state, children }
}

async function stopDevnetNodes (pids: number[]): Promise<void> {
  await Promise.all(pids.map(async pid => await terminate(pid)))
}

export interface DevnetStopReport {
  name: string
  result: 'stopped' | 'killed' | 'gone'
}

/** Stops every node of the devnet in `dir` (SIGTERM, SIGKILL after a grace period) and removes its namespaces and state. */
export async function stopDevnet (dir: string): Promise<DevnetStopReport[]> {
  const state = await readDevnetState(resolve(dir))
  if (state === undefined) throw new DevnetError(`no devnet runs in ${resolve(dir)} (no devnet.json there)`)
  const report = await Promise.all(state.nodes.map(async n => ({
    name: n.name,
    result: await isOurNode(n.pid, n.dataDir) ? await terminate(n.pid) : 'gone' as const
  })))
  if (state.namespaces !== undefined) await removeNetworkNamespaces(state.namespaces)
  await removeDevnetState(resolve(dir))
  return report
}
