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
import { type checkHeader, checkProtocolHeader, checkShellHeader, prepareOperations, type PreparedOperations } from './checks.ts'
import {
  CheckpointConflictError, FutureBlockError, KnownInvalidBlockError, NotAChainError, UnknownPredecessorError, UnknownProtocolError
} from './errors.ts'
import type { Verdict } from '../protocol/errors.ts'
import { genesisHeader, resolveGenesis, GenesisConfigError, type Genesis, type GenesisConfig } from './genesis.ts'
import { BLOCK_STORED, BLOCK_VALID, type BlockRecord, type InvalidRecord } from './records.ts'
import {
  ChainStore, ChainStoreError, storedHeader, type StoreCacheSizes, type StoredHeader
} from './store.ts'
import { Transition, type PreparedBlock, type ProtocolSource } from './transition.ts'
import { headerHashOf } from './received-hashes.ts'
import { ChainReader } from './chain-reader.ts'
import { addStoreOnly, loadStoredOperations, storedBranchBelow } from './stored-blocks.ts'
import { cabooseOf, CheckpointStartError, checkpointStartBatch, checkpointStartProblem } from './checkpoint-start.ts'

import type { ChainEvents } from './chain-reader.ts'
import { PROTO_KEY_PREFIX as SHELL_PROTO_KEY_PREFIX } from './protocol-levels.ts'

export type { HeadChange, ChainEvents } from './chain-reader.ts'

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

export interface BlockInput {
  header: BlockHeader
  operations: Operation[][]
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
  private readonly maxClockDrift: number
  private readonly now: () => number
  private readonly commitEvery: number
  /** The last commit's write while the next blocks are prepared (see `startWrite`). */
  private pendingWrite: Promise<void> | undefined
  private queue: Promise<unknown> = Promise.resolve()
  /** Set while `addBlock` runs: its new head is announced before its write is done. */
  private headBeforeWrite = false
  private readonly protocolSource: ProtocolSource

