/**
 * The two halves of the JSON-lines protocol between `scripts/bench/peers.ts` and its child
 * processes (the measured node and the peer swarms): requests `{id, cmd, …}` on the child's stdin,
 * replies `{id, …}` (or `{id, error}`) on its stdout, and one `{ready: …}` line once it is up.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')

export class BenchChildError extends Error {
  override readonly name = 'BenchChildError'
}

/** A child process answering JSON-line requests (parent side). */
export class BenchChild<Ready = Record<string, unknown>> {
  readonly label: string
  readonly child: ChildProcessWithoutNullStreams
  readonly ready: Promise<Ready>
  readonly exited: Promise<number | null>
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void, reject: (e: Error) => void }>()
  private nextId = 1
  private stderr = ''

  /** `env`: variables set for the child on top of this process's environment. */
  constructor (label: string, script: string, config: unknown, nodeFlags: string[] = [], env: Record<string, string> = {}) {
    this.label = label
    this.child = spawn(NODE, [...nodeFlags, script, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    // Kept short: enough to explain a crash without growing with a chatty child.
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-10_000) })
    this.exited = new Promise(resolve => { this.child.on('exit', code => { resolve(code) }) })
    const ready = Promise.withResolvers<Ready>()
    this.ready = ready.promise
    void this.exited.then(code => {
      const error = new BenchChildError(`${label} exited (${code}):\n${this.stderr}`)
      ready.reject(error)
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
    })
    createInterface({ input: this.child.stdout }).on('line', line => {
      let message: Record<string, unknown>
      try { message = JSON.parse(line) as Record<string, unknown> } catch { return }
      if (message.ready !== undefined) { ready.resolve(message.ready as Ready); return }
      const p = this.pending.get(message.id as number)
      if (p === undefined) return
      this.pending.delete(message.id as number)
      // The child side sends `error` as a string (see serveJsonLines); anything else is shown as JSON.
      if (message.error !== undefined) p.reject(new BenchChildError(`${label}: ${typeof message.error === 'string' ? message.error : JSON.stringify(message.error)}`))
      else p.resolve(message)
    })
  }

  async request<T = Record<string, unknown>> (cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => { this.pending.set(id, { resolve, reject }) })
    this.child.stdin.write(JSON.stringify({ id, cmd, ...extra }) + '\n')
    return await reply as T
  }

  /** Closes the child's stdin (it stops its nodes and exits); SIGKILL if it has not exited in time. */
  async stop (graceMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, graceMs)
    this.child.stdin.end()
    await this.exited
    clearTimeout(timer)
  }
}

/** Answers one request; a throw (synchronous or not) becomes an `{id, error}` reply. */
export type Handler = (request: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>

/**
 * The child side: prints `{ready}`, answers each request line with `handle`, and calls `onClose`
 * when the parent closes stdin (or dies).
 */
export function serveJsonLines (ready: unknown, handle: Handler, onClose: () => Promise<void>): void {
  const out = (value: unknown): void => { process.stdout.write(JSON.stringify(value) + '\n') }
  out({ ready })
  const lines = createInterface({ input: process.stdin })
  lines.on('line', line => {
    let request: Record<string, unknown>
    try { request = JSON.parse(line) as Record<string, unknown> } catch { return }
    // Through a promise so a synchronous throw in `handle` is answered like a rejection.
    new Promise<Record<string, unknown>>(resolve => { resolve(handle(request)) }).then(
      reply => { out({ id: request.id, ...reply }) },
      (err: Error) => { out({ id: request.id, error: `${err.name}: ${err.message}` }) }
    )
  })
  lines.on('close', () => { void onClose().finally(() => process.exit(0)) })
}
