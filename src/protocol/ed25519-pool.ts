import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

/**
 * Ed25519 verification spread over worker threads. Signature checks are most of the CPU a sync
 * spends on demo blocks, and they depend on nothing but the bytes, so they can run on other cores
 * ahead of the (sequential) application of the blocks.
 *
 * Workers are started on first use and do not keep the process alive when idle. If a worker
 * fails, its pending batches are rejected and the pool stops being used: callers then verify in
 * the calling thread, so a broken pool slows a node down but never makes it accept a bad signature.
 */
export interface SignatureCheck {
  publicKey: Uint8Array
  signature: Uint8Array
  message: Uint8Array
}

/** Below this many signatures a run is verified inline: a worker round trip would cost more. */
export const MIN_POOLED_SIGNATURES = 32

const WORKER_URL = new URL(`./ed25519-worker${/\.[cm]?[jt]s$/.exec(import.meta.url)?.[0] ?? '.js'}`, import.meta.url)

interface Pending {
  resolve: (r: Uint8Array) => void
  reject: (e: Error) => void
}

interface PoolWorker {
  worker: Worker
  pending: Map<number, Pending>
}

export class Ed25519VerifyPool {
  readonly size: number
  private workers: PoolWorker[] = []
  private nextId = 1
  private broken = false

  constructor (size = Math.max(1, availableParallelism())) {
    this.size = size
  }

  get usable (): boolean {
    return !this.broken
  }

  /** One byte per check, 1 if the signature is valid. */
  async verify (checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    if (this.broken) throw new Error('the Ed25519 verification pool is broken')
    if (checks.length === 0) return new Uint8Array(0)
    this.start()
    const per = Math.ceil(checks.length / this.workers.length)
    const parts: Array<Promise<Uint8Array>> = []
    for (let w = 0; w * per < checks.length; w++) {
      parts.push(this.send(this.workers[w], checks.slice(w * per, (w + 1) * per)))
    }
    const results = await Promise.all(parts)
    const out = new Uint8Array(checks.length)
    let at = 0
    for (const r of results) { out.set(r, at); at += r.length }
    return out
  }

  /**
   * The results of `checks` when the pool is worth using for them, else undefined: too few checks
   * to pay a worker round trip, a broken pool, or a failure on the way (the caller then verifies
   * inline, so a failure never accepts anything).
   */
  async verifyIfWorthIt (checks: readonly SignatureCheck[]): Promise<Uint8Array | undefined> {
    if (checks.length < MIN_POOLED_SIGNATURES || this.broken) return undefined
    try {
      return await this.verify(checks)
    } catch {
      return undefined
    }
  }

  async close (): Promise<void> {
    const workers = this.workers
    this.workers = []
    await Promise.all(workers.map(async w => await w.worker.terminate()))
  }

  private start (): void {
    while (this.workers.length < this.size) {
      const pw: PoolWorker = { worker: new Worker(WORKER_URL), pending: new Map() }
      pw.worker.unref()
      pw.worker.on('message', (m: { id: number, results: Uint8Array }) => {
        const p = pw.pending.get(m.id)
        if (p === undefined) return
        pw.pending.delete(m.id)
        if (pw.pending.size === 0) pw.worker.unref()
        p.resolve(m.results)
      })
      const fail = (e: Error): void => {
        this.broken = true
        for (const p of pw.pending.values()) p.reject(e)
        pw.pending.clear()
      }
      pw.worker.on('error', fail)
      pw.worker.on('exit', code => { if (pw.pending.size > 0) fail(new Error(`Ed25519 worker exited with code ${code}`)) })
      this.workers.push(pw)
    }
  }

  private async send (pw: PoolWorker, checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    let size = 4
    for (const c of checks) size += 100 + c.message.length
    const batch = new ArrayBuffer(size)
    const bytes = new Uint8Array(batch)
    const view = new DataView(batch)
    view.setUint32(0, checks.length)
    let at = 4
    for (const c of checks) {
      bytes.set(c.publicKey, at)
      bytes.set(c.signature, at + 32)
      view.setUint32(at + 96, c.message.length)
      bytes.set(c.message, at + 100)
      at += 100 + c.message.length
    }
    const id = this.nextId++
    return await new Promise<Uint8Array>((resolve, reject) => {
      pw.pending.set(id, { resolve, reject })
      pw.worker.ref()
      pw.worker.postMessage({ id, batch }, [batch])
    })
  }
}
