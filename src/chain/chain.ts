import { b58Encode } from '../crypto/index.ts'
import { encode, toHex } from '../encoding/index.ts'
import { blockHashOfBytes, blockHeaderCodec, type BlockHeader } from '../wire/block-header.ts'
import { compareFitness } from '../wire/fitness.ts'
import type { Operation } from '../wire/operation.ts'
import { InvalidBlockError } from '../protocol/errors.ts'
import type { Protocol } from '../protocol/protocol.ts'
import { ProtocolRegistry } from '../protocol/registry.ts'
import type { StateReader } from '../protocol/state.ts'
import type { Database } from '../storage/database.ts'
import { type checkHeader, prepareOperations } from './checks.ts'
import { CheckpointConflictError, UnknownProtocolError } from './errors.ts'
import { genesisHeader, resolveGenesis, GenesisConfigError, type Genesis, type GenesisConfig } from './genesis.ts'
import { BLOCK_STORED, BLOCK_VALID, type InvalidRecord } from './records.ts'
import {
  ChainStore, ChainStoreError, storedHeader, type StoreCacheSizes, type StoredHeader
} from './store.ts'
import { Transition, type PreparedBlock, type ProtocolSource } from './transition.ts'
import { ChainReader } from './chain-reader.ts'
import { addStoreOnly, storedBranchBelow } from './stored-blocks.ts'
import { cabooseOf, CheckpointStartError, checkpointStartBatch, checkpointStartProblem } from './checkpoint-start.ts'
import { ChainWrites } from './chain-writes.ts'
import { RunChecks, type BlockInput, type RunLookUps } from './run-checks.ts'

export type { HeadChange, ChainEvents } from './chain-reader.ts'
export type { BlockInput } from './run-checks.ts'

export interface ChainOptions {
  /** The genesis protocol (the genesis names its hash); installed in `protocols` if it is not yet. */
  protocol: Protocol
  /**
   * The protocols installed besides the genesis one (those later blocks may activate): a registry
   * the embedder keeps registering into, or a list. Default: only `protocol`.
   */
  protocols?: ProtocolRegistry | readonly Protocol[]
  genesis: GenesisConfig
  /** Seconds a block's timestamp may be ahead of our clock (Octez: 1 s). */
  maxClockDrift?: number
  /** Clock in milliseconds (defaults to `Date.now`). */
  now?: () => number
  cache?: StoreCacheSizes
  /** While applying a long run of blocks, commit every this many (default 100). */
  commitEvery?: number
}

export interface AddBlocksResult {
  head: StoredHeader
  headChanged: boolean
  /** Blocks written by this call (applied or only stored). */
  stored: number
  /** Blocks that were already stored. */
  known: number
}

const b58 = (hash: Uint8Array): string => b58Encode('blockHash', hash)

/**
 * The chain: the store plus the protocol plus fork choice. Every change goes through
 * `addBlocks`, one call at a time: headers are checked (shell, then protocol), operations are
 * checked against operations_hash, and if the new branch has a better fitness than the head the
 * chain rewinds to the common ancestor and applies the branch, committing atomically. Blocks that
 * do not beat the head are stored, not applied (equal fitness keeps the current head, as Octez).
 */
export class Chain extends ChainReader {
  /** The checks of a run of blocks before the fork choice. */
  private readonly checks: RunChecks
  private readonly now: () => number
  private readonly commitEvery: number
  /** Commits of applied transitions, one write at a time, and the head events around them. */
  private readonly writes: ChainWrites
  private queue: Promise<unknown> = Promise.resolve()
  private readonly protocolSource: ProtocolSource

  private constructor (store: ChainStore, options: ChainOptions, genesis: Genesis, registry: ProtocolRegistry) {
    super(store, registry, genesis)
    this.shellOnly = options.protocol.shellOnly === true
    this.protocolSource = { registry, genesisProtocol: genesis.protocol, shellOnly: this.shellOnly }
    this.now = options.now ?? Date.now
    this.checks = new RunChecks(this, {
      now: this.now, maxClockDrift: options.maxClockDrift ?? 1, recordInvalid: async (blocks, error) => await this.recordInvalid(blocks, error)
    })
    this.commitEvery = Math.max(1, options.commitEvery ?? 100)
    this.writes = new ChainWrites(store, (name, ...args) => { this.emitSafely(name, ...args) }, async () => { await this.refreshProtocolLevels() })
  }

