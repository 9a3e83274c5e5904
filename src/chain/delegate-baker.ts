import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, toHex } from '../encoding/index.ts'
import { publicKeyHash } from '../protocol/demo/keys.ts'
import { asDemoV3, decodeOperationData, endorsementOf, NoBakingRightError, revelationsDue, TooEarlyForPriorityError } from '../protocol/demo-v3/index.ts'
import type { Protocol } from '../protocol/protocol.ts'
import { blockHash, type BlockHeader } from '../wire/block-header.ts'
import { operationHash, type Operation } from '../wire/operation.ts'
import type { BakeResult } from './baker.ts'
import type { Chain } from './chain.ts'
import type { StoredHeader } from './store.ts'
import { MempoolRefusedError, type Mempool } from './mempool.ts'
import type { DelegateWatermark, DelegateWatermarks } from './delegate-watermark.ts'

/**
 * A delegate's node on a demo v3 chain (Tezos's baker and endorser daemons of the Emmy* era, in
 * one): on each new head it endorses the head at its slots, reveals the seed nonces it owes (the
 * nonce is recomputed from its key: `seedNonceFor`), and, when it holds a priority at the next
 * level, sets a timer for the earliest time that priority may bake (Emmy*'s `minimal_valid_time`,
 * protocols/sync.md Appendix A.2) and bakes the mempool's operations then. A bake refused as too
 * early (fewer endorsements than hoped) is retried at the time the protocol names; a new head
 * cancels the timer. Endorsements and revelations go through the mempool, which gossips them.
 *
 * On a chain whose next block is not v3, it does nothing (the interval `Baker` bakes v1/v2).
 */

export type DelegateEvent =
  | { kind: 'baked', level: number, priority: number, result: BakeResult }
  | { kind: 'endorsed', level: number, slot: number, hash: string }
  | { kind: 'revealed', level: number, hash: string }
  /** An equivocating delegate's second block at a level (see `equivocate`). */
  | { kind: 'equivocated', level: number, hash: string }
  | { kind: 'error', error: Error }

export interface DelegateBakerOptions {
  chain: Chain
  mempool: Mempool
  /** The delegate's 64-byte Ed25519 secret key. */
  key: Uint8Array
  now?: () => number
  /** Seconds a timestamp may run ahead of the clock (default 1, as the chain's). */
  maxClockDrift?: number
  /** Protocol activations this delegate writes into the blocks it bakes, by level (b58 `P…`). */
  activations?: ReadonlyMap<number, string>
  /**
   * Misbehave for tests and demonstrations: bake a second, different block at every level it bakes
   * (double baking), and endorse every head even when one level has two (double endorsement), so
   * the network's evidence and slashing can be seen.
   */
  equivocate?: boolean
  /**
   * Misbehave for tests and demonstrations: endorse every head, a second head at a level already
   * endorsed included (double endorsement), without baking twice.
   */
  doubleEndorse?: boolean
  onEvent?: (event: DelegateEvent) => void
  /**
   * Whether the node is bootstrapped (default: always): a node still catching up neither bakes nor
   * endorses, as Tezos's baker waits for its node, so it never signs on a head the network left
   * long ago. Call `nudge()` when it becomes true.
   */
  ready?: () => boolean
  /**
   * Where the last levels it baked and endorsed are kept across restarts (the node's store); read
   * on start, written before each block or endorsement leaves. Without it, only in memory.
   */
  watermarks?: DelegateWatermarks
}

export { asDemoV3 }

export class DelegateBaker {
  readonly delegate: Uint8Array
  private readonly chain: Chain
  private readonly mempool: Mempool
  private readonly key: Uint8Array
  private readonly now: () => number
  private readonly maxClockDrift: number
  private readonly activations: ReadonlyMap<number, string>
  private readonly equivocate: boolean
  private readonly doubleEndorse: boolean
  private readonly onEvent?: (event: DelegateEvent) => void
  private readonly ready: () => boolean
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  /** Bumped on each head: a timer or bake of an older head gives up. */
  private generation = 0
  private started = false
  private readonly watermarks: DelegateWatermarks | undefined
  /** The last levels this delegate baked and endorsed (see `duties`, `bake`); undefined until read from the store. */
  private mark: DelegateWatermark | undefined
  private readonly onHead = (): void => { this.headChanged() }

