import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, encode, toHex } from '../encoding/index.ts'
import { operationCodec, operationHashOfBytes, OPERATION_MAX_BYTES, type Operation } from '../wire/operation.ts'
import type { InvalidOperationCode, InvalidOperationError } from '../protocol/errors.ts'
import { ScratchState } from '../protocol/state.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { operationsHashOfPasses } from '../wire/merkle.ts'
import { BoundedCache } from './cache.ts'
import type { Chain, HeadChange } from './chain.ts'

/**
 * Validated operations waiting for a block (Octez's prevalidator, simplified).
 *
 * Operations are checked in arrival order against the head's state plus the effects of the
 * operations admitted before them, so a second transfer of an account is admitted with the next
 * counter. The pool is bounded in count and bytes; a full pool refuses newcomers (it never evicts:
 * evicting a transfer would strand the later ones of the same account). New operations are
 * announced in batches: hashes collected for `announceDelayMs` (100 ms, Octez's advertisement
 * delay) are handed to `onAnnounce` together, which the gossip layer puts in Current_head.
 *
 * On a new head, the operations the new blocks include leave the pool, those of blocks taken
 * off the chain by a branch switch come back, and everything is checked again on the new state:
 * what became invalid (counter already used, branch too old, an endorsement of the old head) is
 * dropped. (An endorsement of a sibling of the head is refused as its branch is not on the chain:
 * only the head passes both that and the level check.) The pool is kept by validation pass and handed out consensus operations first.
 */

export type MempoolRefusalCode =
  | 'invalid' // the protocol refuses it (see `cause`)
  | 'branch_not_live' // its branch is unknown or older than the protocol's TTL
  | 'too_large'
  | 'full'
  | 'stopped'

export class MempoolRefusedError extends Error {
  override readonly name = 'MempoolRefusedError'
  readonly code: MempoolRefusalCode
  /** b58 `o…`. */
  readonly operation: string
  readonly protocolError?: InvalidOperationError

  constructor (code: MempoolRefusalCode, operation: string, message: string, protocolError?: InvalidOperationError) {
    super(`operation ${operation} refused (${code}): ${message}`)
    this.code = code
    this.operation = operation
    if (protocolError !== undefined) this.protocolError = protocolError
  }
}

export interface MempoolOptions {
  chain: Chain
  /** Most operations held (default 5000). */
  maxOperations?: number
  /** Most bytes held, counting encoded operations (default 8 MiB). */
  maxBytes?: number
  /** Batching delay of announcements (default 100 ms). */
  announceDelayMs?: number
  /** Receives the hashes of operations admitted during the last delay. */
  onAnnounce?: (hashes: Uint8Array[]) => void
}

export interface PendingOperation {
  hash: Uint8Array
  operation: Operation
  bytes: number
  pass: number
}

export interface AddResult {
  hash: Uint8Array
  /** `known` when it was already in the pool. */
  status: 'added' | 'known'
}

/**
 * Protocol verdicts that hold whatever the state (Octez's "refused" class): a bad signature stays
 * bad. A used counter is not among them: a branch switch can make it unused again.
 */
const PERMANENT_REFUSALS = new Set<InvalidOperationCode>(['malformed', 'bad_signature', 'bad_public_key', 'invalid_amount'])

/**
 * Refusals that a later head may lift: an operation whose counter skips ahead waits for the
 * operation before it, often one in a block this node has not applied yet. Octez's prevalidator
 * keeps such operations (`Branch_delayed`, `src/lib_shell/prevalidator_classification.ml`) and
 * tries them again on every new head; so does this pool, for at most `DELAYED_OPERATIONS`.
 */
const DELAYED_REFUSALS = new Set<InvalidOperationCode>(['counter_in_the_future'])
const DELAYED_OPERATIONS = 1000

/** Admitted operations in admission order (a Map keeps insertion order) and the state after them. */
class Contents {
  readonly pending = new Map<string, PendingOperation>()
  bytes = 0
  readonly scratch: ScratchState
  constructor (scratch: ScratchState) { this.scratch = scratch }
}

const opHash = (hash: Uint8Array): string => b58Encode('operationHash', hash)