  /** Opens (or creates, from the genesis) the chain in `db`. */
  static async open (db: Database, options: ChainOptions): Promise<Chain> {
    const genesis = resolveGenesis(options.genesis)
    if (genesis.protocol !== options.protocol.hash) {
      throw new GenesisConfigError(`genesis names protocol ${genesis.protocol} but the node runs ${options.protocol.name} ${options.protocol.hash}`)
    }
    const registry = options.protocols instanceof ProtocolRegistry ? options.protocols : new ProtocolRegistry(options.protocols ?? [])
    if (!registry.has(options.protocol.hash)) registry.register(options.protocol)
    const initial = options.protocol.genesis()
    const store = await ChainStore.open(db, genesis, { header: genesisHeader(genesis, initial.context), state: initial.writes }, options.cache)
    const chain = new Chain(store, options, genesis, registry)
    chain.cabooseValue = await cabooseOf(store)
    await chain.refreshProtocolLevels()
    registry.onRegister((_, hash) => { chain.missingProtocols.update(hash, { state: 'installed' }) })
    return chain
  }

  /**
   * Runs `fn` while no block can be added, so the head and its state stay the same throughout
   * (a baker builds its block this way). `fn` must not add blocks itself.
   */
  async atHead<T> (fn: (head: StoredHeader, state: StateReader) => Promise<T>): Promise<T> {
    return await this.exclusive(async () => await fn(this.head, this.state))
  }

  /** Sets the checkpoint: later blocks at its level must be it, and no branch may fork below it. */
  async setCheckpoint (hash: Uint8Array): Promise<void> {
    await this.exclusive(async () => {
      const h = await this.store.getHeader(toHex(hash))
      if (h === undefined) throw new ChainStoreError(`checkpoint ${b58(hash)} is not a stored block`)
      const batch = this.store.newBatch()
      batch.setCheckpoint({ hash: h.hash, level: h.header.shell.level })
      await this.store.commit(batch)
    })
  }

  /**
   * Starts a fresh chain from a trusted checkpoint block (shell-only mode): the block, whose
   * operations must match its operations_hash, becomes head, checkpoint and caboose, with no
   * predecessor stored. Throws `CheckpointStartError` when the store already holds a chain.
   */
  async startFromCheckpoint (header: BlockHeader, operations: Operation[][]): Promise<StoredHeader> {
    return await this.exclusive(async () => {
      const bytes = encode(blockHeaderCodec, header)
      const stored = storedHeader(blockHashOfBytes(bytes), header, bytes)
      const problem = checkpointStartProblem(this.head, this.checkpoint, header, stored.hash, this.shellOnly)
      if (problem !== undefined) throw new CheckpointStartError(problem)
      const ops = prepareOperations(header, operations, stored.hash)
      const previous = this.head
      await this.store.commit(checkpointStartBatch(this.store, stored, ops))
      this.cabooseValue = { hash: stored.hash, level: header.shell.level }
      await this.refreshProtocolLevels()
      this.emitSafely('head', { head: stored, previous, applied: [stored], removed: [] })
      return stored
    })
  }

  /**
   * Checks a header against its predecessor (shell rules, then the protocol's), as a sync does
   * before fetching operations. The protocol's checks run when the header's protocol is known
   * from the current chain; otherwise (a level not activated yet here) they wait for `addBlocks`.
   */
  precheckHeader (header: BlockHeader, predecessor: BlockHeader): ReturnType<typeof checkHeader> {
    return this.checks.checkHeader(header, predecessor).verdict
  }

  /**
   * Adds one block (what gossip and the bakers hand over). Unlike a run given to `addBlocks`, a
   * new head this brings is the head, with its `head` event, as soon as it is applied, while its
   * store write goes on (see `ChainWrites`): a crash may take that one head back, and peers
   * give it back. A run (a bootstrap) reports each head once it is written.
   */
  async addBlock (header: BlockHeader, operations: Operation[][]): Promise<AddBlocksResult> {
    return await this.exclusive(async () => {
      this.writes.headBeforeWrite = true
      try {
        return await this.addBlocksNow([{ header, operations }])
      } finally {
        this.writes.headBeforeWrite = false
      }
    })
  }