  private constructor (store: ChainStore, options: ChainOptions, genesis: Genesis, registry: ProtocolRegistry) {
    super(store, registry, genesis)
    this.shellOnly = options.protocol.shellOnly === true
    this.protocolSource = { registry, genesisProtocol: genesis.protocol, shellOnly: this.shellOnly }
    this.maxClockDrift = options.maxClockDrift ?? 1
    this.now = options.now ?? Date.now
    this.commitEvery = Math.max(1, options.commitEvery ?? 100)
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
      try {
        this.emit('head', { head: stored, previous, applied: [stored], removed: [] })
      } catch (e) {
        process.nextTick(() => { throw e })
      }
      return stored
    })
  }

  /**
   * Checks a header against its predecessor (shell rules, then the protocol's), as a sync does
   * before fetching operations. The protocol's checks run when the header's protocol is known
   * from the current chain; otherwise (a level not activated yet here) they wait for `addBlocks`.
   */
  precheckHeader (header: BlockHeader, predecessor: BlockHeader): ReturnType<typeof checkHeader> {
    return this.checkHeaderNow(header, predecessor).verdict
  }

  /** Shell checks, the protocol level's plausibility, and the protocol's checks when its protocol is known. */
  private checkHeaderNow (header: BlockHeader, predecessor: BlockHeader): { verdict: Verdict<InvalidBlockError>, checkedBy?: Protocol } {
    const shell = checkShellHeader(header, predecessor)
    if (!shell.ok) return { verdict: shell }
    const proto = header.shell.proto
    const predProto = predecessor.shell.level === 0 ? 0 : predecessor.shell.proto
    if (proto !== predProto && proto !== (predProto + 1) % 256) {
      return { verdict: { ok: false, error: new InvalidBlockError('bad_proto_level', `protocol level ${proto} after a block at protocol level ${predProto}`) } }
    }
    const protocol = this.protocolOfHeader(header)
    if (protocol === undefined) return { verdict: shell }
    return { verdict: checkProtocolHeader(protocol, header, predecessor), checkedBy: protocol }
  }

  /**
   * Adds one block (what gossip and the bakers hand over). Unlike a run given to `addBlocks`, a
   * new head this brings is the head, with its `head` event, as soon as it is applied, while its
   * store write goes on (see `commitTransition`): a crash may take that one head back, and peers
   * give it back. A run (a bootstrap) reports each head once it is written.
   */
  async addBlock (header: BlockHeader, operations: Operation[][]): Promise<AddBlocksResult> {
    return await this.exclusive(async () => {
      this.headBeforeWrite = true
      try {
        return await this.addBlocksNow([{ header, operations }])
      } finally {
        this.headBeforeWrite = false
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
      await this.written()
    } finally {
      // On a failure too, the last write ends before the next caller reads the store.
      await this.written().catch(() => {})
    }
    total.head = this.head
    total.headChanged = this.head.hex !== startHead.hex
    return total
  }

  private async addChunks (chunks: Array<readonly BlockInput[]>, prechecks: Array<Promise<void>>, total: AddBlocksResult): Promise<void> {
    let last: StoredHeader | undefined
    // Each chunk's store look-ups run while the chunk before it is applied.
    let lookUps = chunks.length > 0 ? this.lookUp(chunks[0]) : undefined
    for (let k = 0; k < chunks.length; k++) {
      await prechecks[k]
      const current = lookUps as ReturnType<Chain['lookUp']>
      lookUps = k + 1 < chunks.length ? this.lookUp(chunks[k + 1]) : undefined
      lookUps?.catch(() => {})
      // Prepared while the previous chunk's commit is written; chosen once it is.
      const { prepared, known, failure } = await this.prepare(chunks[k], await current, last)
      await this.written()
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
   * Header-level checks of each block, stopping at the first refusal (which is returned, not
   * thrown). `after` is the block just before the run when the caller has already checked it.
   */
  private async prepare (blocks: readonly BlockInput[], { headers, invalids, records }: Awaited<ReturnType<Chain['lookUp']>>, after?: StoredHeader): Promise<{ prepared: PreparedBlock[], known: number, failure?: Error }> {
    const prepared: PreparedBlock[] = []
    let known = 0
    let predecessor: StoredHeader | undefined = after
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i]
      const stored = headers[i]
      try {
        const invalidRecord = invalids[i]
        if (invalidRecord !== undefined) throw new KnownInvalidBlockError(b58(stored.hash), invalidRecord)
        const predHex = toHex(block.header.shell.predecessor)
        if (predecessor !== undefined && predecessor.hex !== predHex) {
          throw new NotAChainError(`block ${b58(stored.hash)} does not follow ${b58(predecessor.hash)}`)
        }
        if (predecessor === undefined) {
          // The run's first block: its predecessor comes from the store, and may be known invalid
          // (invalid blocks found while applying a branch stay stored; others are not stored at all).
          predecessor = await this.store.getHeader(predHex)
          if (await this.store.getInvalid(predHex) !== undefined) {
            throw await this.recordInvalid([stored], new InvalidBlockError('invalid_predecessor', `predecessor ${b58(block.header.shell.predecessor)} is invalid`))
          }
          if (predecessor === undefined) throw new UnknownPredecessorError(b58(stored.hash), b58(block.header.shell.predecessor))
        }
        const record = records[i]
        if (record !== undefined) {
          known++
          prepared.push({ stored, ops: await loadStoredOperations(this.store, stored, record.listHashes), isNew: false })
        } else {
          prepared.push({ ...await this.checkNewBlock(stored, block.operations, predecessor), stored, isNew: true })
        }
        predecessor = stored
      } catch (e) {
        return { prepared, known, failure: e as Error }
      }
    }
    return { prepared, known }
  }

  /**
   * The run's headers hashed, and whether each block is known (invalid, or stored): one multi-get
   * each for the whole run instead of two LevelDB round trips per block. Applying earlier blocks
   * changes neither answer (they write other keys), so this may run ahead of them.
   */
  private async lookUp (blocks: readonly BlockInput[]): Promise<{ headers: StoredHeader[], invalids: Array<InvalidRecord | undefined>, records: Array<BlockRecord | undefined> }> {
    const headers: StoredHeader[] = blocks.map(block => ({ ...headerHashOf(block.header), header: block.header }))
    const hexes = headers.map(h => h.hex)
    // A block on our head that beats it is not stored: had it been applied, the head could not
    // have gone back to its predecessor (the head only moves to a better fitness), and a block
    // only stored did not beat the head of its time. That is the new head of every gossip hop:
    // its record is not looked up (a LevelDB read on every hop otherwise).
    const onHead = blocks.length > 0 && toHex(blocks[0].header.shell.predecessor) === this.head.hex && this.beatsHead(headers[0])
    const [invalids, records] = await Promise.all([
      this.store.getInvalids(hexes),
      onHead ? this.store.getBlockRecords(hexes.slice(1)).then(rest => [undefined, ...rest]) : this.store.getBlockRecords(hexes)
    ])
    return { headers, invalids, records }
  }

  private async checkNewBlock (stored: StoredHeader, operations: Operation[][], predecessor: StoredHeader): Promise<{ ops: PreparedOperations, checkedBy?: Protocol }> {
    const { header, hash } = stored
    const checkpoint = this.store.checkpoint
    if (header.shell.level === checkpoint.level && toHex(checkpoint.hash) !== stored.hex) {
      throw new CheckpointConflictError(b58(hash), `the checkpoint at level ${checkpoint.level} is ${b58(checkpoint.hash)}`)
    }
    if (Number(header.shell.timestamp) > this.now() / 1000 + this.maxClockDrift) {
      throw new FutureBlockError(b58(hash), header.shell.timestamp, this.now())
    }
    const { verdict, checkedBy } = this.checkHeaderNow(header, predecessor.header)
    if (!verdict.ok) throw await this.recordInvalid([stored], verdict.error)
    const ops = prepareOperations(header, operations, hash)
    return checkedBy === undefined ? { ops } : { ops, checkedBy }
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
        await this.written()
        t.detach()
        if (this.beatsHead(t.tip)) {
          this.startWrite(t)
          t = t.successor()
        }
      }
    }
    await this.written()
    t.detach()
    if (failure !== undefined) {
      await this.recordInvalid(branch.slice(failedAt).map(b => b.stored), failure, t)
    }
    if (!t.isEmpty && this.beatsHead(t.tip)) {
      // Left in flight: the caller prepares the next blocks during the write (`written`).
      this.startWrite(t)
      if (failure !== undefined || unknownProtocol !== undefined) await this.written()
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
    try {
      this.emit('block:validated', { block: block.stored, operationHashes: block.ops.hashes })
    } catch (e) {
      process.nextTick(() => { throw e })
    }
  }

  private beatsHead (h: StoredHeader): boolean {
    return compareFitness(h.header.shell.fitness, this.head.header.shell.fitness) > 0
  }

  /**
   * Starts committing `t` without waiting for the write: the next blocks are prepared, or applied
   * on `t.successor()`, meanwhile. One write at a time: `written()` comes before the next commit,
   * before anything that reads the head, and before `addBlocks` returns.
   */
  private startWrite (t: Transition): void {
    const write = this.commitTransition(t)
    write.catch(() => {})
    this.pendingWrite = write
  }

  /** Waits for the write in flight, if any; throws if it failed. */
  private async written (): Promise<void> {
    const write = this.pendingWrite
    this.pendingWrite = undefined
    await write
  }

  /**
   * Commits `t`: the store shows its tip as the head at once (`head:validated`). For one block
   * added with `addBlock`, `head` follows in the same turn, while the batch is written, as Octez's
   * block validator hands a new head on before its store write is durable
   * (`src/lib_shell/block_validator.ml`); a crash then loses at most this head, which peers give
   * back. For a run, `head` waits for the write, so a bootstrap never reports a head a crash takes
   * back. Settles when the write is done; if it fails, the store goes back to the disk (and a
   * `head` event says so when the head was reported) and the error is thrown.
   */
  private async commitTransition (t: Transition): Promise<void> {
    const previous = this.head
    const tip = t.tip
    const batch = t.finish()
    const early = this.headBeforeWrite
    let shown = false
    let headEmitted = false
    const tableMayChange = this.protocolTableMayChange(t, previous)
    const write = this.store.commit(batch, () => {
      shown = true
      this.emitSafely('head:validated', tip)
      if (tableMayChange || !early) return
      // In the same turn: the head's events and announcements go before the write is queued.
      headEmitted = true
      this.emitSafely('head', { head: this.head, previous, applied: t.applied, removed: t.removed })
    })
    write.catch(() => {})
    // Shown at once unless another write was in flight (the chain commits one at a time).
    if (!shown || !early) await write
    if (!headEmitted) {
      if (tableMayChange) await this.refreshProtocolLevels()
      headEmitted = true
      this.emitSafely('head', { head: this.head, previous, applied: t.applied, removed: t.removed })
    }
    try {
      await write
    } catch (e) {
      if (!headEmitted) throw e
      // The store shows the disk again: the head is `previous` once more.
      await this.refreshProtocolLevels().catch(() => {})
      this.emitSafely('head', { head: this.head, previous: tip, applied: [...t.removed].reverse(), removed: [...t.applied].reverse() })
      throw e
    }
  }

  /**
   * Whether the protocol table or the next block's protocol level may differ after `t`: only when
   * `t` wrote a table entry (an activation applied or undone) or the head's protocol level changed.
   * Otherwise the table read after each new head is skipped (a state read per protocol level).
   */
  private protocolTableMayChange (t: Transition, previous: StoredHeader): boolean {
    if (t.applied.length === 0 || t.tip.header.shell.proto !== previous.header.shell.proto || t.tip.header.shell.level === 0) return true
    return t.batch.state.some(w => w.key.startsWith(SHELL_PROTO_KEY_PREFIX))
  }

  /** Emits a chain event; a listener's exception surfaces on its own, the chain goes on. */
  private emitSafely<K extends keyof ChainEvents> (name: K, ...args: ChainEvents[K]): void {
    const emit = this.emit.bind(this) as (name: K, ...args: ChainEvents[K]) => boolean
    try {
      emit(name, ...args)
    } catch (e) {
      process.nextTick(() => { throw e })
    }
  }

  /**
   * Records `blocks[0]` invalid for `error`, and the blocks after it (its descendants) as having
   * an invalid predecessor; written with `t` if given, else at once. Returns the error, naming the block.
   */
  private async recordInvalid (blocks: StoredHeader[], error: InvalidBlockError, t?: Transition): Promise<InvalidBlockError> {
    // A batch of its own is not written beside the write in flight.
    if (t === undefined) await this.written()
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