export class Mempool {
  readonly chain: Chain
  readonly maxOperations: number
  readonly maxBytes: number
  private readonly announceDelayMs: number
  private readonly onAnnounce?: (hashes: Uint8Array[]) => void
  private contents: Contents
  /** Recently refused operations: a peer re-announcing one is not re-validated. */
  private readonly refused = new BoundedCache<string, MempoolRefusedError>(10_000)
  /** Operations refused for now (`DELAYED_REFUSALS`), tried again on each new head; oldest dropped first. */
  private readonly delayed = new Map<string, Operation>()
  /** Operations that left the pool in a block of the chain, recently: a peer re-announcing one is not fetched. */
  private readonly included = new BoundedCache<string, true>(10_000)
  private toAnnounce: Uint8Array[] = []
  private announceTimer: NodeJS.Timeout | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private stopped = false
  private readonly onHead: (change: HeadChange) => void
  private readonly onValidated: (v: { block: { hex: string }, operationHashes: Uint8Array[] }) => void
  /** Operation hashes of the last blocks validated (`block:validated`), by block, until one is applied. */
  private readonly validatedOperations = new BoundedCache<string, Uint8Array[]>(8)
  private readonly admissionListeners = new Set<(p: PendingOperation) => void>()

  constructor (options: MempoolOptions) {
    this.chain = options.chain
    this.maxOperations = options.maxOperations ?? 5000
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024
    this.announceDelayMs = options.announceDelayMs ?? 100
    if (options.onAnnounce !== undefined) this.onAnnounce = options.onAnnounce
    this.contents = new Contents(new ScratchState(this.chain.state))
    this.onHead = change => {
      // A validated block now applied: its operations count as included at once, not once the
      // queued reclassification reads them. The head moves before its store write ends, and a
      // peer's announcement of it, listing them, may come meanwhile: they are no news to fetch.
      for (const block of change.applied) {
        const hashes = this.validatedOperations.get(block.hex)
        if (hashes === undefined) continue
        this.validatedOperations.delete(block.hex)
        for (const h of hashes) this.included.set(toHex(h), true)
      }
      void this.exclusive(async () => { await this.reclassify(change) }).catch(() => {})
    }
    this.onValidated = ({ block, operationHashes }) => { if (operationHashes.length > 0) this.validatedOperations.set(block.hex, operationHashes) }
    this.chain.on('head', this.onHead)
    this.chain.on('block:validated', this.onValidated)
  }

  get size (): number {
    return this.contents.pending.size
  }

  get bytes (): number {
    return this.contents.bytes
  }

  has (hash: Uint8Array): boolean {
    return this.contents.pending.has(toHex(hash))
  }

  /**
   * Whether the pool has already handled this operation: it holds it, refused it for good, or saw
   * it leave in a recent block (Octez's prevalidator, `src/lib_shell/prevalidator.ml`, fetches an
   * announced operation only if it is none of these). Such an operation is never fetched.
   */
  handled (hash: Uint8Array): boolean {
    const hex = toHex(hash)
    return this.contents.pending.has(hex) || this.included.has(hex) || this.refused.has(hex) || this.delayed.has(hex)
  }

  get (hash: Uint8Array): Operation | undefined {
    return this.contents.pending.get(toHex(hash))?.operation
  }

  /**
   * Admitted operations, by validation pass (consensus operations first, as Octez's prevalidator
   * classifies them), each pass in admission order: what a baker takes.
   */
  operations (): Operation[] {
    return this.byPass().flat()
  }

  /** Admitted operations grouped by validation pass (index = pass), each in admission order. */
  byPass (): Operation[][] {
    const out: Operation[][] = Array.from({ length: this.chain.protocol.validationPasses }, () => [])
    for (const p of this.contents.pending.values()) (out[p.pass] ??= []).push(p.operation)
    return out
  }

  hashes (): Uint8Array[] {
    return [...this.contents.pending.values()].map(p => p.hash)
  }

