import { b58Encode } from '../crypto/index.ts'
import { blockHash, type BlockHeader } from '../wire/block-header.ts'
import { operationHash } from '../wire/operation.ts'
import type { InvalidOperationError } from '../protocol/errors.ts'
import type { Chain } from './chain.ts'
import type { Mempool } from './mempool.ts'

/**
 * A devnet baker: every `intervalMs` (or on `bakeNow()`), builds a block on the head from the
 * mempool's operations with the protocol's `makeBlock`, signs it with the baker key, and adds
 * it to the chain (which announces it as the new head).
 *
 * The timestamp is the current second, or the predecessor's + 1 if that is later; a block that
 * would be more than the allowed drift in the future is not baked (`TooEarlyToBakeError`) —
 * peers would ignore it.
 */
export interface BakerOptions {
  chain: Chain
  mempool?: Mempool
  /** The protocol's signing secret (demo: the baker's 64-byte Ed25519 secret key). */
  bakerKey?: Uint8Array
  /** Period of automatic baking, ms (default 5000). */
  intervalMs?: number
  /** Seconds a timestamp may run ahead of the clock (default 1, as the chain's). */
  maxClockDrift?: number
  now?: () => number
  /** Called after each automatic bake (errors included), e.g. for logs. */
  onBake?: (result: BakeResult | Error) => void
}

export interface BakeResult {
  hash: string
  header: BlockHeader
  operations: number
  /** Mempool operations left out of the block (b58 `o…`), with the reason. */
  refused: Array<{ hash: string, error: InvalidOperationError }>
}

export class TooEarlyToBakeError extends Error {
  override readonly name = 'TooEarlyToBakeError'
}

export class Baker {
  private readonly chain: Chain
  private readonly mempool?: Mempool
  private readonly bakerKey?: Uint8Array
  readonly intervalMs: number
  private readonly maxClockDrift: number
  private readonly now: () => number
  private readonly onBake?: (result: BakeResult | Error) => void
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private started = false

  constructor (options: BakerOptions) {
    this.chain = options.chain
    if (options.mempool !== undefined) this.mempool = options.mempool
    if (options.bakerKey !== undefined) this.bakerKey = options.bakerKey
    this.intervalMs = options.intervalMs ?? 5000
    this.maxClockDrift = options.maxClockDrift ?? 1
    this.now = options.now ?? Date.now
    if (options.onBake !== undefined) this.onBake = options.onBake
  }

  start (): void {
    if (this.started) return
    this.started = true
    this.schedule()
  }

  /** Stops the timer and waits for a bake in progress. */
  async stop (): Promise<void> {
    this.started = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }

  /** Bakes one block now (bakes are never concurrent). */
  async bakeNow (): Promise<BakeResult> {
    const run = this.running.then(async () => await this.bake())
    this.running = run.catch(() => {})
    return await run
  }

  private schedule (): void {
    if (!this.started) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.bakeNow().then(r => this.onBake?.(r), (e: Error) => this.onBake?.(e)).finally(() => this.schedule())
    }, this.intervalMs)
  }

  private async bake (): Promise<BakeResult> {
    const candidates = this.mempool?.operations() ?? []
    const baked = await this.chain.atHead(async (head, state) => {
      const nowSeconds = Math.floor(this.now() / 1000)
      const previous = head.header.shell.timestamp
      const timestamp = BigInt(nowSeconds) > previous ? BigInt(nowSeconds) : previous + 1n
      if (Number(timestamp) > nowSeconds + this.maxClockDrift) {
        throw new TooEarlyToBakeError(`the next block would be dated ${timestamp}, more than ${this.maxClockDrift} s ahead of the clock`)
      }
      return await this.chain.protocol.makeBlock({
        predecessor: head.header,
        predecessorHash: head.hash,
        timestamp,
        candidates,
        state,
        ...(this.bakerKey === undefined ? {} : { bakerKey: this.bakerKey })
      })
    })
    await this.chain.addBlock(baked.header, baked.operations)
    let count = 0
    for (const pass of baked.operations) count += pass.length
    return {
      hash: b58Encode('blockHash', blockHash(baked.header)),
      header: baked.header,
      operations: count,
      refused: baked.refused.map(r => ({ hash: b58Encode('operationHash', operationHash(r.operation)), error: r.error }))
    }
  }
}
