import type { InvalidRecord } from './records.ts'

/**
 * Why the chain refuses a block without holding the block itself invalid: these never enter the
 * known-invalid list, because a peer could otherwise get an honest block blacklisted by pairing
 * it with wrong operations or sending it too early.
 */

/** The predecessor is not stored yet: the caller should fetch the branch (Get_current_branch). */
export class UnknownPredecessorError extends Error {
  override readonly name = 'UnknownPredecessorError'
  readonly block: string
  readonly predecessor: string
  constructor (block: string, predecessor: string) {
    super(`block ${block}: predecessor ${predecessor} is unknown`)
    this.block = block
    this.predecessor = predecessor
  }
}

/** The block was found invalid before; the peer that sent it again may be greylisted. */
export class KnownInvalidBlockError extends Error {
  override readonly name = 'KnownInvalidBlockError'
  readonly misbehaviour = 'invalid-data'
  readonly block: string
  readonly record: InvalidRecord
  constructor (block: string, record: InvalidRecord) {
    super(`block ${block} is known invalid (${record.code}: ${record.message})`)
    this.block = block
    this.record = record
  }
}

/**
 * The operations given do not match the header's operations_hash (or its number of passes): the
 * operations are wrong, not necessarily the block. The sender of the operations is at fault.
 */
export class OperationsMismatchError extends Error {
  override readonly name = 'OperationsMismatchError'
  readonly block: string
  constructor (block: string, reason: string) {
    super(`block ${block}: operations do not match the header (${reason})`)
    this.block = block
  }
}

/** The block's timestamp is beyond now + the allowed clock drift (Octez ignores such blocks). */
export class FutureBlockError extends Error {
  override readonly name = 'FutureBlockError'
  readonly block: string
  readonly timestamp: bigint
  constructor (block: string, timestamp: bigint, now: number) {
    super(`block ${block} has timestamp ${timestamp}, in the future (now ${Math.floor(now / 1000)})`)
    this.block = block
    this.timestamp = timestamp
  }
}

/** The block conflicts with the checkpoint (another block at its level, or a fork below it). */
export class CheckpointConflictError extends Error {
  override readonly name = 'CheckpointConflictError'
  readonly misbehaviour = 'invalid-data'
  readonly block: string
  constructor (block: string, reason: string) {
    super(`block ${block} conflicts with the checkpoint: ${reason}`)
    this.block = block
  }
}

/** `addBlocks` needs a chain: every block's predecessor must be the block before it in the list. */
export class NotAChainError extends Error {
  override readonly name = 'NotAChainError'
}

/**
 * The block runs a protocol this node has not installed (Octez's validator stops on a protocol it
 * cannot fetch or compile). The block is neither invalid nor applied: the node stops following
 * that branch at its predecessor, and the peer that sent it is not at fault.
 */
export class UnknownProtocolError extends Error {
  override readonly name = 'UnknownProtocolError'
  /** b58 `P…`. */
  readonly protocol: string
  readonly protoLevel: number
  /** The first block that needs it. */
  readonly block: string
  readonly level: number
  constructor (protocol: string, protoLevel: number, block: string, level: number) {
    super(`unknown protocol ${protocol} at level ${level}: not installed; branch not followed`)
    this.protocol = protocol
    this.protoLevel = protoLevel
    this.block = block
    this.level = level
  }
}
