import type { BlockHeader } from '../wire/block-header.ts'
import type { Fitness } from '../wire/fitness.ts'
import type { Operation } from '../wire/operation.ts'
import type { InvalidBlockError, InvalidOperationError, Verdict } from './errors.ts'
import type { ProtocolManifest } from './manifest.ts'
import type { ScratchState, StateReader, StateWrite } from './state.ts'

/**
 * The pluggable protocol (README, "Chain, protocols, mempool and baker"): everything the shell
 * does not know about blocks and operations. The shell (`src/chain`) checks what Octez's shell
 * checks — the predecessor is known and valid, level = predecessor + 1, the number of validation
 * passes, the Merkle root of the operations, increasing timestamps and fitness, operations branched
 * on a live block — then hands the block to the protocol.
 *
 * State: a protocol reads the state of the predecessor through a `StateReader` and answers with
 * the list of writes the block causes; the chain commits them atomically with the block, and
 * keeps for each block of the current chain an undo record (the previous values of the keys it
 * wrote), so switching to a better branch rewinds to the common ancestor and re-applies. A
 * protocol therefore never touches the store and must be deterministic: the same block on the
 * same state gives the same writes on every node.
 */
export interface Protocol {
  /** Short name used in logs and configs (`demo`, `accept-all`). */
  readonly name: string
  /**
   * Protocol hash, b58 `P…`; the chain's genesis names the first protocol, later ones are named by
   * the block that activates them. With a `manifest`, the hash of the manifest (`manifestHash`).
   */
  readonly hash: string
  /**
   * Name, version and source digest: what peers receive for `Get_protocols` and what a node checks
   * a received protocol against (see `manifest.ts`). Optional for embedders' protocols that are
   * never fetched by peers.
   */
  readonly manifest?: ProtocolManifest
  /** Number of operation lists in every block (Octez `validation_passes`), ≥ 1. */
  readonly validationPasses: number
  /**
   * Optional: the number of operation lists of one block when it is not always `validationPasses`
   * (the shell protocol stands for several Tezos protocols; Octez's genesis protocols have none).
   */
  validationPassesOf?: (header: BlockHeader) => number
  /** An operation's branch must be one of this many latest blocks (Octez `max_operations_ttl`). */
  readonly maxOperationsTtl: number
  /**
   * The protocol knows nothing of what blocks mean (`--protocol shell`): the chain runs it at every
   * protocol level, takes each header's protocol level (the predecessor's or one above) and
   * fitness as given, and shows its mempool operations as not validated.
   */
  readonly shellOnly?: boolean

  /** The state the chain starts with, and the context hash the synthetic genesis header carries. */
  genesis: () => GenesisState

  /** The fitness a block at `level` on top of `predecessor` must carry. */
  fitness: (level: number, predecessor: BlockHeader) => Fitness

  /**
   * Cheap checks of a header against its predecessor, before any operation is fetched (a sync
   * runs it on every header it downloads): fitness, protocol data, signature. (The protocol level
   * is the shell's: it knows where each protocol was activated.)
   */
  validateHeader: (header: BlockHeader, predecessor: BlockHeader) => Verdict<InvalidBlockError>

  /**
   * Mempool admission: checks `op` against `state` (the head's state plus the effects of the
   * operations admitted before it) and, if valid, records its effects in `state` so the next
   * operation is checked after it. An invalid operation leaves `state` unchanged.
   */
  validateOperation: (op: Operation, state: ScratchState) => Promise<OperationVerdict>

  /**
   * Optional: validates a block without applying it (Octez's `validate_block`, before
   * `apply_block`: `src/lib_shell/block_validator.ml`), after the shell and `validateHeader` checks
   * passed and the operations matched operations_hash; throws `InvalidBlockError` if the block is
   * invalid. A protocol that has it lets the node advertise the block as soon as it passes, before
   * `applyBlock` runs (gossip.md §9): a block refused by `applyBlock` afterwards is "inapplicable
   * after validation", and the peers that advertised it are not blamed, since they may have
   * advertised it in good faith before their own application failed. So it should check whatever
   * a forger could get wrong cheaply (signatures, bounds); `applyBlock` still checks everything.
   */
  validateBlock?: (input: ApplyBlockInput) => Promise<void>

  /** Applies a block on its predecessor's state; throws `InvalidBlockError` if it is invalid. */
  applyBlock: (input: ApplyBlockInput) => Promise<AppliedBlock>

  /**
   * Builds a block on `predecessor` from candidate operations (in mempool order): operations
   * that are no longer valid in block order are left out. `bakerKey` is the protocol's secret
   * signing material (the demo protocol's baker secret key); protocols that sign nothing ignore it.
   */
  makeBlock: (input: MakeBlockInput) => Promise<BakedBlock>

  /**
   * Optional: checks, for a run of blocks at once and possibly on other threads, what does not
   * depend on the state (signatures). The chain calls it before validating the run; the protocol
   * may remember which exact header and operation objects passed and not check them again. It
   * never refuses anything: a block that fails here fails again in `validateHeader`/`applyBlock`.
   */
  precheckBlocks?: (blocks: ReadonlyArray<{ header: BlockHeader, operations: Operation[][] }>) => Promise<void>

  /** Optional: releases resources (worker threads). */
  close?: () => Promise<void>

  /** JSON view of an operation's data for RPC and logs; malformed data is described, not thrown. */
  describeOperation: (op: Operation) => Record<string, unknown>

  /** JSON view of a header's protocol data. */
  describeProtocolData: (header: BlockHeader) => Record<string, unknown>
}

export interface GenesisState {
  writes: StateWrite[]
  /** 32-byte context hash of the genesis header. */
  context: Uint8Array
}

export type OperationVerdict =
  | { ok: true, pass: number }
  | { ok: false, error: InvalidOperationError }

export interface ApplyBlockInput {
  header: BlockHeader
  /** One list per validation pass. */
  operations: Operation[][]
  predecessor: BlockHeader
  /** The state as of the predecessor. */
  state: StateReader
}

export interface AppliedBlock {
  /** The block's effect on the state, in key order. */
  writes: StateWrite[]
  /**
   * The protocol (b58 `P…`) that validates the blocks after this one, when this block activates
   * a new one (Octez's `next_protocol`): the next block carries protocol level + 1.
   */
  nextProtocol?: string
}

export interface MakeBlockInput {
  predecessor: BlockHeader
  predecessorHash: Uint8Array
  /** Seconds since the epoch; must be greater than the predecessor's. */
  timestamp: bigint
  candidates: Operation[]
  /** The state as of the predecessor. */
  state: StateReader
  bakerKey?: Uint8Array
  /** The `proto` field the new header must carry (the shell knows it; default the predecessor's, 1 after genesis). */
  protoLevel?: number
  /** Make the new block activate this protocol (b58 `P…`) for the blocks after it, if the protocol can. */
  activate?: string
}

export interface BakedBlock {
  header: BlockHeader
  operations: Operation[][]
  /** The candidates left out, with the reason. */
  refused: Array<{ operation: Operation, error: InvalidOperationError }>
}
