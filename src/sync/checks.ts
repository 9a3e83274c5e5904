import { b58Encode } from '../crypto/index.ts'
import type { Misbehaviour } from '../misbehaviour/index.ts'
import { bytesEqual } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { hashReceivedHeader, hashReceivedPass } from '../chain/received-hashes.ts'
import { checkMerklePath, type MerklePath } from '../wire/merkle.ts'
import type { Operation } from '../wire/operation.ts'

/**
 * Checks of what a peer answers, before anything is used: a header must hash to the requested
 * block, operations must lead through the Merkle path to the header's operations_hash at the
 * requested validation pass, an operation must hash to the requested hash. A failed check is the
 * answering peer's fault (`InvalidAnswerError`): the node reports it and asks another peer.
 * Wrong data is `invalid-data` (the default); an answer to a key never asked (or answered twice) is
 * `unrequested-data`, one for another chain `useless-answer`, bytes that do not decode `malformed-message`.
 */
export class InvalidAnswerError extends Error {
  override readonly name = 'InvalidAnswerError'
  readonly peer: string
  readonly misbehaviour: Misbehaviour
  constructor (peer: string, message: string, misbehaviour: Misbehaviour = 'invalid-data') {
    super(`peer ${peer}: ${message}`)
    this.peer = peer
    this.misbehaviour = misbehaviour
  }
}

const blockB58 = (hash: Uint8Array): string => b58Encode('blockHash', hash)

/** A header with its hash computed once from its wire bytes. */
export interface HashedHeader {
  hash: Uint8Array
  hex: string
  header: BlockHeader
  bytes: Uint8Array
}

export function hashHeader (header: BlockHeader): HashedHeader {
  return { ...hashReceivedHeader(header), header }
}

/** What a Get_operations_for_blocks key must lead to. */
export interface OperationsKeyCheck {
  blockHash: Uint8Array
  validationPass: number
  /** The block header's operations_hash (LLo). */
  operationsHash: Uint8Array
}

/**
 * Octez's acceptance test for Operations_for_blocks: the Lo hash of the operations, carried up the
 * path, must give the header's operations_hash, and the path's position must be the requested pass.
 */
export function checkOperationsAnswer (peer: string, key: OperationsKeyCheck, path: MerklePath, operations: readonly Operation[]): void {
  const { listHash } = hashReceivedPass(operations)
  const { root, position } = checkMerklePath(path, listHash)
  if (!bytesEqual(root, key.operationsHash)) {
    throw new InvalidAnswerError(peer, `operations of ${blockB58(key.blockHash)} pass ${key.validationPass} do not match its operations_hash through the Merkle path`)
  }
  if (position !== key.validationPass) {
    throw new InvalidAnswerError(peer, `operations of ${blockB58(key.blockHash)}: the Merkle path leads to pass ${position}, not ${key.validationPass}`)
  }
}

/**
 * A run of ancestors answered by Get_predecessor_header: `headers[i]` is `offsets[i]` levels below
 * `top` (offsets consecutive, increasing). Each must sit at its level and be the predecessor of
 * the one above it; the first must be the predecessor of `above` (the header at the offset just
 * before the run) when it is known.
 */
export function checkAncestorRun (peer: string, top: Uint8Array, topLevel: number, firstOffset: number, headers: readonly HashedHeader[], above?: BlockHeader): void {
  let expectedHash = above?.shell.predecessor
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]
    const level = topLevel - firstOffset - i
    if (h.header.shell.level !== level) {
      throw new InvalidAnswerError(peer, `the ancestor of ${blockB58(top)} at offset ${firstOffset + i} is at level ${h.header.shell.level}, not ${level}`)
    }
    if (expectedHash !== undefined && !bytesEqual(expectedHash, h.hash)) {
      throw new InvalidAnswerError(peer, `the ancestor of ${blockB58(top)} at offset ${firstOffset + i} is ${blockB58(h.hash)}, not the predecessor ${blockB58(expectedHash)}`)
    }
    expectedHash = h.header.shell.predecessor
  }
}
