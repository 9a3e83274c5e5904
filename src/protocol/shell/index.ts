import { b58Decode } from '../../crypto/index.ts'
import { encode, toHex } from '../../encoding/index.ts'
import type { BlockHeader } from '../../wire/block-header.ts'
import { operationCodec, operationHashOfBytes, type Operation } from '../../wire/operation.ts'
import { checkValidationPasses } from '../common.ts'
import { describeTezosContents, isKnownTezosProtocol } from '../tezos/operation-kinds.ts'
import { InvalidBlockError, InvalidOperationError, VALID, type Verdict } from '../errors.ts'
import type { AppliedBlock, ApplyBlockInput, BakedBlock, OperationVerdict, Protocol } from '../protocol.ts'
import { MAX_OPERATION_DATA_LENGTH, OCTEZ_GENESIS_PROTOCOLS, TEZOS_MAX_OPERATIONS_TTL, TEZOS_PASS_QUOTAS, TEZOS_VALIDATION_PASSES } from './limits.ts'

export { MAX_OPERATION_DATA_LENGTH, TEZOS_MAX_OPERATIONS_TTL, TEZOS_PASS_QUOTAS, TEZOS_VALIDATION_PASSES } from './limits.ts'

export interface ShellProtocolConfig {
  /**
   * The genesis protocol of the chain followed (b58 `P…`), whatever it is: the shell protocol
   * stands for it and for every protocol the chain activates later.
   */
  hash: string
  /** Operation lists per block (default 4, Tezos's). */
  validationPasses?: number
  /** How many latest blocks an operation may branch on (default 600, Tallinn's). */
  maxOperationsTtl?: number
}

/** What a shell-only node cannot do: compute a fitness or make a block (it has no economic protocol). */
export class ShellOnlyError extends Error {
  override readonly name = 'ShellOnlyError'
}

/**
 * `--protocol shell`: what Octez's shell checks of a block without its economic protocol
 * (`src/lib_validation/block_validation.ml`, `src/lib_shell/block_validator.ml`). The chain does
 * the header checks (level = predecessor + 1, a later timestamp not beyond the clock drift, a
 * greater fitness compared as `Fitness.compare` does, protocol level equal to the predecessor's or
 * one above, the number of validation passes) and checks operations against operations_hash and
 * their branches' liveness; this protocol adds Octez's operation quota (`check_operation_quota`:
 * operations per pass, each operation's size) and refuses an operation listed twice in a block
 * (`check_liveness`'s duplicate check, within the block). The fitness and protocol data are
 * opaque: taken as the header carries them and kept as bytes. Operations are relayed without
 * being validated (mempool admission checks only their size and branch).
 *
 * `shellOnly` tells the chain to take each header's protocol level as given and run this
 * protocol at every level, since it cannot know which block activates which protocol.
 */
export function createShellProtocol (config: ShellProtocolConfig): Protocol {
  try {
    b58Decode('protocolHash', config.hash)
  } catch (e) {
    throw new RangeError(`shell protocol: ${JSON.stringify(config.hash)} is not a protocol hash (${(e as Error).message})`, { cause: e })
  }
  const passes = checkValidationPasses(config.validationPasses ?? TEZOS_VALIDATION_PASSES, 'shell protocol')
  const ttl = config.maxOperationsTtl ?? TEZOS_MAX_OPERATIONS_TTL
  const quotas = passes === TEZOS_VALIDATION_PASSES ? TEZOS_PASS_QUOTAS : undefined
  // Block 1 is validated by the genesis protocol; Octez's have no validation pass.
  const genesisProtocolPasses = OCTEZ_GENESIS_PROTOCOLS.has(config.hash) ? 0 : passes
  // Operations are read with the named protocol's encodings when the library knows it, else the current ones.
  const kindsProtocol = isKnownTezosProtocol(config.hash) ? config.hash : undefined

  return {
    name: 'shell',
    hash: config.hash,
    shellOnly: true,
    validationPasses: passes,
    validationPassesOf: (header: BlockHeader) => header.shell.level === 1 ? genesisProtocolPasses : passes,
    maxOperationsTtl: ttl,
    genesis: () => ({ writes: [], context: new Uint8Array(32) }),
    fitness: () => { throw new ShellOnlyError('the shell protocol cannot compute a fitness: it takes each header\'s fitness as given') },
    validateHeader: (): Verdict<InvalidBlockError> => VALID,
    validateOperation: (op: Operation): Promise<OperationVerdict> => {
      const size = encodedSize(op)
      if (size > MAX_OPERATION_DATA_LENGTH) {
        return Promise.resolve({ ok: false, error: new InvalidOperationError('refused', `oversized operation: ${size} bytes, at most ${MAX_OPERATION_DATA_LENGTH}`) })
      }
      // Which pass an operation belongs to is the economic protocol's knowledge; nothing here uses it.
      return Promise.resolve({ ok: true, pass: 0 })
    },
    // An invalid block rejects the promise (the executor's throw), as the interface says.
    applyBlock: (input: ApplyBlockInput): Promise<AppliedBlock> => new Promise(resolve => {
      checkOperationQuota(input.operations, input.operations.length === TEZOS_VALIDATION_PASSES ? quotas : undefined)
      resolve({ writes: [] })
    }),
    makeBlock: (): Promise<BakedBlock> => Promise.reject(new ShellOnlyError('the shell protocol cannot bake: it has no economic protocol')),
    describeOperation: (op: Operation) => describeUnvalidatedOperation(op, kindsProtocol),
    describeProtocolData: (header: BlockHeader) => ({ data: toHex(header.protocolData) })
  }
}

/**
 * An operation the shell relays without validating it, by kind where `@taquito/local-forging`
 * reads its contents (`src/protocol/tezos/operation-kinds.ts`), its bytes otherwise.
 */
function describeUnvalidatedOperation (op: Operation, protocol: string | undefined): Record<string, unknown> {
  const d = describeTezosContents(op, protocol)
  if (d.decoded) return { validated: false, kinds: d.contents.map(c => c.kind), contents: d.contents, signature: d.signature }
  return { validated: false, ...(d.kind === undefined ? { kind: 'unparsed' } : { kind: d.kind }), data: toHex(op.data) }
}

function encodedSize (op: Operation): number {
  return 32 + op.data.length
}

/**
 * Octez's `check_operation_quota` (pass numbers in messages are 1-based, as Octez prints them),
 * the size bound of `parse`, and no operation twice in the block.
 */
export function checkOperationQuota (operations: readonly (readonly Operation[])[], quotas: typeof TEZOS_PASS_QUOTAS | undefined): void {
  const seen = new Set<string>()
  operations.forEach((ops, i) => {
    const pass = i + 1
    const maxOp = quotas?.[i]?.maxOp ?? null
    if (maxOp !== null && ops.length > maxOp) {
      throw new InvalidBlockError('refused', `too many operations in validation pass ${pass}: ${ops.length}, at most ${maxOp}`)
    }
    ops.forEach((op, index) => {
      const bytes = encode(operationCodec, op)
      if (bytes.length > MAX_OPERATION_DATA_LENGTH) {
        throw new InvalidBlockError('refused', `oversized operation ${index} of validation pass ${pass}: ${bytes.length} bytes, at most ${MAX_OPERATION_DATA_LENGTH}`)
      }
      const hash = toHex(operationHashOfBytes(bytes))
      if (seen.has(hash)) throw new InvalidBlockError('refused', `operation ${index} of validation pass ${pass} is listed twice in the block`)
      seen.add(hash)
    })
  })
}