  constructor (options: DelegateBakerOptions) {
    if (options.key.length !== 64) throw new RangeError('delegate baker: the key is a 64-byte Ed25519 secret key')
    this.chain = options.chain
    this.mempool = options.mempool
    this.key = options.key
    this.delegate = publicKeyHash(options.key.subarray(32))
    this.now = options.now ?? Date.now
    this.maxClockDrift = options.maxClockDrift ?? 1
    this.activations = options.activations ?? new Map()
    this.equivocate = options.equivocate ?? false
    this.doubleEndorse = options.doubleEndorse ?? false
    if (options.onEvent !== undefined) this.onEvent = options.onEvent
    this.ready = options.ready ?? (() => true)
    this.watermarks = options.watermarks
    if (this.watermarks === undefined) this.mark = { baked: 0, endorsed: 0 }
  }

  /** Looks at the head again (e.g. once the node is bootstrapped). */
  nudge (): void {
    this.headChanged()
  }

  start (): void {
    if (this.started) return
    this.started = true
    this.chain.on('head', this.onHead)
    const watermarks = this.watermarks
    // Nothing is signed before the watermark is read (the duties run after this, serially); one
    // that cannot be read leaves the delegate idle, reported as an error.
    if (watermarks !== undefined && this.mark === undefined) this.serially(async () => { this.mark = await watermarks.load(this.delegate) })
    this.headChanged()
  }

  async stop (): Promise<void> {
    this.started = false
    this.chain.off('head', this.onHead)
    this.clearTimer()
    this.generation++
    await this.running
  }

  private clearTimer (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private headChanged (): void {
    if (!this.started) return
    this.clearTimer()
    const generation = ++this.generation
    this.serially(async () => { await this.duties(generation) })
  }

  /** Duties run one at a time (a bake never overlaps an endorsement of the head it replaces). */
  private serially (fn: () => Promise<void>): void {
    this.running = this.running.then(fn).catch((e: unknown) => { this.onEvent?.({ kind: 'error', error: e as Error }) })
  }

  /** Endorse the head, reveal owed nonces, and schedule the bake at the next level if this delegate has a priority. */
  private async duties (generation: number): Promise<void> {
    if (generation !== this.generation || !this.ready() || this.mark === undefined) return
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined || this.chain.missingProtocol !== undefined) return
    const plan = await this.chain.atHead(async (head, state) => {
      const level = head.header.shell.level
      const endorsed = level >= 1 ? await protocol.rightsAt(state, level, 0) : undefined
      const next = await protocol.rightsAt(state, level + 1, protocol.parameters.maxPriority)
      const revelations = await revelationsDue(state, protocol.parameters, level + 1, head.hash, this.key)
      return { head, slots: endorsed?.slots, bakers: next.bakers, revelations }
    })
    const { head } = plan
    // Once per level, as Tezos's endorser: endorsing a second head of one level (a branch switch at
    // the same level) would be a double endorsement. An equivocating delegate does it on purpose.
    const level = head.header.shell.level
    if (plan.slots !== undefined && (level > this.mark.endorsed || this.equivocate || this.doubleEndorse)) {
      const endorsement = endorsementOf({ hash: head.hash, level: head.header.shell.level }, plan.slots, this.key)
      if (endorsement !== undefined) {
        await this.raiseMark({ endorsed: level })
        const slot = plan.slots.findIndex(d => bytesEqual(d, this.delegate))
        await this.inject(endorsement, hash => ({ kind: 'endorsed', level: head.header.shell.level, slot, hash }))
      }
    }
    for (const op of plan.revelations) await this.inject(op, hash => ({ kind: 'revealed', level: head.header.shell.level + 1, hash }))
    const priority = plan.bakers.findIndex(d => bytesEqual(d, this.delegate))
    if (priority < 0 || generation !== this.generation) return
    // Hope for full endorsement first: the bake says when, if that was too early.
    const earliest = protocol.earliestTimestamp(head.header.shell.timestamp, priority, protocol.parameters.endorsersPerBlock)
    this.scheduleBake(generation, head, priority, earliest)
  }

