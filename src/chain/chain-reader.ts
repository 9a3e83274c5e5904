import { EventEmitter } from 'node:events'
import { toHex } from '../encoding/index.ts'
import type { Operation } from '../wire/operation.ts'
import { FIRST_PROTO_LEVEL } from '../wire/block-header.ts'
import type { Protocol } from '../protocol/protocol.ts'
import type { ProtocolRegistry } from '../protocol/registry.ts'
import type { StateReader } from '../protocol/state.ts'
import type { UnknownProtocolError } from './errors.ts'
import type { Genesis } from './genesis.ts'
import { ProtocolWatch } from './protocol-watch.ts'
import { protocolLevelAfter, readProtocolLevels, type ProtocolLevel } from './protocol-levels.ts'
import type { InvalidRecord } from './records.ts'
import type { ChainStore, Checkpoint, StoredHeader } from './store.ts'

/** A change of head, emitted once the new head is applied and its store write has begun (see `ChainStore.commit`). */
export interface HeadChange {
  head: StoredHeader
  previous: StoredHeader
  /** Blocks that joined the current chain, oldest first. */
  applied: StoredHeader[]
  /** Blocks that left it (a branch switch), newest first. */
  removed: StoredHeader[]
}

export interface ChainEvents {
  head: [HeadChange]
  /**
   * A new head, validated and applied, whose write to the store has begun: it can be announced
   * already (as Octez advertises a block before storing it), since its header, record and
   * operations are served from the recent-blocks caches from now on. `head` follows, during the write.
   */
  'head:validated': [StoredHeader]
  /**
   * A block that will be the new head if its application succeeds: it passed the shell's checks,
   * its operations matched operations_hash and its protocol's `validateBlock` accepted it, and it
   * is being applied now (Octez advertises at this point: `src/lib_shell/block_validator.ml`,
   * distributed_db_version 2). Its operations are served to peers from now on
   * (`getOperationPasses`). `operationHashes`: the block's operation hashes in block order.
   */
  'block:validated': [{ block: StoredHeader, operationHashes: Uint8Array[] }]
  /** A block needed a protocol that is not installed (the branch stops before it). */
  'protocol:missing': [UnknownProtocolError]
}

/**
 * Read access to the chain: what the sync and gossip services answer peers from, and what RPCs
 * show. Reads see committed data (a batch being written included) and never wait for a block being applied.
 */
export class ChainReader extends EventEmitter<ChainEvents> {
  /** Installed protocols (an embedder may register more while the node runs). */
  readonly registry: ProtocolRegistry
  readonly genesis: Genesis
  readonly store: ChainStore
  /** Protocols blocks needed that were not installed (for the RPC and the protocol fetcher). */
  readonly missingProtocols = new ProtocolWatch()
  private levels: ProtocolLevel[]
  private next: ProtocolLevel
  /** Shell-only mode (`Protocol.shellOnly`): one implementation runs every protocol level. */
  protected shellOnly = false
  /** The oldest block held: genesis, or the checkpoint the chain started from. */
  protected cabooseValue: Checkpoint

  /** Emits a chain event; a listener's exception surfaces on its own (next tick), the chain goes on. */
  protected emitSafely<K extends keyof ChainEvents> (name: K, ...args: ChainEvents[K]): void {
    try {
      (this.emit as (name: K, ...args: ChainEvents[K]) => boolean)(name, ...args)
    } catch (e) {
      process.nextTick(() => { throw e })
    }
  }

  protected constructor (store: ChainStore, registry: ProtocolRegistry, genesis: Genesis) {
    super()
    this.store = store
    this.registry = registry
    this.genesis = genesis
    this.levels = [{ protoLevel: FIRST_PROTO_LEVEL, protocol: genesis.protocol, firstLevel: 1 }]
    this.next = this.levels[0]
    this.cabooseValue = { hash: genesis.hash, level: 0 }
  }

  /** Reads the protocol table as of the head again (after every commit). */
  protected async refreshProtocolLevels (): Promise<void> {
    if (this.shellOnly) {
      // No table: which protocol a level runs is the economic protocol's knowledge.
      const head = this.head.header.shell
      this.levels = [{ protoLevel: FIRST_PROTO_LEVEL, protocol: this.genesis.protocol, firstLevel: 1 }]
      this.next = { protoLevel: head.level === 0 ? FIRST_PROTO_LEVEL : head.proto, protocol: this.genesis.protocol, firstLevel: 1 }
      return
    }
    this.levels = await readProtocolLevels(this.store.state, this.genesis.protocol)
    this.next = await protocolLevelAfter(this.store.state, this.head.header, this.genesis.protocol)
  }

  /** Protocol levels of the current chain, from 1 up (protocol hash, first block level). */
  get protocolLevels (): readonly ProtocolLevel[] {
    return this.levels
  }

