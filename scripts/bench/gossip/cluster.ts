/**
 * The parent side of the gossip benchmark: N child processes of one stack (tzp2p or gossipsub)
 * speaking JSON lines, wired along the benchmark's edges, with their arrival times and byte
 * counters gathered. Children are killed when the benchmark ends, fails or is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { neighbours, type Edge } from './topology.ts'

/** The project's Node 24 (the `node@24` devDependency), whatever the current directory. */
const NODE = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'node')

export type ChildEvent = Record<string, unknown> & { event: string }

export class BenchChildError extends Error {
  override readonly name = 'BenchChildError'
}

/**
 * Every child still running, every temporary directory and every other clean-up (network
 * namespaces), so that an interrupted or failed benchmark leaves none behind.
 */
const live = new Set<ChildProcess>()
const scratchDirs = new Set<string>()
const exitHooks = new Set<() => void>()
function killAll (): void {
  for (const c of live) c.kill('SIGKILL')
  live.clear()
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true })
  scratchDirs.clear()
  for (const hook of exitHooks) {
    // One failed clean-up must not keep the others from running.
    try { hook() } catch { continue }
  }
  exitHooks.clear()
}

/**
 * Runs `hook` (synchronous: it may run from the process's `exit` event) when the benchmark
 * exits, fails or is interrupted, after the children are killed; the returned function cancels it.
 */
export function atExit (hook: () => void): () => void {
  exitHooks.add(hook)
  return () => { exitHooks.delete(hook) }
}

/** How a child is started: `program args` as is, or wrapped (e.g. `ip netns exec <namespace> program args`). */
export type ChildCommand = (i: number, program: string, args: string[]) => { command: string, args: string[] }
const direct: ChildCommand = (_i, program, args) => ({ command: program, args })

/** A temporary directory removed when the benchmark ends, however it ends. */
export async function scratchDir (prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  scratchDirs.add(dir)
  return dir
}

export async function removeScratchDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  scratchDirs.delete(dir)
}
process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { killAll(); process.exit(130) })
}

/** One child process: its events, its arrival times by kind and block key, commands on stdin. */
export class BenchChild {
  readonly name: string
  readonly process: ChildProcess
  readonly events: ChildEvent[] = []
  /** kind (`head`, `announced`) → block key → arrival time (ms, see `now()` in child-io.ts). */
  readonly arrivals = new Map<string, Map<string, number>>()
  readonly exited: Promise<void>
  ready!: ChildEvent
  private waiters: Array<{ from: number, match: (e: ChildEvent) => boolean, resolve: (e: ChildEvent) => void }> = []
  private arrivalWaiters: Array<() => void> = []
  private stderr = ''