  private scheduleBake (generation: number, head: StoredHeader, priority: number, earliest: bigint): void {
    if (generation !== this.generation || !this.started) return
    this.clearTimer()
    const delay = Math.max(0, Number(earliest) * 1000 - this.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.serially(async () => { await this.bake(generation, head, priority) })
    }, delay)
  }

  private async bake (generation: number, head: StoredHeader, priority: number): Promise<void> {
    if (generation !== this.generation || !this.started) return
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) return
    const level = head.header.shell.level + 1
    // Once per level, as Tezos's signer: a second block at a level it baked (after a branch switch
    // below it) would be double baking. An equivocating delegate does it on purpose.
    if (this.mark === undefined || (level <= this.mark.baked && !this.equivocate)) return
    const nowSeconds = BigInt(Math.floor(this.now() / 1000))
    const activate = this.activations.get(level)
    const candidates = this.mempool.operations()
    let baked: Awaited<ReturnType<Protocol['makeBlock']>>
    try {
      baked = await this.chain.atHead(async (current, state) => {
        if (!bytesEqual(current.hash, head.hash)) throw new StaleHeadError()
        const timestamp = nowSeconds > head.header.shell.timestamp ? nowSeconds : head.header.shell.timestamp + 1n
        return await protocol.makeBlock({
          predecessor: head.header,
          predecessorHash: head.hash,
          timestamp,
          candidates,
          state,
          protoLevel: this.chain.nextProtocolLevel.protoLevel,
          bakerKey: this.key,
          ...(activate === undefined ? {} : { activate })
        })
      })
    } catch (e) {
      if (e instanceof StaleHeadError || e instanceof NoBakingRightError) return
      if (e instanceof TooEarlyForPriorityError) {
        this.scheduleBake(generation, head, priority, e.earliest > nowSeconds ? e.earliest : nowSeconds + 1n)
        return
      }
      throw e
    }
    const lesser = this.equivocate ? await this.lesserBlock(head, baked, candidates) : undefined
    await this.raiseMark({ baked: level })
    // A lighter block goes first, so it is announced as the head before the real one outweighs it:
    // peers see both. The real one waits until the other delegates have endorsed the lighter (or
    // a moment), so every node holds each as its head in turn, and a double endorser is seen
    // endorsing both.
    if (lesser?.lighter === true) {
      await this.addEquivocation(level, lesser)
      await this.endorsedByOthers(blockHash(lesser.header), level)
    }
    await this.chain.addBlock(baked.header, baked.operations)
    if (lesser?.lighter === false) await this.addEquivocation(level, lesser)
    let count = 0
    for (const pass of baked.operations) count += pass.length
    this.onEvent?.({
      kind: 'baked',
      level,
      priority,
      result: {
        hash: b58Encode('blockHash', blockHash(baked.header)),
        header: baked.header,
        operations: count,
        refused: baked.refused.map(r => ({ hash: b58Encode('operationHash', operationHash(r.operation)), error: r.error }))
      }
    })
  }

  /**
   * Resolves once the mempool holds an endorsement of `block` (at `level`) from every other
   * delegate with slots at that level, or after `EQUIVOCATION_HOLD_MS` (well under the second
   * after which the next level may be baked on it).
   */
  private async endorsedByOthers (block: Uint8Array, level: number): Promise<void> {
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) return
    const slots = await this.chain.atHead(async (_head, state) => (await protocol.rightsAt(state, level, 0)).slots)
    const others = new Set(slots.filter(d => !bytesEqual(d, this.delegate)).map(d => toHex(d)))
    const missing = (): boolean => {
      const seen = new Set<string>()
      for (const op of this.mempool.operations()) {
        if (!bytesEqual(op.branch, block)) continue
        const e = endorsementIn(op)
        if (e !== undefined && e.level === level && slots[e.slot] !== undefined) seen.add(toHex(slots[e.slot]))
      }
      return [...others].some(d => !seen.has(d))
    }
    if (!missing()) return
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(timer); stop(); resolve() }
      const timer = setTimeout(done, EQUIVOCATION_HOLD_MS)
      const stop = this.mempool.onAdmit(p => { if (p.pass === 0 && !missing()) done() })
    })
  }

  /** Raises the watermark (never lowers it) and keeps it before what it covers is published. */
  private async raiseMark (raise: Partial<DelegateWatermark>): Promise<void> {
    const current = this.mark ?? { baked: 0, endorsed: 0 }
    const next = { baked: Math.max(current.baked, raise.baked ?? 0), endorsed: Math.max(current.endorsed, raise.endorsed ?? 0) }
    if (next.baked === current.baked && next.endorsed === current.endorsed) return
    await this.watermarks?.save(this.delegate, next)
    this.mark = next
  }

  private async addEquivocation (level: number, block: { header: BlockHeader, operations: Operation[][] }): Promise<void> {
    await this.chain.addBlock(block.header, block.operations)
    this.onEvent?.({ kind: 'equivocated', level, hash: b58Encode('blockHash', blockHash(block.header)) })
  }

  /**
   * The double-baking block: the same level and priority with one endorsement fewer (so a lower
   * fitness: the real block then replaces it as the head everywhere), or, without endorsements to
   * drop, the same operations a second later.
   */
  private async lesserBlock (
    head: StoredHeader, baked: { header: BlockHeader, operations: Operation[][] }, candidates: readonly Operation[]
  ): Promise<{ header: BlockHeader, operations: Operation[][], lighter: boolean } | undefined> {
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) return undefined
    const endorsements = baked.operations[0] ?? []
    const dropped = endorsements[endorsements.length - 1]
    const make = async (ops: readonly Operation[], timestamp: bigint): Promise<{ header: BlockHeader, operations: Operation[][] }> =>
      await this.chain.atHead(async (_current, state) => await protocol.makeBlock({
        predecessor: head.header,
        predecessorHash: head.hash,
        timestamp,
        candidates: [...ops],
        state,
        protoLevel: this.chain.nextProtocolLevel.protoLevel,
        bakerKey: this.key
      }))
    try {
      if (dropped !== undefined) return { ...await make(candidates.filter(op => !bytesEqual(op.data, dropped.data)), baked.header.shell.timestamp), lighter: true }
    } catch (e) {
      if (!(e instanceof TooEarlyForPriorityError)) return undefined
    }
    try {
      return { ...await make(candidates, baked.header.shell.timestamp + 1n), lighter: false }
    } catch {
      return undefined
    }
  }

  private async inject (op: Operation, event: (hash: string) => DelegateEvent): Promise<void> {
    try {
      const r = await this.mempool.add(op)
      if (r.status === 'added') this.onEvent?.(event(b58Encode('operationHash', r.hash)))
    } catch (e) {
      // Already applied, already revealed, a head that moved on: nothing owed any more.
      if (!(e instanceof MempoolRefusedError)) throw e
    }
  }
}

/** The longest an equivocating baker holds its second block back (see `endorsedByOthers`). */
const EQUIVOCATION_HOLD_MS = 600

/** The endorsement an operation carries, if it is one. */
function endorsementIn (op: Operation): { level: number, slot: number } | undefined {
  try {
    const c = decodeOperationData(op.data).contents
    return c.kind === 'endorsement' ? { level: c.level, slot: c.slot } : undefined
  } catch {
    return undefined
  }
}

class StaleHeadError extends Error {
  override readonly name = 'StaleHeadError'
}
