import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, toHex } from '../encoding/index.ts'
import { anonymousOperation, asDemoV3, decodeBlockData } from '../protocol/demo-v3/index.ts'
import { blockHash, type BlockHeader } from '../wire/block-header.ts'
import type { Chain, HeadChange } from './chain.ts'
import { MempoolRefusedError, type Mempool } from './mempool.ts'

/**
 * Catches double baking on a demo v3 chain (Tezos's accuser daemon): every block this node applies,
 * on the main chain or on a branch it later leaves, is noted by (level, baker); a second, different
 * block of one baker at one level makes this node inject a double baking evidence operation into
 * its mempool, which gossips it to the bakers (protocols/sync.md, Appendix A.2: the offender's
 * deposits of that cycle are taken, half to the baker that includes the evidence).
 *
 * Only recent levels are kept: evidence is refused once older than `preservedCycles` cycles.
 */

export interface EvidenceWatchOptions {
  chain: Chain
  mempool: Mempool
  /** Delegates not to denounce (this node's own: an equivocating demo baker does not report itself). */
  ignore?: readonly Uint8Array[]
  onEvidence?: (event: { level: number, offender: string, hash: string }) => void
  onError?: (error: Error) => void
}

export class EvidenceWatch {
  private readonly chain: Chain
  private readonly mempool: Mempool
  private readonly ignore: readonly Uint8Array[]
  private readonly onEvidence?: EvidenceWatchOptions['onEvidence']
  private readonly onError?: (error: Error) => void
  /** level → baker (hex) → the first header seen. */
  private readonly seen = new Map<number, Map<string, BlockHeader>>()
  /** `level:baker` already denounced by this node. */
  private readonly denounced = new Set<string>()
  private queue: Promise<void> = Promise.resolve()
  private readonly onHead = (change: HeadChange): void => {
    const headers = [...change.removed, ...change.applied].map(b => b.header)
    this.queue = this.queue.then(async () => { await this.note(headers) }).catch((e: unknown) => { this.onError?.(e as Error) })
  }

  constructor (options: EvidenceWatchOptions) {
    this.chain = options.chain
    this.mempool = options.mempool
    this.ignore = options.ignore ?? []
    if (options.onEvidence !== undefined) this.onEvidence = options.onEvidence
    if (options.onError !== undefined) this.onError = options.onError
  }

  start (): void { this.chain.on('head', this.onHead) }

  async stop (): Promise<void> {
    this.chain.off('head', this.onHead)
    await this.queue
  }

  private async note (headers: readonly BlockHeader[]): Promise<void> {
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) return
    const head = this.chain.head
    const window = protocol.parameters.blocksPerCycle * (protocol.parameters.preservedCycles + 1)
    for (const level of this.seen.keys()) if (level < head.header.shell.level - window) this.seen.delete(level)
    for (const header of headers) {
      const level = header.shell.level
      if (level < head.header.shell.level - window) continue
      let priority: number
      try {
        priority = decodeBlockData(header.protocolData).priority
      } catch {
        continue // not a demo v3 block (the v1/v2 blocks before an activation)
      }
      const rights = await this.chain.atHead(async (_head, state) => await protocol.rightsAt(state, level, priority + 1))
      const baker = rights.bakers[priority]
      if (baker === undefined || this.ignore.some(d => bytesEqual(d, baker))) continue
      const key = toHex(baker)
      let atLevel = this.seen.get(level)
      if (atLevel === undefined) this.seen.set(level, atLevel = new Map<string, BlockHeader>())
      const first = atLevel.get(key)
      if (first === undefined) { atLevel.set(key, header); continue }
      if (bytesEqual(blockHash(first), blockHash(header)) || this.denounced.has(`${level}:${key}`)) continue
      this.denounced.add(`${level}:${key}`)
      await this.denounce(level, baker, first, header)
    }
  }

  private async denounce (level: number, baker: Uint8Array, bh1: BlockHeader, bh2: BlockHeader): Promise<void> {
    const op = { branch: this.chain.head.hash, data: anonymousOperation({ kind: 'double_baking_evidence', bh1, bh2 }) }
    try {
      const r = await this.mempool.add(op)
      this.onEvidence?.({ level, offender: b58Encode('ed25519PublicKeyHash', baker), hash: b58Encode('operationHash', r.hash) })
    } catch (e) {
      // Already denounced by someone else's evidence on the chain: nothing to add.
      if (!(e instanceof MempoolRefusedError)) throw e
    }
  }
}
