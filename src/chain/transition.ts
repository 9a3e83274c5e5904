import { b58Decode, b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import { InvalidBlockError } from '../protocol/errors.ts'
import type { ApplyBlockInput, Protocol } from '../protocol/protocol.ts'
import type { ProtocolRegistry } from '../protocol/registry.ts'
import { ScratchState, type StateWrite } from '../protocol/state.ts'
import { checkProtocolHeader, type PreparedOperations } from './checks.ts'
import { shellOnlyProtocolLevel } from './shell-only.ts'
import { UnknownProtocolError } from './errors.ts'
import { SHELL_KEY_PREFIX, protocolLevelAfter, protoLevelWrite } from './protocol-levels.ts'
import { BLOCK_VALID } from './records.ts'
import { ChainStoreError, type ChainStore, type StoreBatch, type StoredHeader } from './store.ts'

/** A block ready to be applied: its header (hashed) and its checked operations. */
export interface PreparedBlock {
  stored: StoredHeader
  ops: PreparedOperations
  /** Header and operations are not in the store yet. */
  isNew: boolean
  /** The protocol whose header checks the block already passed (others check it again when applying). */
  checkedBy?: Protocol
}

/** What a transition needs to pick each block's protocol. */
export interface ProtocolSource {
  registry: ProtocolRegistry
  /** b58 `P…` of the genesis protocol (protocol level 1). */
  genesisProtocol: string
  /** Shell-only mode: headers' protocol levels are taken as given, the genesis protocol runs every level. */
  shellOnly?: boolean
}

/**
 * A move of the current chain, built in memory and committed as one batch: rewind the head
 * block by block (each block's undo record restores the state keys it wrote), then apply blocks
 * on top. The state seen by each step is the store's state overlaid with the changes of the
 * steps before it, so a reorganisation is computed completely before anything is written.
 *
 * Why undo records: the state is kept only for the head, which makes reads a single lookup and
 * keeps the store small; a block of the current chain stores the previous values of the keys it
 * wrote (a few dozen bytes for a transfer), which is all a switch to another branch needs to go
 * back to the common ancestor. Blocks off the current chain are stored with their operations but
 * not applied; they are applied when their branch becomes the best.
 */
export class Transition {
  private readonly store: ChainStore
  private readonly protocols: ProtocolSource
  readonly batch: StoreBatch
  readonly state: ScratchState
  /** Main-chain changes made by this transition (undefined = level removed). */
  private readonly levels = new Map<number, string | undefined>()
  private readonly pendingUndo = new Map<string, StateWrite[]>()
  private readonly pendingHeaders = new Map<string, StoredHeader>()
  tip: StoredHeader
  /** Blocks this transition put on the current chain, oldest first. */
  readonly applied: StoredHeader[] = []
  /** Blocks it took off the current chain, newest first. */
  readonly removed: StoredHeader[] = []

  /**
   * The transition before this one while its batch is being written: until `detach`, reads fall
   * through to it (its state changes, main-chain levels, undo records), which the store shows
   * only once its write is done.
   */
  private link: Transition | undefined

  constructor (store: ChainStore, protocols: ProtocolSource, link?: Transition) {
    this.store = store
    this.protocols = protocols
    this.batch = store.newBatch()
    this.link = link
    this.state = new ScratchState({ get: key => this.link !== undefined ? this.link.state.get(key) : store.state.get(key) })
    this.tip = link?.tip ?? store.head
  }

  /**
   * A transition that goes on from this one's tip while this one is being committed, so that
   * the next blocks are applied during the write (call `detach` on it once the write is done).
   */
  successor (): Transition {
    return new Transition(this.store, this.protocols, this)
  }

  /** The linked transition's write is done: the store shows it now. */
  detach (): void {
    this.link = undefined
  }

  get isEmpty (): boolean {
    return this.applied.length === 0 && this.removed.length === 0
  }

  async mainChainAt (level: number): Promise<string | undefined> {
    if (level > this.tip.header.shell.level) return undefined
    if (this.levels.has(level)) return this.levels.get(level)
    return this.link !== undefined ? await this.link.mainChainAt(level) : await this.store.mainChainAt(level)
  }

  async getHeader (hex: string): Promise<StoredHeader | undefined> {
    return this.pendingHeaders.get(hex) ?? (this.link !== undefined ? await this.link.getHeader(hex) : await this.store.getHeader(hex))
  }

  private async getUndo (hex: string): Promise<StateWrite[] | undefined> {
    return this.pendingUndo.get(hex) ?? (this.link !== undefined ? await this.link.getUndo(hex) : await this.store.getUndo(hex))
  }

  /** Takes the tip off the current chain, restoring the state of its predecessor. */
  async undoTip (): Promise<void> {
    const tip = this.tip
    if (tip.header.shell.level === 0) throw new ChainStoreError('cannot rewind below genesis')
    const undo = await this.getUndo(tip.hex)
    if (undo === undefined) throw new ChainStoreError(`block ${tip.hex} of the current chain has no undo record`)
    for (const w of undo) this.state.set(w.key, w.value)
    this.batch.deleteUndo(tip.hex)
    this.pendingUndo.delete(tip.hex)
    this.levels.set(tip.header.shell.level, undefined)
    this.batch.setLevel(tip.header.shell.level, undefined)
    const predecessor = await this.getHeader(toHex(tip.header.shell.predecessor))
    if (predecessor === undefined) throw new ChainStoreError(`predecessor of ${tip.hex} is missing`)
    this.removed.push(tip)
    this.tip = predecessor
  }

  /**
   * Applies a block on the tip (its predecessor): the protocol level must be the one the branch
   * runs at this height, operation branches must be live, then that level's protocol applies it.
   * With `onValidated` (a block to advertise) and a protocol that has `validateBlock`, the
   * protocol validates it first, `onValidated` is called, then it applies it.
   * Throws `InvalidBlockError` (with `afterValidation` when only the application failed), or
   * `UnknownProtocolError` when the protocol is not installed; the transition is then unchanged.
   */
  async apply (block: PreparedBlock, onValidated?: () => void): Promise<void> {
    const header = block.stored.header
    const level = header.shell.level
    const expected = this.protocols.shellOnly === true
      ? shellOnlyProtocolLevel(header, this.tip.header, this.protocols.genesisProtocol)
      : await protocolLevelAfter(this.state, this.tip.header, this.protocols.genesisProtocol)
    if (header.shell.proto !== expected.protoLevel) {
      throw new InvalidBlockError('bad_proto_level', `protocol level ${header.shell.proto}, expected ${expected.protoLevel}`)
    }
    const protocol = this.protocols.registry.get(expected.protocol)
    if (protocol === undefined) throw new UnknownProtocolError(expected.protocol, expected.protoLevel, b58Encode('blockHash', block.stored.hash), level)
    if (block.checkedBy !== protocol) {
      const verdict = checkProtocolHeader(protocol, header, this.tip.header)
      if (!verdict.ok) throw verdict.error
    }
    await this.checkBranches(block, protocol)
    const input = { header, operations: block.ops.operations, predecessor: this.tip.header, state: this.state }
    if (protocol.validateBlock === undefined || onValidated === undefined) {
      await this.applyOnTip(block, protocol, expected, input)
      return
    }
    await protocol.validateBlock(input)
    onValidated()
    try {
      await this.applyOnTip(block, protocol, expected, input)
    } catch (e) {
      // Inapplicable after validation (`src/lib_shell/block_validator.ml`): not the advertisers' fault.
      if (e instanceof InvalidBlockError) e.afterValidation = true
      throw e
    }
  }

  /** The protocol's application of a checked block, the shell's checks of its result, and the block put on the tip. */
  private async applyOnTip (block: PreparedBlock, protocol: Protocol, expected: { protoLevel: number, protocol: string }, input: ApplyBlockInput): Promise<void> {
    const level = input.header.shell.level
    const applied = await protocol.applyBlock(input)
    const writes = [...applied.writes]
    for (const w of writes) {
      if (w.key.startsWith(SHELL_KEY_PREFIX)) throw new InvalidBlockError('refused', `the protocol wrote the shell-reserved key ${w.key}`)
    }
    if (applied.nextProtocol !== undefined && applied.nextProtocol !== expected.protocol) {
      try {
        b58Decode('protocolHash', applied.nextProtocol)
      } catch {
        throw new InvalidBlockError('refused', `the block activates ${JSON.stringify(applied.nextProtocol)}, which is not a protocol hash`)
      }
      // Octez's header field is a uint8.
      if (expected.protoLevel >= 255) throw new InvalidBlockError('refused', 'the block activates a protocol beyond protocol level 255')
      writes.push(protoLevelWrite({ protoLevel: expected.protoLevel + 1, protocol: applied.nextProtocol, firstLevel: level + 1 }))
    }
    const previous: StateWrite[] = []
    for (const w of writes) previous.push({ key: w.key, value: await this.state.get(w.key) })
    for (const w of writes) this.state.set(w.key, w.value)
    const hex = block.stored.hex
    if (block.isNew) {
      this.batch.putHeader(block.stored)
      block.ops.encodedPasses.forEach((b, pass) => this.batch.putOperations(hex, pass, b))
      this.pendingHeaders.set(hex, block.stored)
    }
    this.batch.putBlockRecord(hex, { status: BLOCK_VALID, listHashes: block.ops.listHashes })
    this.batch.putUndo(hex, previous)
    this.pendingUndo.set(hex, previous)
    this.levels.set(level, hex)
    this.batch.setLevel(level, hex)
    this.applied.push(block.stored)
    this.tip = block.stored
  }

  /**
   * Octez's liveness rule, checked by the shell: an operation's branch must be a block of the
   * chain being extended, at most `maxOperationsTtl` levels below the new block.
   */
  private async checkBranches (block: PreparedBlock, protocol: Protocol): Promise<void> {
    const level = block.stored.header.shell.level
    const seen = new Set<string>()
    for (let pass = 0; pass < block.ops.operations.length; pass++) {
      const ops = block.ops.operations[pass]
      for (let index = 0; index < ops.length; index++) {
        const branch = toHex(ops[index].branch)
        if (seen.has(branch)) continue
        const reason = await this.branchProblem(branch, level, protocol.maxOperationsTtl)
        if (reason !== undefined) {
          throw new InvalidBlockError('operation_branch_not_live', `operation ${index} of pass ${pass}: ${reason}`)
        }
        seen.add(branch)
      }
    }
  }

  private async branchProblem (branch: string, level: number, maxOperationsTtl: number): Promise<string | undefined> {
    const h = await this.getHeader(branch)
    if (h === undefined) return `branch ${branch} is unknown`
    const bl = h.header.shell.level
    if (bl >= level || level - bl > maxOperationsTtl) return `branch at level ${bl} is not live at level ${level}`
    if (await this.mainChainAt(bl) !== branch) return `branch ${branch} is not an ancestor`
    return undefined
  }

  /** Adds the state changes and the new head to the batch (call once, before committing). */
  finish (): StoreBatch {
    this.batch.writeState(this.state.writes())
    this.batch.setHead(this.tip)
    return this.batch
  }
}
