import { blake2b256, b58Encode } from '../crypto/index.ts'
import { FIRST_PROTO_LEVEL, type ShellHeader } from '../wire/block-header.ts'
import type { Fitness } from '../wire/fitness.ts'
import type { Operation } from '../wire/operation.ts'
import { operationHash } from '../wire/operation.ts'
import { operationsHashOfPasses } from '../wire/merkle.ts'
import { serializeStateWrites, type StateWrite } from './state.ts'
import type { MakeBlockInput } from './protocol.ts'

/** Octez bounds the Merkle path of operations_hash to 8 validation passes. */
export const MAX_VALIDATION_PASSES = 8

export function checkValidationPasses (n: number, who: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_VALIDATION_PASSES) {
    throw new RangeError(`${who}: validation passes must be an integer in [1, ${MAX_VALIDATION_PASSES}], got ${n}`)
  }
  return n
}

/**
 * Fitness = level, as an Octez fitness list of one element: the level as 8 bytes big-endian.
 * (Octez compares elements by length then bytewise, so a fixed width orders levels numerically.)
 */
export function levelFitness (level: number): Fitness {
  const e = new Uint8Array(8)
  new DataView(e.buffer).setBigInt64(0, BigInt(level))
  return [e]
}

/**
 * The `proto` field of a block made on `input.predecessor`: the protocol level the shell gives
 * (`protoLevel`), else the predecessor's, or the first protocol level right after genesis (as in
 * Octez, genesis carries 0 and the blocks of the first protocol 1).
 */
export function newBlockProtoLevel (input: Pick<MakeBlockInput, 'protoLevel' | 'predecessor'>): number {
  return input.protoLevel ?? (input.predecessor.shell.level === 0 ? FIRST_PROTO_LEVEL : input.predecessor.shell.proto)
}

/**
 * The shell header of a block made from `input`: level and protocol level after the predecessor,
 * the given timestamp, one validation pass per operation list, their Merkle root, fitness = level
 * (unless the protocol gives its own) and the protocol's context hash.
 */
export function newShellHeader (
  input: Pick<MakeBlockInput, 'protoLevel' | 'predecessor' | 'predecessorHash' | 'timestamp'>,
  block: { operations: readonly (readonly Operation[])[], context: Uint8Array, fitness?: Fitness }
): ShellHeader {
  const level = input.predecessor.shell.level + 1
  return {
    level,
    proto: newBlockProtoLevel(input),
    predecessor: input.predecessorHash,
    timestamp: input.timestamp,
    validationPass: block.operations.length,
    operationsHash: operationsHashOf(block.operations),
    fitness: block.fitness ?? levelFitness(level),
    context: block.context
  }
}

/** A protocol hash (b58 `P…`) derived from a description of the protocol and its parameters. */
export function protocolHashOf (description: Uint8Array): string {
  return b58Encode('protocolHash', blake2b256(description))
}

/** The operations_hash (LLo) of a block's operations, one list per validation pass. */
export function operationsHashOf (operations: readonly (readonly Operation[])[]): Uint8Array {
  return operationsHashOfPasses(operations.map(pass => pass.map(operationHash)))
}

/**
 * A digest of a block's state writes, in the order given (protocols give them sorted by key):
 * for each write, key length (uint16 BE) ‖ UTF-8 key ‖ 0x00 for a deletion, or 0xFF ‖ value length
 * (uint32 BE) ‖ value. Protocols chain it into their header's context hash so that a block
 * commits to the state it produces. (Built in one buffer: it runs once per block.)
 */
export function stateWritesDigest (writes: readonly StateWrite[]): Uint8Array {
  return blake2b256(serializeStateWrites(writes, { countPrefix: false, keyLengthBytes: 2 }))
}
