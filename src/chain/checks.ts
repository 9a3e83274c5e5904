import { b58Encode } from '../crypto/index.ts'
import { bytesEqual } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { compareFitness } from '../wire/fitness.ts'
import { operationListListHash } from '../wire/merkle.ts'
import type { Operation } from '../wire/operation.ts'
import { InvalidBlockError, VALID, invalid, type Verdict } from '../protocol/errors.ts'
import type { Protocol } from '../protocol/protocol.ts'
import { OperationsMismatchError } from './errors.ts'
import { encodePassOperations } from './store.ts'
import { passHashesOf } from './received-hashes.ts'

/**
 * What Octez's shell checks of a header against its predecessor before asking the protocol:
 * level + 1, a strictly later timestamp and a strictly greater fitness. (The protocol level is
 * checked where the chain knows which protocols were activated: `protocol-levels.ts`.)
 */
export function checkShellHeader (header: BlockHeader, predecessor: BlockHeader): Verdict<InvalidBlockError> {
  const s = header.shell
  const p = predecessor.shell
  if (s.level !== p.level + 1) {
    return invalid(new InvalidBlockError('bad_level', `level ${s.level} on a predecessor at level ${p.level}`))
  }
  if (s.timestamp <= p.timestamp) {
    return invalid(new InvalidBlockError('non_increasing_timestamp', `timestamp ${s.timestamp} is not after the predecessor's ${p.timestamp}`))
  }
  if (compareFitness(s.fitness, p.fitness) <= 0) {
    return invalid(new InvalidBlockError('bad_fitness', 'fitness does not increase over the predecessor'))
  }
  return VALID
}

/** The shell's checks, then the number of validation passes of `protocol` and the protocol's own header checks. */
export function checkHeader (protocol: Protocol, header: BlockHeader, predecessor: BlockHeader): Verdict<InvalidBlockError> {
  const shell = checkShellHeader(header, predecessor)
  if (!shell.ok) return shell
  return checkProtocolHeader(protocol, header, predecessor)
}

/** The part of `checkHeader` that depends on the protocol. */
export function checkProtocolHeader (protocol: Protocol, header: BlockHeader, predecessor: BlockHeader): Verdict<InvalidBlockError> {
  const passes = protocol.validationPassesOf?.(header) ?? protocol.validationPasses
  if (header.shell.validationPass !== passes) {
    return invalid(new InvalidBlockError('bad_validation_passes', `${header.shell.validationPass} validation passes, the protocol has ${passes}`))
  }
  return protocol.validateHeader(header, predecessor)
}

/** A block's operations, hashed and encoded once for the Merkle check and for storage. */
export interface PreparedOperations {
  operations: Operation[][]
  /** Per pass, the stored list encoding. */
  encodedPasses: Uint8Array[]
  /** Per pass, the Lo hash. */
  listHashes: Uint8Array[]
  /** Every operation hash, pass by pass (for the mempool). */
  hashes: Uint8Array[]
}

/**
 * Checks operations against their header: one list per validation pass, and the two-level
 * Merkle root equal to the header's operations_hash. A mismatch is the operations' fault
 * (`OperationsMismatchError`), never grounds to call the block invalid.
 */
export function prepareOperations (header: BlockHeader, operations: Operation[][], hash: Uint8Array): PreparedOperations {
  if (operations.length !== header.shell.validationPass) {
    throw new OperationsMismatchError(b58Encode('blockHash', hash),
      `${operations.length} operation list(s) for ${header.shell.validationPass} validation pass(es)`)
  }
  const encodedPasses: Uint8Array[] = []
  const listHashes: Uint8Array[] = []
  const hashes: Uint8Array[] = []
  for (const pass of operations) {
    const h = passHashesOf(pass)
    hashes.push(...h.hashes)
    encodedPasses.push(encodePassOperations(h.encoded))
    listHashes.push(h.listHash)
  }
  if (!bytesEqual(operationListListHash(listHashes), header.shell.operationsHash)) {
    throw new OperationsMismatchError(b58Encode('blockHash', hash), 'their Merkle root is not the operations_hash')
  }
  return { operations, encodedPasses, listHashes, hashes }
}

