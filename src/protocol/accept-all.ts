import { toHex } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { compareFitness } from '../wire/fitness.ts'
import type { Operation } from '../wire/operation.ts'
import { checkValidationPasses, levelFitness, newShellHeader } from './common.ts'
import { makeManifest, manifestHash } from './manifest.ts'
import { InvalidBlockError, VALID, invalid, type Verdict } from './errors.ts'
import type { BakedBlock, MakeBlockInput, OperationVerdict, Protocol } from './protocol.ts'

export interface AcceptAllConfig {
  /** Operation lists per block, 1..8 (default 1). */
  validationPasses?: number
  /** How many latest blocks an operation may branch on (default 120). */
  maxOperationsTtl?: number
}

/**
 * A protocol for tests of the shell: any operation is valid, and any block whose shell fields are
 * consistent (the shell's own checks, plus fitness = level and the configured number of passes).
 * An operation goes to pass `data[0] mod passes` (pass 0 when its data is empty). Blocks carry no
 * state (the context is 32 zero bytes) and empty protocol data.
 */
export function createAcceptAllProtocol (config: AcceptAllConfig = {}): Protocol {
  const passes = checkValidationPasses(config.validationPasses ?? 1, 'accept-all protocol')
  const ttl = config.maxOperationsTtl ?? 120
  const manifest = makeManifest('accept-all', 1, new TextEncoder().encode(`tzp2p accept-all protocol 1/${passes}/${ttl}`))
  const hash = manifestHash(manifest)
  const passOf = (op: Operation): number => op.data.length === 0 ? 0 : op.data[0] % passes

  function validateHeader (header: BlockHeader): Verdict<InvalidBlockError> {
    if (compareFitness(header.shell.fitness, levelFitness(header.shell.level)) !== 0) {
      return invalid(new InvalidBlockError('bad_fitness', `fitness is not the level ${header.shell.level}`))
    }
    if (header.shell.validationPass !== passes) {
      return invalid(new InvalidBlockError('bad_validation_passes', `${header.shell.validationPass} validation passes, expected ${passes}`))
    }
    return VALID
  }

  function makeBlock (input: MakeBlockInput): Promise<BakedBlock> {
    const operations: Operation[][] = Array.from({ length: passes }, () => [])
    for (const op of input.candidates) operations[passOf(op)].push(op)
    return Promise.resolve({
      header: { shell: newShellHeader(input, { operations, context: new Uint8Array(32) }), protocolData: new Uint8Array(0) },
      operations,
      refused: []
    })
  }

  return {
    name: 'accept-all',
    hash,
    manifest,
    validationPasses: passes,
    maxOperationsTtl: ttl,
    genesis: () => ({ writes: [], context: new Uint8Array(32) }),
    fitness: (level: number) => levelFitness(level),
    validateHeader,
    validateOperation: (op: Operation): Promise<OperationVerdict> => Promise.resolve({ ok: true, pass: passOf(op) }),
    applyBlock: () => Promise.resolve({ writes: [] }),
    makeBlock,
    describeOperation: (op: Operation) => ({ kind: 'opaque', data: toHex(op.data) }),
    describeProtocolData: (header: BlockHeader) => ({ data: toHex(header.protocolData) })
  }
}
