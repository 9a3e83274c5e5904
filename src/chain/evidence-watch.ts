import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, toHex } from '../encoding/index.ts'
import { anonymousOperation, asDemoV3, decodeBlockData, decodeOperationData, type Contents } from '../protocol/demo-v3/index.ts'
import type { InlinedEndorsement } from '../protocol/demo-v3/encoding.ts'
import type { Operation } from '../wire/operation.ts'
import { blockHash, type BlockHeader } from '../wire/block-header.ts'
import type { Chain, HeadChange } from './chain.ts'
import { MempoolRefusedError, type Mempool } from './mempool.ts'

/**
 * Catches double baking and double endorsement on a demo v3 chain (Tezos's accuser daemon): every
 * block this node applies, on the main chain or on a branch it later leaves, is noted by (level,
 * baker), and every endorsement its mempool admits by (level, endorser); a second, different block
 * of one baker at one level, or an endorsement of another block by one endorser at one level, makes
 * this node inject the evidence operation into its mempool, which gossips it to the bakers (protocols/sync.md, Appendix A.2: the offender's
 * deposits of that cycle are taken, half to the baker that includes the evidence).
 *
 * Only recent levels are kept: evidence is refused once older than `preservedCycles` cycles.
 */

export type EvidenceKind = 'double_baking' | 'double_endorsement'

export interface EvidenceWatchOptions {
  chain: Chain
  mempool: Mempool
  /** Delegates not to denounce (this node's own: an equivocating demo baker does not report itself). */
  ignore?: readonly Uint8Array[]
  onEvidence?: (event: { kind: EvidenceKind, level: number, offender: string, hash: string }) => void
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
  /** level → endorser (hex) → its first endorsement seen. */
  private readonly endorsements = new Map<number, Map<string, InlinedEndorsement>>()
  private queue: Promise<void> = Promise.resolve()
  private stopAdmissions: (() => void) | undefined
  private readonly onHead = (change: HeadChange): void => {
    const headers = [...change.removed, ...change.applied].map(b => b.header)
    this.serially(async () => { await this.note(headers) })
  }

  constructor (options: EvidenceWatchOptions) {
    this.chain = options.chain
    this.mempool = options.mempool
    this.ignore = options.ignore ?? []
    if (options.onEvidence !== undefined) this.onEvidence = options.onEvidence
    if (options.onError !== undefined) this.onError = options.onError
  }

  start (): void {
    this.chain.on('head', this.onHead)
    // Endorsements are seen as they enter the mempool (the next head's round takes those of a
    // second block at the level, which the first round refused as duplicates).
    this.stopAdmissions = this.mempool.onAdmit(p => {
      if (p.pass === 0) this.serially(async () => { await this.noteEndorsement(p.operation) })
    })
  }

  async stop (): Promise<void> {
    this.chain.off('head', this.onHead)
    this.stopAdmissions?.()
    await this.queue
  }

  private serially (fn: () => Promise<void>): void {
    this.queue = this.queue.then(fn).catch((e: unknown) => { this.onError?.(e as Error) })
  }

  private async noteEndorsement (op: Operation): Promise<void> {
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) return
    let data: ReturnType<typeof decodeOperationData>
    try {
      data = decodeOperationData(op.data)
    } catch {
      return
    }
    if (data.contents.kind !== 'endorsement' || data.signature === undefined) return
    const { level, slot } = data.contents
    const head = this.chain.head.header.shell.level
    for (const l of this.endorsements.keys()) if (l < head - protocol.parameters.blocksPerCycle) this.endorsements.delete(l)
    const endorser = (await protocol.rightsAt(this.chain.state, level, 0)).slots[slot]
    if (endorser === undefined || this.ignore.some(d => bytesEqual(d, endorser))) return
    const key = toHex(endorser)
    let atLevel = this.endorsements.get(level)
    if (atLevel === undefined) this.endorsements.set(level, atLevel = new Map<string, InlinedEndorsement>())
    const inlined: InlinedEndorsement = { branch: op.branch, endorsement: data.contents, signature: data.signature }
    const first = atLevel.get(key)
    if (first === undefined) { atLevel.set(key, inlined); return }
    if (bytesEqual(first.branch, inlined.branch) || this.denounced.has(`e:${level}:${key}`)) return
    this.denounced.add(`e:${level}:${key}`)
    await this.inject('double_endorsement', level, endorser, { kind: 'double_endorsement_evidence', op1: first, op2: inlined })
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
      await this.inject('double_baking', level, baker, { kind: 'double_baking_evidence', bh1: first, bh2: header })
    }
  }

  private async inject (kind: EvidenceKind, level: number, offender: Uint8Array, contents: Contents): Promise<void> {
    const op = { branch: this.chain.head.hash, data: anonymousOperation(contents) }
    try {
      const r = await this.mempool.add(op)
      this.onEvidence?.({ kind, level, offender: b58Encode('ed25519PublicKeyHash', offender), hash: b58Encode('operationHash', r.hash) })
    } catch (e) {
      // Already denounced by someone else's evidence on the chain: nothing to add.
      if (!(e instanceof MempoolRefusedError)) throw e
    }
  }
}
