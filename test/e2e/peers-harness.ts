import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import type { NodeOptions } from '../../src/node/options.ts'

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')
const SCRIPT = join(import.meta.dirname, 'peers-node.ts')

export interface PointStatus {
  key: string
  state: string
  trusted: boolean
  knownPublic: boolean
  lastFailedConnection: number | null
}

export interface NodeStatus {
  connections: number
  inbound: number
  outbound: number
  peers: string[]
  points: PointStatus[]
  greylist: string[]
  maintenanceRuns: number
}

export interface Ready {
  address: string
  tezosPeerId: string
  libp2pPeerId: string
}

/** A tzp2p node in its own process (`peers-node.ts`), driven over JSON lines. */
export class NodeProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly ready: Promise<Ready>
  private readonly pending = new Map<number, (reply: Record<string, unknown>) => void>()
  private nextId = 1
  private stderr = ''
  readonly exited: Promise<number | null>

  constructor (options: Partial<NodeOptions>) {
    this.child = spawn(NODE, [SCRIPT, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString() })
    this.exited = new Promise(resolve => { this.child.on('exit', code => { resolve(code) }) })
    const ready = Promise.withResolvers<Ready>()
    this.ready = ready.promise
    this.exited.then(code => {
      ready.reject(new Error(`node process exited (${code}) before it was ready:\n${this.stderr}`))
      for (const resolve of this.pending.values()) resolve({ error: `process exited (${code})` })
      this.pending.clear()
    }).catch(() => {})
    createInterface({ input: this.child.stdout }).on('line', line => {
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.ready !== undefined) { ready.resolve(message.ready as Ready); return }
      const resolve = this.pending.get(message.id as number)
      this.pending.delete(message.id as number)
      resolve?.(message)
    })
  }

  private async request (cmd: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++
    const reply = new Promise<Record<string, unknown>>(resolve => { this.pending.set(id, resolve) })
    this.child.stdin.write(JSON.stringify({ id, cmd, ...extra }) + '\n')
    const r = await reply
    if (r.error !== undefined) throw new Error(typeof r.error === 'string' ? r.error : JSON.stringify(r.error))
    return r
  }

  async status (): Promise<NodeStatus> {
    return (await this.request('status')).status as NodeStatus
  }

  async dial (address: string): Promise<void> {
    await this.request('dial', { address })
  }

  /** Graceful stop: SIGTERM, as an operator would; resolves with the exit code. */
  async terminate (): Promise<number | null> {
    this.child.kill('SIGTERM')
    return await this.exited
  }

  /** No goodbye: the process dies at once (its sockets are reset by the kernel). */
  async kill (): Promise<void> {
    this.child.kill('SIGKILL')
    await this.exited
  }

  get errors (): string {
    return this.stderr
  }
}

export async function startProcesses (options: Array<Partial<NodeOptions>>): Promise<NodeProcess[]> {
  const nodes = options.map(o => new NodeProcess(o))
  await Promise.all(nodes.map(async n => await n.ready))
  return nodes
}

export async function killAll (nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map(async n => { if (n.child.exitCode === null && n.child.signalCode === null) await n.kill() }))
}

/** Limits for small test networks: min 2 / expected 4 / max 6 (as `--connections 4`), fast maintenance. */
export function smallNetworkLimits (extra: Partial<NodeOptions['limits']> = {}): NonNullable<NodeOptions['limits']> {
  return {
    minConnections: 2,
    expectedConnections: 4,
    maxConnections: 6,
    maintenanceIdleTimeMs: 1000,
    timeBetweenLookingForPeersMs: 500,
    swapLingerMs: 3000,
    // Every test node shares 127.0.0.1: the per-IP rate must allow a whole network dialling one seed.
    inboundConnectionsPerIpPerSecond: 200,
    ...extra
  }
}

/** Back-off short enough for a test: a restarted neighbour is redialled within seconds. */
export const FAST_RECONNECTION = { initialDelayMs: 200, factor: 1.5, increaseCapMs: 3000, disconnectionDelayMs: 500 }
