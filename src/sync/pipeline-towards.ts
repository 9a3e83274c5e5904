import { b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import type { Chain } from '../chain/chain.ts'
import { CheckpointConflictError, FutureBlockError } from '../chain/errors.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import { InvalidBlockError } from '../protocol/errors.ts'
import { BootstrapPipeline, type BootstrapPipelineOptions, type BootstrapPlan, type BootstrapProgress, type PipelineBlock } from './bootstrap-pipeline.ts'
import type { HashedHeader } from './checks.ts'
import type { Fetchers } from './fetchers.ts'
import { rangeStepFetcher, walkStepFetcher } from './step-headers.ts'

/** What a bootstrap pipeline towards one peer's branch is built from (the chain validator's parts). */
export interface PipelineParts {
  chain: Chain
  fetchers: Fetchers
  report: ReportPeer
  now: () => number
  /** How each locator step's headers are fetched (`HeaderFetchMode` of the chain validator). */
  mode: 'ranges' | 'walk'
  /** Clock drift beyond which a header is a future block (seconds). */
  maxClockDrift: number
  options?: BootstrapPipelineOptions
  onProgress: (p: BootstrapProgress) => void
}

/**
 * The bootstrap pipeline towards `peer`'s branch (`protocols/sync.md` §7; Octez's
 * `src/lib_shell/bootstrap_pipeline.ml`): headers by locator step, that peer asked first; each
 * header checked against the clock, the checkpoint and its protocol's validation passes as it
 * arrives; operations fetched, signatures prechecked ahead, blocks applied oldest first.
 */
export function pipelineTowards (peer: string, plan: BootstrapPlan, parts: PipelineParts): BootstrapPipeline {
  const { chain, fetchers, now } = parts
  const preferred = [peer]
  const fetchStepHeaders = parts.mode === 'ranges'
    ? rangeStepFetcher({
      fetchChunk: async (chunk, exclude) => await fetchers.ancestors.fetch(chunk, { preferred, exclude }),
      report: parts.report
    })
    : walkStepFetcher({ fetchHeader: async hash => await fetchers.headers.fetch(hash, { preferred }) })
  const checkpoint = chain.checkpoint
  const caboose = chain.caboose
  return new BootstrapPipeline(
    plan,
    {
      fetchStepHeaders,
      fetchOperations: async (h: HashedHeader) => await fetchers.operationsOf(h, { preferred }),
      checkHeader: (h: HashedHeader) => {
        const s = h.header.shell
        if (Number(s.timestamp) > now() / 1000 + parts.maxClockDrift) throw new FutureBlockError(b58Encode('blockHash', h.hash), s.timestamp, now())
        if (s.level <= caboose.level && caboose.level > 0) {
          throw new CheckpointConflictError(b58Encode('blockHash', h.hash), `level ${s.level} is not above the checkpoint at level ${caboose.level} this node started from`)
        }
        if (s.level === checkpoint.level && toHex(checkpoint.hash) !== h.hex) {
          throw new CheckpointConflictError(b58Encode('blockHash', h.hash), `the checkpoint at level ${checkpoint.level} is another block`)
        }
        // Headers of a protocol level not activated here yet are checked when applied.
        const protocol = chain.protocolOfHeader(h.header)
        const passes = protocol?.validationPassesOf?.(h.header) ?? protocol?.validationPasses
        if (passes !== undefined && s.validationPass !== passes) {
          throw new InvalidBlockError('bad_validation_passes', `block ${b58Encode('blockHash', h.hash)} has ${s.validationPass} validation passes, the protocol has ${passes}`)
        }
      },
      isKnown: async h => await chain.hasBlock(h.hash),
      apply: async blocks => { await chain.addBlocks(blocks.map(b => ({ header: b.header.header, operations: b.operations }))) },
      precheck: async blocks => { await precheckBlocks(chain, blocks) },
      onProgress: parts.onProgress,
      now
    },
    parts.options
  )
}

/**
 * Signature prechecks of fetched blocks, by the protocol of each block's level as far as it is
 * known here (`Protocol.precheckBlocks` remembers what it verified, by object identity, and the
 * chain hands it the same objects when it applies them). Errors are the application's to find.
 */
async function precheckBlocks (chain: Chain, blocks: PipelineBlock[]): Promise<void> {
  const runs: Array<Promise<void>> = []
  let start = 0
  let protocol = blocks.length > 0 ? chain.protocolOfHeader(blocks[0].header.header) : undefined
  for (let i = 1; i <= blocks.length; i++) {
    const next = i < blocks.length ? chain.protocolOfHeader(blocks[i].header.header) : undefined
    if (i < blocks.length && next === protocol) continue
    const run = blocks.slice(start, i).map(b => ({ header: b.header.header, operations: b.operations }))
    if (protocol?.precheckBlocks !== undefined) runs.push(protocol.precheckBlocks(run).catch(() => {}))
    start = i
    protocol = next
  }
  await Promise.all(runs)
}