  constructor (name: string, spawnAs: { command: string, args: string[] }) {
    this.name = name
    this.process = spawn(spawnAs.command, spawnAs.args, { stdio: ['pipe', 'pipe', 'pipe'] })
    live.add(this.process)
    createInterface({ input: this.process.stdout as Readable }).on('line', line => {
      let e: ChildEvent
      try { e = JSON.parse(line) as ChildEvent } catch { return }
      this.push(e)
    })
    this.process.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-10_000) })
    this.exited = new Promise(resolve => {
      this.process.on('exit', () => { live.delete(this.process); resolve() })
    })
  }

  get address (): string { return this.ready.address as string }
  get peer (): string { return this.ready.peer as string }

  private push (e: ChildEvent): void {
    if (e.event === 'arrival') {
      const kind = e.kind as string
      let byKey = this.arrivals.get(kind)
      if (byKey === undefined) { byKey = new Map(); this.arrivals.set(kind, byKey) }
      if (!byKey.has(e.key as string)) byKey.set(e.key as string, e.t as number)
      const waiting = this.arrivalWaiters
      this.arrivalWaiters = []
      for (const w of waiting) w()
      return
    }
    const index = this.events.length
    this.events.push(e)
    this.waiters = this.waiters.filter(w => {
      if (index < w.from || !w.match(e)) return true
      w.resolve(e)
      return false
    })
  }

  /** The first event from index `from` matching; the deadline is a safety net against a hang. */
  async waitFor (match: (e: ChildEvent) => boolean, deadlineMs: number, from = 0): Promise<ChildEvent> {
    const seen = this.events.slice(from).find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new BenchChildError(`${this.name}: no matching event within ${deadlineMs} ms\n${this.stderr}`)) }, deadlineMs)
      void this.exited.then(() => { clearTimeout(timer); reject(new BenchChildError(`${this.name} exited\n${this.stderr}`)) })
      this.waiters.push({ from, match, resolve: e => { clearTimeout(timer); resolve(e) } })
    })
  }

  /** Sends a command and waits for its answer (or its error). */
  async call (command: Record<string, unknown>, answer: string, deadlineMs = 120_000): Promise<ChildEvent> {
    const from = this.events.length
    this.process.stdin?.write(JSON.stringify(command) + '\n')
    const e = await this.waitFor(x => x.event === answer || (x.event === 'error' && x.cmd === command.cmd), deadlineMs, from)
    if (e.event === 'error') throw new BenchChildError(`${this.name} ${String(command.cmd)}: ${String(e.name)}: ${String(e.message)}`)
    return e
  }

  /** Resolves once every key has arrived (kind `head`), or at the deadline; returns the missing keys. */
  async arrived (keys: readonly string[], deadline: number): Promise<string[]> {
    for (;;) {
      const got = this.arrivals.get('head')
      const missing = keys.filter(k => got?.has(k) !== true)
      const left = deadline - Date.now()
      if (missing.length === 0 || left <= 0 || this.process.exitCode !== null) return missing
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.arrivalWaiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** User + system CPU seconds used so far (Linux /proc), 0 where unavailable. */
  async cpuSeconds (): Promise<number> {
    try {
      const fields = (await readFile(`/proc/${this.process.pid}/stat`, 'utf8')).split(') ')[1].split(' ')
      return (Number(fields[11]) + Number(fields[12])) / 100
    } catch {
      return 0
    }
  }

  /** Closes stdin (the child stops its node and exits); kills it if it lingers. */
  async stop (): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    this.process.stdin?.end()
    const timer = setTimeout(() => { this.process.kill('SIGKILL') }, 10_000)
    await this.exited
    clearTimeout(timer)
  }
}

export interface Mark {
  /** Bytes written to the network so far, per node. */
  sent: number[]
  /** Per protocol, summed over nodes. */
  byProtocol: Record<string, number>
  /** CPU seconds so far, summed over nodes. */
  cpuSeconds: number
  /** The children's own counters (messages, requests…), summed over nodes. */
  counters: Record<string, number>
}

/** How long an edge may stay missing (a handshake still under way) before it is dialled again. */
const REDIAL_AFTER_MS = 5_000

/** N children of one stack. */
export class Cluster {
  readonly nodes: BenchChild[]
  /** The address node `from` dials to reach node `to`: its listen address, or a relay's (./relay-network.ts). */
  dialAddress: (from: number, to: number) => string = (_from, to) => this.nodes[to].address

  private constructor (nodes: BenchChild[]) {
    this.nodes = nodes
  }

  /**
   * Starts `count` children (`argsOf(i)`: the script and its arguments, run by the project's Node,
   * through `command`) and waits until all are ready.
   */
  static async start (label: string, count: number, argsOf: (i: number) => string[], command: ChildCommand = direct): Promise<Cluster> {
    const nodes = Array.from({ length: count }, (_, i) => new BenchChild(`${label} node ${i}`, command(i, NODE, argsOf(i))))
    const cluster = new Cluster(nodes)
    try {
      await Promise.all(nodes.map(async n => { n.ready = await n.waitFor(e => e.event === 'ready', 180_000) }))
    } catch (e) {
      await cluster.stop()
      throw e
    }
    return cluster
  }

  /** Node a dials node b for every edge [a, b]. */
  async connect (edges: readonly Edge[]): Promise<void> {
    await Promise.all(this.nodes.map(async (n, i) => {
      const addresses = edges.filter(([a]) => a === i).map(([, b]) => this.dialAddress(i, b))
      if (addresses.length > 0) await n.call({ cmd: 'connect', addresses }, 'connected')
    }))
  }

