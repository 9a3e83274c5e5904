import { b58Encode } from '../crypto/index.ts'
import { blockHash, type BlockHeader } from '../wire/block-header.ts'
import { operationHash } from '../wire/operation.ts'
import type { InvalidOperationError } from '../protocol/errors.ts'
import type { Chain } from './chain.ts'
import type { Mempool } from './mempool.ts'
import { asDemoV3 } from './delegate-baker.ts'

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
  /**
   * Protocol activations this baker writes into the chain: the block it bakes at `level`
   * activates `protocol` (b58 `P…`) for the blocks after it (see `ProtocolActivation`).
   */
  activations?: readonly ProtocolActivation[]
}

/** The block at `level` activates `protocol`; the next block runs it at protocol level + 1. */
export interface ProtocolActivation {
  level: number
  protocol: string
}

/** The head's next protocol is not installed here: this node cannot bake on it. */
export class CannotBakeError extends Error {
  override readonly name = 'CannotBakeError'
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
  private readonly activations: ReadonlyMap<number, string>
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
    const activations = new Map<number, string>()
    for (const a of options.activations ?? []) {
      if (!Number.isSafeInteger(a.level) || a.level < 1) throw new RangeError(`baker: activation level ${a.level} must be an integer ≥ 1`)
      if (activations.has(a.level)) throw new RangeError(`baker: two activations at level ${a.level}`)
      activations.set(a.level, a.protocol)
    }
    this.activations = activations
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
      // A demo v3 chain is baked by its delegates at their priorities (`DelegateBaker`), not on an interval.
      if (asDemoV3(this.chain.protocol) !== undefined) { this.schedule(); return }
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
      const missing = this.chain.missingProtocol
      if (missing !== undefined) throw new CannotBakeError(`the next block runs protocol ${missing.protocol}, which is not installed`)
      const activate = this.activations.get(head.header.shell.level + 1)
      return await this.chain.protocol.makeBlock({
        predecessor: head.header,
        predecessorHash: head.hash,
        timestamp,
        candidates,
        state,
        protoLevel: this.chain.nextProtocolLevel.protoLevel,
        ...(activate === undefined ? {} : { activate }),
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
