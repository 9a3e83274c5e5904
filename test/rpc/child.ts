import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')
export const NODE = join(ROOT, 'node_modules/.bin/node')
export const BIN = join(ROOT, 'bin/tzp2p.js')

/** A JSON log line as pino writes it: `msg`, `level`, and the fields the message carries. */
export type LogLine = Record<string, unknown>

/** The fields of the "node running" line (src/cli/run.ts) the tests read. */
export interface RunningLine {
  /** The RPC's URLs. */
  rpc: string[]
  /** The node's listening multiaddrs. */
  addresses: string[]
}

const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every(e => typeof e === 'string')

/**
 * A child process under test: its stdout and stderr collected as text and split in lines, with a
 * way to wait for a line and for the exit. Deadlines are safety nets only (a broken build fails
 * instead of hanging); no test asserts on them.
 */
export class Child {
  readonly process: ChildProcessWithoutNullStreams
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly waiters = new Set<() => void>()

  constructor (args: string[], options: { env?: NodeJS.ProcessEnv, cwd?: string } = {}) {
    this.process = spawn(NODE, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, TZP2P_DATA_DIR: '', ...options.env } })
    this.process.stdout.on('data', (d: Buffer) => { this.stdout += d.toString(); this.wake() })
    this.process.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); this.wake() })
    this.exited = new Promise(resolve => {
      this.process.on('exit', (code, signal) => { this.wake(); resolve({ code, signal }) })
    })
  }

  /** `tzp2p <args>` through the real launcher. */
  static tzp2p (args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Child {
    return new Child([BIN, ...args], options)
  }

  get running (): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  /** JSON lines of stdout (pino's output when it is not a terminal). */
  jsonLines (): LogLine[] {
    return this.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as LogLine)
  }

  /** Resolves with the first value `find` returns that is not undefined, re-checked on every output. */
  async waitFor<T> (find: (child: this) => T | undefined, what: string, deadlineMs = 60_000): Promise<T> {
    return await new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = find(this)
        if (found !== undefined) { cleanup(); resolve(found); return true }
        if (!this.running) { cleanup(); reject(new Error(`exited before ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`)); return true }
        return false
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${what} within ${deadlineMs} ms\nstderr:\n${this.stderr}`)) }, deadlineMs)
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(waiter) }
      const waiter = (): void => { check() }
      if (!check()) this.waiters.add(waiter)
    })
  }

  /** The first JSON log line with this message. */
  async logLine (msg: string, deadlineMs?: number): Promise<LogLine> {
    return await this.waitFor(c => c.jsonLines().find(l => l.msg === msg), `log line "${msg}"`, deadlineMs)
  }

  /** The "node running" line, checked to carry the RPC URLs and the listening addresses. */
  async nodeRunning (deadlineMs?: number): Promise<RunningLine> {
    const line = await this.logLine('node running', deadlineMs)
    const { rpc, addresses } = line
    if (!isStringArray(rpc) || !isStringArray(addresses)) throw new Error(`the "node running" line lacks its rpc or addresses lists: ${JSON.stringify(line)}`)
    return { rpc, addresses }
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.process.kill(signal)
  }

  private wake (): void {
    for (const w of [...this.waiters]) w()
  }
}