  /** Each node's `peers` answer. */
  async peers (): Promise<ChildEvent[]> {
    return await Promise.all(this.nodes.map(async n => await n.call({ cmd: 'peers' }, 'peers')))
  }

  /**
   * Whether each node is connected to exactly its neighbours in `edges` (and `extra` holds of its
   * `peers` answer). Returns the first node that is not, as text, or undefined.
   */
  async topologyMismatch (edges: readonly Edge[], extra?: (answer: ChildEvent, degree: number) => boolean): Promise<string | undefined> {
    const expected = neighbours(this.nodes.length, edges)
    const answers = await this.peers()
    for (let i = 0; i < this.nodes.length; i++) {
      const want = new Set(expected[i].map(j => this.nodes[j].peer))
      const got = new Set(answers[i].peers as string[])
      const same = want.size === got.size && [...want].every(p => got.has(p))
      if (!same) return `node ${i} is connected to ${got.size} peers, ${[...got].filter(p => !want.has(p)).length} of them not its neighbours (wants ${want.size})`
      if (extra !== undefined && !extra(answers[i], expected[i].length)) return `node ${i}: ${JSON.stringify({ ...answers[i], peers: undefined })}`
    }
    return undefined
  }

  /** The edges neither end of which is connected to the other. */
  async missingEdges (edges: readonly Edge[]): Promise<Edge[]> {
    const connected = (await this.peers()).map(a => new Set(a.peers as string[]))
    return edges.filter(([a, b]) => !connected[a].has(this.nodes[b].peer) && !connected[b].has(this.nodes[a].peer))
  }

  /**
   * Polls until the topology is as wired (and `extra` holds), or fails at the deadline. An edge
   * gone on both sides for a while is dialled again: on a heavily loaded machine a connection can
   * fail its handshake or keep-alive deadline after `connect` returned, which says nothing about
   * gossip (as in `dialAll`'s retries). `onRedial` hears of each.
   */
  async waitTopology (edges: readonly Edge[], deadlineMs: number, extra?: (answer: ChildEvent, degree: number) => boolean, onRedial?: (edge: Edge) => void): Promise<void> {
    const deadline = Date.now() + deadlineMs
    let nextRedial = Date.now() + REDIAL_AFTER_MS
    for (;;) {
      const mismatch = await this.topologyMismatch(edges, extra)
      if (mismatch === undefined) return
      if (Date.now() > deadline) throw new BenchChildError(`the network did not settle: ${mismatch}`)
      if (Date.now() > nextRedial) {
        nextRedial = Date.now() + REDIAL_AFTER_MS
        for (const edge of await this.missingEdges(edges)) {
          onRedial?.(edge)
          // A failed dial is tried again at the next round, until the deadline.
          await this.nodes[edge[0]].call({ cmd: 'connect', addresses: [this.dialAddress(edge[0], edge[1])] }, 'connected').catch(() => undefined)
        }
      }
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }

  async mark (): Promise<Mark> {
    const [answers, cpu] = await Promise.all([
      Promise.all(this.nodes.map(async n => await n.call({ cmd: 'mark' }, 'mark'))),
      Promise.all(this.nodes.map(async n => await n.cpuSeconds()))
    ])
    const sum = (field: string): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const a of answers) {
        for (const [k, v] of Object.entries((a[field] ?? {}) as Record<string, number>)) out[k] = (out[k] ?? 0) + v
      }
      return out
    }
    return { sent: answers.map(a => a.total as number), byProtocol: sum('byProtocol'), cpuSeconds: cpu.reduce((x, y) => x + y, 0), counters: sum('counters') }
  }

  /** Waits until every node but `except` has every key (kind `head`); returns how many (key, node) pairs are missing. */
  async waitArrivals (keys: readonly string[], except: number, deadlineMs: number): Promise<number> {
    const deadline = Date.now() + deadlineMs
    const missing = await Promise.all(this.nodes.map(async (n, i) => i === except ? [] : await n.arrived(keys, deadline)))
    return missing.reduce((sum, m) => sum + m.length, 0)
  }

  async stop (): Promise<void> {
    await Promise.all(this.nodes.map(async n => { await n.stop() }))
  }
}