  /**
   * Waits for the blocks being added and for their store writes. A head `addBlock` reported is
   * written behind it (`ChainStore.commit`): a clean stop settles the chain before the database
   * closes, so that it restarts on the last head it reported.
   */
  async settle (): Promise<void> {
    await this.exclusive(async () => {})
    await this.store.settled()
  }

  /**
   * Adds a run of blocks, each the predecessor of the next (one block is a run of one). Blocks are
   * checked in order; at the first refusal the blocks before it are still taken, then the error is
   * thrown: `UnknownPredecessorError`, `KnownInvalidBlockError`, `FutureBlockError`,
   * `CheckpointConflictError`, `OperationsMismatchError` (nothing recorded), or `InvalidBlockError`
   * (the block, and the given blocks after it, are recorded known invalid; `error.block` names it).
   */
  async addBlocks (blocks: readonly BlockInput[]): Promise<AddBlocksResult> {
    return await this.exclusive(async () => await this.addBlocksNow(blocks))
  }

  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }

  /**
   * Works through the run in chunks of `commitEvery` blocks. Signature prechecks of every chunk
   * are started at once (on the protocol's worker threads), so while one chunk is applied here
   * the next ones are being verified elsewhere.
   */
  private async addBlocksNow (blocks: readonly BlockInput[]): Promise<AddBlocksResult> {
    const chunks: Array<readonly BlockInput[]> = []
    for (let i = 0; i < blocks.length; i += this.commitEvery) chunks.push(blocks.slice(i, i + this.commitEvery))
    // Signatures are prechecked by the protocol of the next block; blocks of another protocol level are checked when applied.
    const precheck = this.protocol
    const prechecks = chunks.map(async chunk => { await precheck.precheckBlocks?.(chunk).catch(() => {}) })
    const startHead = this.head
    const total: AddBlocksResult = { head: startHead, headChanged: false, stored: 0, known: 0 }
    try {
      await this.addChunks(chunks, prechecks, total)
      await this.writes.written()
    } finally {
      // On a failure too, the last write ends before the next caller reads the store.
      await this.writes.written().catch(() => {})
    }
    total.head = this.head
    total.headChanged = this.head.hex !== startHead.hex
    return total
  }

  private async addChunks (chunks: Array<readonly BlockInput[]>, prechecks: Array<Promise<void>>, total: AddBlocksResult): Promise<void> {
    let last: StoredHeader | undefined
    // Each chunk's store look-ups run while the chunk before it is applied.
    let lookUps = chunks.length > 0 ? this.checks.lookUp(chunks[0]) : undefined
    for (let k = 0; k < chunks.length; k++) {
      await prechecks[k]
      const current = lookUps as Promise<RunLookUps>
      lookUps = k + 1 < chunks.length ? this.checks.lookUp(chunks[k + 1]) : undefined
      lookUps?.catch(() => {})
      // Prepared while the previous chunk's commit is written; chosen once it is.
      const { prepared, known, failure } = await this.checks.prepare(chunks[k], await current, last)
      await this.writes.written()
      last = prepared[prepared.length - 1]?.stored
      total.known += known
      if (prepared.length > 0) total.stored += (await this.choose(prepared)).stored
      if (failure !== undefined) {
        await Promise.all(prechecks)
        throw failure
      }
    }
  }

  /**
   * Fork choice for a checked run: if its last block beats the head, rewind to the common
   * ancestor and apply the branch (committing every `commitEvery` blocks once the branch is
   * ahead); otherwise only store the new blocks.
   */
  private async choose (prepared: PreparedBlock[]): Promise<{ stored: number }> {
    const fresh = prepared.filter(b => b.isNew).length
    const startHead = this.head
    const tip = prepared[prepared.length - 1].stored
    if (compareFitness(tip.header.shell.fitness, startHead.header.shell.fitness) <= 0) {
      const batch = this.store.newBatch()
      addStoreOnly(batch, prepared, BLOCK_STORED)
      if (batch.ops.length > 0) await this.store.commit(batch)
      return { stored: fresh }
    }
    // Blocks already on the current chain need nothing; the branch starts after them.
    let first = 0
    while (first < prepared.length && await this.store.mainChainAt(prepared[first].stored.header.shell.level) === prepared[first].stored.hex) first++
    const branch = [...await storedBranchBelow(this.store, prepared[first]), ...prepared.slice(first)]
    const forkLevel = branch[0].stored.header.shell.level - 1
    const checkpoint = this.store.checkpoint
    if (forkLevel < checkpoint.level && startHead.header.shell.level >= checkpoint.level) {
      throw new CheckpointConflictError(b58(tip.hash), `the branch forks at level ${forkLevel}, below the checkpoint level ${checkpoint.level}`)
    }
    let t = new Transition(this.store, this.protocolSource)
    while (t.tip.header.shell.level > forkLevel) await t.undoTip()
    let failure: InvalidBlockError | undefined
    let unknownProtocol: UnknownProtocolError | undefined
    let failedAt = branch.length
    for (let i = 0; i < branch.length; i++) {
      try {
        // A new head on our head (what gossip brings) is advertised once validated, before it is
        // applied (gossip.md §9); the blocks of a longer branch (a bootstrap) are applied at once.
        await t.apply(branch[i], branch.length === 1 && branch[i].isNew ? () => { this.validated(branch[i]) } : undefined)
      } catch (e) {
        if (e instanceof UnknownProtocolError) {
          // Not the block's fault: the branch is followed up to its predecessor, and the block is
          // left out of the store (it comes back from peers once the protocol is installed).
          unknownProtocol = e
          failedAt = i
          break
        }
        if (!(e instanceof InvalidBlockError)) throw e
        failure = e
        failedAt = i
        break
      }
      if (t.applied.length >= this.commitEvery && i < branch.length - 1) {
        await this.writes.written()
        t.detach()
        if (this.beatsHead(t.tip)) {
          this.writes.start(t)
          t = t.successor()
        }
      }
    }
    await this.writes.written()
    t.detach()
    if (failure !== undefined) {
      await this.recordInvalid(branch.slice(failedAt).map(b => b.stored), failure, t)
    }
    if (!t.isEmpty && this.beatsHead(t.tip)) {
      // Left in flight: the caller prepares the next blocks during the write (`written`).
      this.writes.start(t)
      if (failure !== undefined || unknownProtocol !== undefined) await this.writes.written()
    } else {
      // The branch did not get ahead: keep its new blocks (valid ones as such) and any invalid records.
      const batch = this.store.newBatch()
      batch.ops.push(...t.batch.ops.filter(op => op.sublevel === this.store.invalidLevel))
      addStoreOnly(batch, branch.slice(0, failedAt), BLOCK_VALID)
      await this.store.commit(batch)
    }
    if (failure !== undefined) throw failure
    if (unknownProtocol !== undefined) {
      if (this.missingProtocols.note(unknownProtocol, this.now())) this.emit('protocol:missing', unknownProtocol)
      throw unknownProtocol
    }
    return { stored: fresh }
  }

  /** A new tip passed validation and is being applied: its operations are served, and it may be advertised. */
  private validated (block: PreparedBlock): void {
    this.store.noteValidated(block.stored.hex, { listHashes: block.ops.listHashes, encodedPasses: block.ops.encodedPasses })
    this.emitSafely('block:validated', { block: block.stored, operationHashes: block.ops.hashes })
  }

  private beatsHead (h: StoredHeader): boolean {
    return compareFitness(h.header.shell.fitness, this.head.header.shell.fitness) > 0
  }

  /**
   * Records `blocks[0]` invalid for `error`, and the blocks after it (its descendants) as having
   * an invalid predecessor; written with `t` if given, else at once. Returns the error, naming the block.
   */
  private async recordInvalid (blocks: StoredHeader[], error: InvalidBlockError, t?: Transition): Promise<InvalidBlockError> {
    // A batch of its own is not written beside the write in flight.
    if (t === undefined) await this.writes.written()
    const batch = t?.batch ?? this.store.newBatch()
    const at = this.now()
    blocks.forEach((b, i) => {
      const record: InvalidRecord = i === 0
        ? { level: b.header.shell.level, code: error.code, message: error.message, at, ...(error.afterValidation === true ? { afterValidation: true } : {}) }
        : { level: b.header.shell.level, code: 'invalid_predecessor', message: `descends from invalid block ${b58(blocks[0].hash)}`, at }
      batch.putInvalid(b.hex, record)
    })
    if (t === undefined) await this.store.commit(batch)
    error.block = { hash: b58(blocks[0].hash), level: blocks[0].header.shell.level }
    return error
  }
}
