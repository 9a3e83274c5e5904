import { b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { compareFitness } from '../wire/fitness.ts'
import type { Operation } from '../wire/operation.ts'
import { InvalidBlockError, type Verdict } from '../protocol/errors.ts'
import type { Protocol } from '../protocol/protocol.ts'
import { checkProtocolHeader, checkShellHeader, prepareOperations, type PreparedOperations } from './checks.ts'
import { CheckpointConflictError, FutureBlockError, KnownInvalidBlockError, NotAChainError, UnknownPredecessorError } from './errors.ts'
import type { BlockRecord, InvalidRecord } from './records.ts'
import { headerHashOf } from './received-hashes.ts'
import type { ChainStore, StoredHeader } from './store.ts'
import { loadStoredOperations } from './stored-blocks.ts'
import type { PreparedBlock } from './transition.ts'

/**
 * The checks a run of blocks passes before the fork choice (chain.ts): headers hashed and looked
 * up in the store, each block following the one before it, its header checked against its
 * predecessor (shell, protocol level, then the protocol's own checks) and its operations against
 * its operations_hash. Kept apart from the fork choice: nothing here applies a block or moves the
 * head; the only write is the invalid record of a block refused, through the chain.
 */

export interface BlockInput {
  header: BlockHeader
  operations: Operation[][]
}

/** What the checks read of the chain (a `ChainReader` has it all). */
export interface RunCheckHost {
  readonly store: ChainStore
  readonly head: StoredHeader
  protocolOfHeader: (header: BlockHeader) => Protocol | undefined
}

export interface RunCheckOptions {
  /** Clock in milliseconds. */
  now: () => number
  /** Seconds a block's timestamp may be ahead of `now`. */
  maxClockDrift: number
  /** Records the blocks invalid (the first for `error`, the others as its descendants); returns the error, naming the block. */
  recordInvalid: (blocks: StoredHeader[], error: InvalidBlockError) => Promise<InvalidBlockError>
}

/** The store's answers for a run: each header hashed, and whether it is known invalid or stored. */
export interface RunLookUps {
  headers: StoredHeader[]
  invalids: Array<InvalidRecord | undefined>
  records: Array<BlockRecord | undefined>
}

const b58 = (hash: Uint8Array): string => b58Encode('blockHash', hash)

export class RunChecks {
  private readonly host: RunCheckHost
  private readonly options: RunCheckOptions

  constructor (host: RunCheckHost, options: RunCheckOptions) {
    this.host = host
    this.options = options
  }

  /** Shell checks, the protocol level's plausibility, and the protocol's checks when its protocol is known. */
  checkHeader (header: BlockHeader, predecessor: BlockHeader): { verdict: Verdict<InvalidBlockError>, checkedBy?: Protocol } {
    const shell = checkShellHeader(header, predecessor)
    if (!shell.ok) return { verdict: shell }
    const proto = header.shell.proto
    const predProto = predecessor.shell.level === 0 ? 0 : predecessor.shell.proto
    if (proto !== predProto && proto !== (predProto + 1) % 256) {
      return { verdict: { ok: false, error: new InvalidBlockError('bad_proto_level', `protocol level ${proto} after a block at protocol level ${predProto}`) } }
    }
    const protocol = this.host.protocolOfHeader(header)
    if (protocol === undefined) return { verdict: shell }
    return { verdict: checkProtocolHeader(protocol, header, predecessor), checkedBy: protocol }
  }

  /**
   * The run's headers hashed, and whether each block is known (invalid, or stored): one multi-get
   * each for the whole run instead of two LevelDB round trips per block. Applying earlier blocks
   * changes neither answer (they write other keys), so this may run ahead of them.
   */
  async lookUp (blocks: readonly BlockInput[]): Promise<RunLookUps> {
    const { store, head } = this.host
    const headers: StoredHeader[] = blocks.map(block => ({ ...headerHashOf(block.header), header: block.header }))
    const hexes = headers.map(h => h.hex)
    // A block on our head that beats it is not stored: had it been applied, the head could not
    // have gone back to its predecessor (the head only moves to a better fitness), and a block
    // only stored did not beat the head of its time. That is the new head of every gossip hop:
    // its record is not looked up (a LevelDB read on every hop otherwise).
    const onHead = blocks.length > 0 && toHex(blocks[0].header.shell.predecessor) === head.hex &&
      compareFitness(headers[0].header.shell.fitness, head.header.shell.fitness) > 0
    const [invalids, records] = await Promise.all([
      store.getInvalids(hexes),
      onHead ? store.getBlockRecords(hexes.slice(1)).then(rest => [undefined, ...rest]) : store.getBlockRecords(hexes)
    ])
    return { headers, invalids, records }
  }

  /**
   * Header-level checks of each block, stopping at the first refusal (which is returned, not
   * thrown). `after` is the block just before the run when the caller has already checked it.
   */
  async prepare (blocks: readonly BlockInput[], { headers, invalids, records }: RunLookUps, after?: StoredHeader): Promise<{ prepared: PreparedBlock[], known: number, failure?: Error }> {
    const store = this.host.store
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
          predecessor = await store.getHeader(predHex)
          if (await store.getInvalid(predHex) !== undefined) {
            throw await this.options.recordInvalid([stored], new InvalidBlockError('invalid_predecessor', `predecessor ${b58(block.header.shell.predecessor)} is invalid`))
          }
          if (predecessor === undefined) throw new UnknownPredecessorError(b58(stored.hash), b58(block.header.shell.predecessor))
        }
        const record = records[i]
        if (record !== undefined) {
          known++
          prepared.push({ stored, ops: await loadStoredOperations(store, stored, record.listHashes), isNew: false })
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

  private async checkNewBlock (stored: StoredHeader, operations: Operation[][], predecessor: StoredHeader): Promise<{ ops: PreparedOperations, checkedBy?: Protocol }> {
    const { header, hash } = stored
    const { now, maxClockDrift } = this.options
    const checkpoint = this.host.store.checkpoint
    if (header.shell.level === checkpoint.level && toHex(checkpoint.hash) !== stored.hex) {
      throw new CheckpointConflictError(b58(hash), `the checkpoint at level ${checkpoint.level} is ${b58(checkpoint.hash)}`)
    }
    if (Number(header.shell.timestamp) > now() / 1000 + maxClockDrift) {
      throw new FutureBlockError(b58(hash), header.shell.timestamp, now())
    }
    const { verdict, checkedBy } = this.checkHeader(header, predecessor.header)
    if (!verdict.ok) throw await this.options.recordInvalid([stored], verdict.error)
    const ops = prepareOperations(header, operations, hash)
    return checkedBy === undefined ? { ops } : { ops, checkedBy }
  }
}