  /**
   * A block's operations rebuilt from the pool, with no fetch, or undefined (they are then
   * fetched). Two candidates, each accepted only when its Merkle root is the header's
   * operations_hash (the check a fetched answer gets):
   * - `listed`, the block's operation hashes in block order that its announcer sent (gossip.md
   *   §4.3), every one picked from the pool by hash and grouped by its validation pass: this
   *   works whatever else the pool holds and whatever order its operations arrived in;
   * - else every operation held, grouped by pass in admission order (the order a baker takes
   *   them), for an announcer that lists nothing.
   * Octez's `Get_operations_for_blocks` always fetches whole passes; a pool that already holds
   * them makes that round trip unnecessary.
   */
  operationsOfBlock (header: BlockHeader, listed: readonly Uint8Array[] = []): Operation[][] | undefined {
    const pool = this.contents.pending
    if (pool.size === 0) return undefined
    if (listed.length > 0) {
      const picked: PendingOperation[] = []
      for (const hash of listed) {
        const p = pool.get(toHex(hash))
        if (p === undefined) break
        picked.push(p)
      }
      const block = picked.length === listed.length ? this.passesIfBlock(header, picked) : undefined
      if (block !== undefined) return block
    }
    return this.passesIfBlock(header, pool.values())
  }

  /** `candidates` grouped by validation pass (order kept), if their Merkle root is the header's operations_hash. */
  private passesIfBlock (header: BlockHeader, candidates: Iterable<PendingOperation>): Operation[][] | undefined {
    const passes = header.shell.validationPass
    const hashes: Uint8Array[][] = Array.from({ length: passes }, () => [])
    const operations: Operation[][] = Array.from({ length: passes }, () => [])
    for (const p of candidates) {
      if (p.pass >= passes) return undefined
      hashes[p.pass].push(p.hash)
      operations[p.pass].push(p.operation)
    }
    return bytesEqual(operationsHashOfPasses(hashes), header.shell.operationsHash) ? operations : undefined
  }

  /** Validates and admits an operation (injected locally or fetched from a peer); throws `MempoolRefusedError`. */
  async add (operation: Operation): Promise<AddResult> {
    return await this.exclusive(async () => await this.admit(operation))
  }

  /** Calls `listener` with each operation admitted (re-admissions after a head change included). */
  onAdmit (listener: (p: PendingOperation) => void): () => void {
    this.admissionListeners.add(listener)
    return () => { this.admissionListeners.delete(listener) }
  }

  /** Waits for pending work (admissions and head changes) to finish. */
  async idle (): Promise<void> {
    await this.exclusive(async () => {})
  }

