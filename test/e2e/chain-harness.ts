/**
 * Helpers of the chain end-to-end tests: a generated demo chain with its expected hashes and
 * balances at every level, stores seeded with a prefix of it, and child processes running
 * `chain-child.ts` whose JSON-line events the tests wait for.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import { accountKey, decodeAccount } from '../../src/protocol/demo/index.ts'
import { Chain, type BlockInput } from '../../src/chain/chain.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { resolveGenesis } from '../../src/chain/genesis.ts'
import { openDatabase } from '../../src/storage/database.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import type { ChildConfig } from './chain-child.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')
const CHILD = join(import.meta.dirname, 'chain-child.ts')
export const E2E_CHAIN_NAME = 'TZP2P_E2E'

export interface GeneratedChain {
  name: string
  accounts: number
  validationPasses: number
  blocks: BlockInput[]
  /** Hex block hash at each level (0 = genesis). */
  hashes: string[]
  /** Balance and counter of every account at each level, as the child's dump prints them. */
  accountsAt: Array<Array<{ balance: string, counter: string }>>
  builder: DemoChainBuilder
}

export async function generateChain (o: { name: string, blocks: number, transfersPerBlock: number, accounts?: number, validationPasses?: number }): Promise<GeneratedChain> {
  const accounts = o.accounts ?? 8
  const validationPasses = o.validationPasses ?? 2
  const setup = demoSetup({ name: o.name, accounts, validationPasses, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const snapshot = (): Array<{ balance: string, counter: string }> => {
    const out = []
    for (let i = 0; i < accounts; i++) {
      const raw = builder.stateSnapshot().get(accountKey(setup.accounts[i].publicKeyHash))
      const a = decodeAccount(fromHex(raw as string))
      out.push({ balance: a.balance.toString(), counter: a.counter.toString() })
    }
    return out
  }
  const hashes = [toHex(resolveGenesis(setup.genesis).hash)]
  const accountsAt = [snapshot()]
  const blocks: BlockInput[] = []
  for (let i = 0; i < o.blocks; i++) {
    const block = await builder.bake(builder.transfers(builder.randomTransfers(o.transfersPerBlock)))
    blocks.push(block)
    hashes.push(toHex(blockHash(block.header)))
    accountsAt.push(snapshot())
  }
  return { name: o.name, accounts, validationPasses, blocks, hashes, accountsAt, builder }
}

/** A data dir whose store holds the chain's first `upTo` blocks. */
export async function seededDataDir (chain: GeneratedChain, upTo: number, label: string): Promise<string> {
  const dir = await tempDir(label)
  const db = await openDatabase(dir, { chainName: E2E_CHAIN_NAME })
  const setup = demoSetup({ name: chain.name, accounts: chain.accounts, validationPasses: chain.validationPasses, verifyWorkers: 0 })
  try {
    const c = await Chain.open(db, { protocol: setup.protocol, genesis: setup.genesis })
    for (let i = 0; i < upTo; i += 500) await c.addBlocks(chain.blocks.slice(i, Math.min(upTo, i + 500)))
  } finally {
    await db.close()
    await setup.protocol.close?.()
  }
  return dir
}

/** Another data dir with a copy of `from`'s store (and no identity: each node makes its own). */
export async function copyDataDir (from: string, label: string): Promise<string> {
  const dir = await tempDir(label)
  await cp(join(from, 'store'), join(dir, 'store'), { recursive: true })
  return dir
}

export type ChildEvent = Record<string, unknown> & { event: string }

/** One `chain-child.ts` process: its events as they come, commands on its stdin. */
export class ChildNode {
  readonly name: string
  readonly config: ChildConfig
  readonly process: ChildProcess
  readonly events: ChildEvent[] = []
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private waiters: Array<{ from: number, match: (e: ChildEvent) => boolean, resolve: (e: ChildEvent) => void }> = []
  private stderr = ''
  ready!: ChildEvent

  private constructor (name: string, config: ChildConfig) {
    this.name = name
    this.config = config
    this.process = spawn(NODE, ['--expose-gc', CHILD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
    createInterface({ input: this.process.stdout as Readable }).on('line', line => {
      try { this.push(JSON.parse(line) as ChildEvent) } catch { /* not an event line */ }
    })
    this.process.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-20_000) })
    this.exited = new Promise(resolve => { this.process.on('exit', (code, signal) => { resolve({ code, signal }) }) })
  }

  static async start (name: string, config: ChildConfig): Promise<ChildNode> {
    const child = new ChildNode(name, config)
    child.ready = await child.waitFor(e => e.event === 'ready', 60_000)
    return child
  }

  get address (): string { return this.ready.address as string }
  /** The end of what the process wrote on stderr (its log, when `logLevel` is set). */
  get stderrTail (): string { return this.stderr }
  get peerId (): string { return this.ready.peer as string }

  private push (e: ChildEvent): void {
    const index = this.events.length
    this.events.push(e)
    this.waiters = this.waiters.filter(w => {
      if (index < w.from || !w.match(e)) return true
      w.resolve(e)
      return false
    })
  }

  /**
   * The first event (from index `from`, default the beginning) matching `match`. The deadline is
   * a safety net against a hang; no test asserts on time.
   */
  async waitFor (match: (e: ChildEvent) => boolean, deadlineMs = 90_000, from = 0): Promise<ChildEvent> {
    const seen = this.events.slice(from).find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no matching event within ${deadlineMs} ms; last events ${JSON.stringify(this.events.slice(-5))}\n${this.stderr}`))
      }, deadlineMs)
      const exit = (): void => { clearTimeout(timer); reject(new Error(`${this.name} exited; last events ${JSON.stringify(this.events.slice(-5))}\n${this.stderr}`)) }
      void this.exited.then(exit)
      this.waiters.push({ from, match, resolve: e => { clearTimeout(timer); resolve(e) } })
    })
  }

  send (command: Record<string, unknown>): void {
    this.process.stdin?.write(JSON.stringify(command) + '\n')
  }

  /** Sends a command and waits for the event that acknowledges it (or an error event). */
  async call (command: Record<string, unknown>, ack: string, deadlineMs = 60_000): Promise<ChildEvent> {
    const from = this.events.length
    this.send(command)
    const e = await this.waitFor(x => x.event === ack || (x.event === 'error' && x.cmd === command.cmd), deadlineMs, from)
    if (e.event === 'error') throw new Error(`${this.name} ${String(command.cmd)}: ${String(e.name)}: ${String(e.message)}`)
    return e
  }

  async dump (): Promise<ChildEvent> {
    return await this.call({ cmd: 'dump' }, 'dump')
  }

  /** Waits until the node's head reaches `level` (from its events). */
  async headAt (level: number, deadlineMs = 120_000): Promise<void> {
    if ((this.ready.level as number) >= level) return
    await this.waitFor(e => e.event === 'head' && (e.level as number) >= level, deadlineMs)
  }

  async stop (): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    this.send({ cmd: 'stop' })
    const timer = setTimeout(() => { this.process.kill('SIGKILL') }, 10_000)
    await this.exited
    clearTimeout(timer)
  }

  kill (): void {
    this.process.kill('SIGKILL')
  }
}

export async function stopAll (nodes: Array<ChildNode | undefined>): Promise<void> {
  await Promise.all(nodes.map(async n => { await n?.stop().catch(() => { n.kill() }) }))
}

export async function removeAll (dirs: string[]): Promise<void> {
  await Promise.all(dirs.map(async d => { await removeDir(d) }))
}

export function childConfig (chain: GeneratedChain, dataDir: string, extra: Partial<ChildConfig> = {}): ChildConfig {
  return { dataDir, chain: chain.name, accounts: chain.accounts, validationPasses: chain.validationPasses, ...extra }
}