  /** The protocol level the next block on the head runs at. */
  get nextProtocolLevel (): ProtocolLevel {
    return this.next
  }

  /**
   * The protocol of the next block on the head (what the mempool and the baker use). When that
   * one is not installed (see `missingProtocol`), the latest installed one of the current chain.
   */
  get protocol (): Protocol {
    const p = this.registry.get(this.next.protocol)
    if (p !== undefined) return p
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const q = this.registry.get(this.levels[i].protocol)
      if (q !== undefined) return q
    }
    return this.registry.get(this.genesis.protocol) as Protocol
  }

  /** The protocol level the head leads to, when its protocol is not installed: the chain cannot grow. */
  get missingProtocol (): ProtocolLevel | undefined {
    return this.registry.has(this.next.protocol) ? undefined : this.next
  }

  /** The installed protocol a stored header runs (by its protocol level on the current chain), if known. */
  protocolOfHeader (header: { shell: { level: number, proto: number } }): Protocol | undefined {
    if (header.shell.level === 0 || this.shellOnly) return this.registry.get(this.genesis.protocol)
    const entry = this.levels.find(l => l.protoLevel === header.shell.proto) ?? (this.next.protoLevel === header.shell.proto ? this.next : undefined)
    return entry === undefined ? undefined : this.registry.get(entry.protocol)
  }

  get head (): StoredHeader {
    return this.store.head
  }

  get checkpoint (): Checkpoint {
    return this.store.checkpoint
  }

  /**
   * The oldest block this node holds on its chain: genesis, or the checkpoint it started from
   * (`--checkpoint`), below which it holds and fetches nothing (genesis aside).
   */
  get caboose (): Checkpoint {
    return this.cabooseValue
  }

  /** The protocol state as of the head. */
  get state (): StateReader {
    return this.store.state
  }

  async getHeader (hash: Uint8Array): Promise<StoredHeader | undefined> {
    return await this.store.getHeader(toHex(hash))
  }

  /** Many headers at once (a sync answers Get_block_headers with up to 10). */
  async getHeaders (hashes: readonly Uint8Array[]): Promise<Array<StoredHeader | undefined>> {
    return await this.store.getHeaders(hashes.map(toHex))
  }

  /** The current chain's block at `level`. */
  async getBlockByLevel (level: number): Promise<StoredHeader | undefined> {
    const hex = await this.store.mainChainAt(level)
    return hex === undefined ? undefined : await this.store.getHeader(hex)
  }

  /** Header and operations are stored (applied or not). */
  async hasBlock (hash: Uint8Array): Promise<boolean> {
    return await this.store.getBlockRecord(toHex(hash)) !== undefined
  }

  async isOnMainChain (hash: Uint8Array, level: number): Promise<boolean> {
    return await this.store.mainChainAt(level) === toHex(hash)
  }

  async isKnownInvalid (hash: Uint8Array): Promise<InvalidRecord | undefined> {
    return await this.store.getInvalid(toHex(hash))
  }

  async getOperations (hash: Uint8Array, pass: number): Promise<Operation[] | undefined> {
    return await this.store.getOperations(toHex(hash), pass)
  }

  /** One pass's operations in their stored (wire) list encoding. */
  async getEncodedOperations (hash: Uint8Array, pass: number): Promise<Uint8Array | undefined> {
    return await this.store.getEncodedOperations(toHex(hash), pass)
  }

  /** The Lo hash of every pass (for Merkle paths), if the block is stored. */
  async getOperationListHashes (hash: Uint8Array): Promise<Uint8Array[] | undefined> {
    return (await this.store.getBlockRecord(toHex(hash)))?.listHashes
  }

  /**
   * The block `distance` levels below `hash` on its branch. On the current chain this is one
   * level-index lookup; off it, predecessors are followed until the branch meets the current
   * chain, then the index is used.
   */
  async getAncestor (hash: Uint8Array, distance: number): Promise<StoredHeader | undefined> {
    let cur = await this.store.getHeader(toHex(hash))
    if (cur === undefined || distance < 0) return undefined
    const target = cur.header.shell.level - distance
    if (target < 0) return undefined
    while (cur.header.shell.level > target) {
      if (await this.store.mainChainAt(cur.header.shell.level) === cur.hex) {
        const hex = await this.store.mainChainAt(target)
        return hex === undefined ? undefined : await this.store.getHeader(hex)
      }
      const pred: StoredHeader | undefined = await this.store.getHeader(toHex(cur.header.shell.predecessor))
      if (pred === undefined) return undefined
      cur = pred
    }
    return cur
  }

  /**
   * Ancestors of `hash` at several distances (a sync answers Get_predecessor_header runs with it):
   * on the current chain, two multi-gets; off it, one walk per distance.
   */
  async getAncestors (hash: Uint8Array, distances: readonly number[]): Promise<Array<StoredHeader | undefined>> {
    const top = await this.store.getHeader(toHex(hash))
    if (top === undefined) return distances.map(() => undefined)
    const level = top.header.shell.level
    if (await this.store.mainChainAt(level) !== top.hex) return await Promise.all(distances.map(async d => await this.getAncestor(hash, d)))
    const hexes = await this.store.mainChainAtMany(distances.map(d => d < 0 ? -1 : level - d))
    const present = hexes.filter((h): h is string => h !== undefined)
    const headers = new Map((await this.store.getHeaders(present)).map((h, i) => [present[i], h]))
    return hexes.map(h => h === undefined ? undefined : headers.get(h))
  }

  /**
   * `getAncestors` as the stored header bytes, which is all a sync answer sends: on the current
   * chain the headers are neither decoded nor cached.
   */
  async getAncestorBytes (hash: Uint8Array, distances: readonly number[]): Promise<Array<Uint8Array | undefined>> {
    return (await this.getAncestorBytesOfMany([{ hash, distances }]))[0]
  }

  /**
   * `getAncestorBytes` for several blocks at once (a sync batch names up to 80 ancestors of a few
   * blocks): for blocks on the current chain, four multi-gets whatever their number (the blocks,
   * their levels' main-chain entries, the ancestors' levels, the ancestors' bytes). Blocks off the
   * current chain are walked one distance at a time (`getAncestor`).
   */
  async getAncestorBytesOfMany (groups: ReadonlyArray<{ hash: Uint8Array, distances: readonly number[] }>): Promise<Array<Array<Uint8Array | undefined>>> {
    const out = groups.map(g => g.distances.map((): Uint8Array | undefined => undefined))
    const tops = await this.store.getHeaders(groups.map(g => toHex(g.hash)))
    const onMain = await this.store.mainChainAtMany(tops.map(t => t === undefined ? -1 : t.header.shell.level))
    const levels: number[] = []
    const at: Array<[number, number]> = []
    const offMain: Array<[number, number]> = []
    groups.forEach((g, i) => {
      const top = tops[i]
      if (top === undefined) return
      g.distances.forEach((d, j) => {
        if (d < 0) return
        if (onMain[i] !== top.hex) { offMain.push([i, j]); return }
        levels.push(top.header.shell.level - d)
        at.push([i, j])
      })
    })
    if (levels.length > 0) {
      const hexes = await this.store.mainChainAtMany(levels)
      const present = hexes.filter((h): h is string => h !== undefined)
      const bytes = await this.store.getHeaderBytesMany(present)
      const byHex = new Map(present.map((h, k) => [h, bytes[k]]))
      hexes.forEach((h, k) => { if (h !== undefined) out[at[k][0]][at[k][1]] = byHex.get(h) })
    }
    for (const [i, j] of offMain) out[i][j] = (await this.getAncestor(groups[i].hash, groups[i].distances[j]))?.bytes
    return out
  }

  /** Headers as stored, by hash (a sync answers Get_block_headers with their bytes). */
  async getHeaderBytes (hashes: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    return await this.store.getHeaderBytesMany(hashes.map(toHex))
  }

  /** For each (block, pass): the pass's stored operation list and every pass's Lo hash, if stored. */
  async getOperationPasses (keys: ReadonlyArray<{ hash: Uint8Array, pass: number }>): Promise<Array<{ encoded: Uint8Array, listHashes: Uint8Array[] } | undefined>> {
    const hexes = keys.map(k => toHex(k.hash))
    const [records, lists] = await Promise.all([
      this.store.getBlockRecords(hexes),
      this.store.getEncodedOperationsMany(keys.map((k, i) => ({ hex: hexes[i], pass: k.pass })))
    ])
    return keys.map((k, i) => {
      // A block validated and being applied, not stored yet, is served too (gossip.md §9).
      const validated = records[i] === undefined ? this.store.validatedBlock(hexes[i]) : undefined
      const record = records[i] ?? validated
      const encoded = lists[i] ?? validated?.encodedPasses[k.pass]
      if (record === undefined || encoded === undefined || k.pass < 0 || k.pass >= record.listHashes.length) return undefined
      return { encoded, listHashes: record.listHashes }
    })
  }

  /** Whether an operation branched on `branch` may enter the next block on the head (Octez TTL). */
  async isLiveBranch (branch: Uint8Array): Promise<boolean> {
    const hex = toHex(branch)
    const h = await this.store.getHeader(hex)
    if (h === undefined) return false
    const next = this.head.header.shell.level + 1
    const level = h.header.shell.level
    return next - level <= this.protocol.maxOperationsTtl && await this.store.mainChainAt(level) === hex
  }
}