  /** Stops announcing and reacting to heads; later `add` calls are refused. */
  stop (): void {
    this.stopped = true
    this.chain.off('head', this.onHead)
    this.chain.off('block:validated', this.onValidated)
    if (this.announceTimer !== undefined) clearTimeout(this.announceTimer)
    this.announceTimer = undefined
    this.toAnnounce = []
  }

  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }

  private async admit (operation: Operation): Promise<AddResult> {
    const bytes = encode(operationCodec, operation)
    const hash = operationHashOfBytes(bytes)
    const hex = toHex(hash)
    if (this.stopped) throw new MempoolRefusedError('stopped', opHash(hash), 'the mempool is stopped')
    const contents = this.contents
    if (contents.pending.has(hex)) return { hash, status: 'known' }
    const earlier = this.refused.get(hex)
    if (earlier !== undefined) throw earlier
    if (bytes.length > OPERATION_MAX_BYTES) throw new MempoolRefusedError('too_large', opHash(hash), `${bytes.length} bytes`)
    if (contents.pending.size >= this.maxOperations) {
      throw new MempoolRefusedError('full', opHash(hash), `the mempool holds its maximum of ${this.maxOperations} operations`)
    }
    if (contents.bytes + bytes.length > this.maxBytes) {
      throw new MempoolRefusedError('full', opHash(hash), `the mempool holds ${contents.bytes} of at most ${this.maxBytes} bytes`)
    }
    const refusal = await this.check(contents, operation, hash, bytes.length, true)
    if (refusal !== undefined) throw this.remember(hex, refusal, operation)
    return { hash, status: 'added' }
  }

  /** Checks against the scratch state and admits; returns the refusal instead of throwing. */
  private async check (contents: Contents, operation: Operation, hash: Uint8Array, size: number, announce: boolean): Promise<MempoolRefusedError | undefined> {
    if (!await this.chain.isLiveBranch(operation.branch)) {
      return new MempoolRefusedError('branch_not_live', opHash(hash), `branch ${b58Encode('blockHash', operation.branch)} is unknown or too old`)
    }
    const verdict = await this.chain.protocol.validateOperation(operation, contents.scratch)
    if (!verdict.ok) return new MempoolRefusedError('invalid', opHash(hash), verdict.error.message, verdict.error)
    const pending = { hash, operation, bytes: size, pass: verdict.pass }
    contents.pending.set(toHex(hash), pending)
    contents.bytes += size
    for (const listener of this.admissionListeners) listener(pending)
    if (announce) this.announce(hash)
    return undefined
  }

  /**
   * Remembers refusals that no later state can lift (Octez's "refused" class), so they are not
   * re-checked, and keeps the operations a later head may admit (`DELAYED_REFUSALS`).
   */
  private remember (hex: string, refusal: MempoolRefusedError, operation: Operation): MempoolRefusedError {
    const code = refusal.protocolError?.code
    if (code !== undefined && PERMANENT_REFUSALS.has(code)) this.refused.set(hex, refusal)
    if (code !== undefined && DELAYED_REFUSALS.has(code)) {
      this.delayed.delete(hex)
      this.delayed.set(hex, operation)
      if (this.delayed.size > DELAYED_OPERATIONS) this.delayed.delete(this.delayed.keys().next().value as string)
    }
    return refusal
  }

  private announce (hash: Uint8Array): void {
    if (this.onAnnounce === undefined || this.stopped) return
    this.toAnnounce.push(hash)
    this.announceTimer ??= setTimeout(() => {
      this.announceTimer = undefined
      const batch = this.toAnnounce.filter(h => this.has(h))
      this.toAnnounce = []
      if (batch.length > 0) this.onAnnounce?.(batch)
    }, this.announceDelayMs)
  }

  /** New head: drop what it includes, take back what a switch removed, re-check the rest on the new state. */
  private async reclassify (change: HeadChange): Promise<void> {
    if (this.stopped) return
    const candidates: Operation[] = []
    for (const block of change.removed) {
      for (let pass = 0; pass < block.header.shell.validationPass; pass++) {
        candidates.push(...await this.chain.getOperations(block.hash, pass) ?? [])
      }
    }
    const fromRemoved = candidates.length
    candidates.push(...[...this.contents.pending.values()].map(p => p.operation))
    // Delayed operations after those held, in the order they came (an earlier counter first).
    const fromDelayed = candidates.length
    candidates.push(...this.delayed.values())
    this.delayed.clear()
    const included = new Set<string>()
    if (candidates.length > 0 && change.applied.length <= this.chain.protocol.maxOperationsTtl) {
      // Beyond the TTL every held operation's branch is dead anyway; no need to read those blocks.
      for (const block of change.applied) {
        for (let pass = 0; pass < block.header.shell.validationPass; pass++) {
          for (const op of await this.chain.getOperations(block.hash, pass) ?? []) included.add(toHex(operationHashOfBytes(encode(operationCodec, op))))
        }
      }
    }
    for (const hex of included) this.included.set(hex, true)
    // Built aside and swapped in at the end, so readers (a baker) never see a half-rebuilt pool.
    const next = new Contents(new ScratchState(this.chain.state))
    for (let i = 0; i < candidates.length; i++) {
      const bytes = encode(operationCodec, candidates[i])
      const hash = operationHashOfBytes(bytes)
      const hex = toHex(hash)
      if (included.has(hex) || next.pending.has(hex)) continue
      if (next.pending.size >= this.maxOperations || next.bytes + bytes.length > this.maxBytes) continue
      // Operations back from removed blocks, and delayed ones now admitted, are news to peers; the
      // others were announced already.
      const refusal = await this.check(next, candidates[i], hash, bytes.length, i < fromRemoved || i >= fromDelayed)
      if (refusal !== undefined) this.remember(hex, refusal, candidates[i])
    }
    this.contents = next
  }
}
