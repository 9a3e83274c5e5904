import type { Logger } from 'pino'
import { Baker, type ProtocolActivation } from '../chain/baker.ts'
import type { Chain } from '../chain/chain.ts'
import { asDemoV3, DelegateBaker, type DelegateEvent } from '../chain/delegate-baker.ts'
import { DelegateWatermarks } from '../chain/delegate-watermark.ts'
import { EvidenceWatch } from '../chain/evidence-watch.ts'
import type { Mempool } from '../chain/mempool.ts'
import { publicKeyHash } from '../protocol/demo/keys.ts'
import type { Protocol } from '../protocol/protocol.ts'
import type { Database } from '../storage/database.ts'

/**
 * The blocks and accusations a node makes itself: the devnet baker, the demo v3 delegate that key
 * bakes and endorses as, and the double-baking watch every node of a v3 chain runs. Kept apart
 * from the chain node (chain-node.ts), which joins chain, mempool, gossip and sync: these only
 * read the chain and hand blocks and operations to it and to the mempool.
 */

/**
 * A devnet baker: the protocol's signing key, a period (ms; 0 or absent: only `bake()`), and the
 * protocol activations it writes (the block at `level` activates `protocol`).
 */
export interface NodeBakerOptions {
  key: Uint8Array
  intervalMs?: number
  activations?: readonly ProtocolActivation[]
  equivocate?: boolean
  doubleEndorse?: boolean
}

export interface NodeBakersInit {
  chain: Chain
  mempool: Mempool
  /** The database of the delegate's watermarks. */
  store: Database
  /** Every installed protocol: a demo v3 one among them makes a v3 chain. */
  protocols: readonly Protocol[]
  baker?: NodeBakerOptions
  maxClockDrift?: number
  logger: Logger
  /** Whether the node is bootstrapped: the delegate waits for it. */
  ready: () => boolean
}

export class NodeBakers {
  readonly baker: Baker | undefined
  private readonly delegateBaker: DelegateBaker | undefined
  private readonly evidenceWatch: EvidenceWatch | undefined
  private readonly log: Logger
  private readonly intervalMs: number

  constructor (init: NodeBakersInit) {
    const { chain, mempool, baker: options } = init
    this.log = init.logger
    this.intervalMs = options?.intervalMs ?? 0
    const v3 = init.protocols.some(p => asDemoV3(p) !== undefined)
    if (options !== undefined) {
      this.baker = new Baker({
        chain,
        mempool,
        bakerKey: options.key,
        ...(options.activations === undefined ? {} : { activations: options.activations }),
        ...(init.maxClockDrift === undefined ? {} : { maxClockDrift: init.maxClockDrift }),
        ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
        onBake: r => {
          if (r instanceof Error) this.log.warn({ err: r.message }, 'baking failed')
          else this.log.info({ block: r.hash, level: r.header.shell.level, operations: r.operations }, 'baked a block')
        }
      })
      // On a demo v3 chain (from genesis or once activated) the key bakes and endorses as a delegate.
      if (v3 && options.key.length === 64) {
        this.delegateBaker = new DelegateBaker({
          chain,
          mempool,
          key: options.key,
          ...(init.maxClockDrift === undefined ? {} : { maxClockDrift: init.maxClockDrift }),
          ...(options.activations === undefined ? {} : { activations: new Map(options.activations.map(a => [a.level, a.protocol])) }),
          ...(options.equivocate === true ? { equivocate: true } : {}),
          ...(options.doubleEndorse === true ? { doubleEndorse: true } : {}),
          watermarks: new DelegateWatermarks(init.store),
          onEvent: e => { this.logDelegateEvent(e) },
          ready: init.ready
        })
      }
    }
    if (v3) {
      // Every node of a v3 chain accuses double bakers (its own delegate excepted).
      const own = options?.key.length === 64 ? [publicKeyHash(options.key.subarray(32))] : []
      this.evidenceWatch = new EvidenceWatch({
        chain,
        mempool,
        ignore: own,
        onEvidence: e => { this.log.warn({ level: e.level, offender: e.offender, operation: e.hash }, `${e.kind.replace('_', ' ')} seen: evidence injected`) },
        onError: err => { this.log.warn({ err: err.message }, 'double baking watch failed') }
      })
    }
  }

  /** Automatic baking (with a period), the delegate's duties and the double-baking watch. */
  start (): void {
    if (this.intervalMs > 0) this.baker?.start()
    this.delegateBaker?.start()
    this.evidenceWatch?.start()
  }

  /** The node became bootstrapped: the delegate looks at its duties now. */
  nudge (): void {
    this.delegateBaker?.nudge()
  }

  async stop (): Promise<void> {
    await this.baker?.stop()
    await this.delegateBaker?.stop()
    await this.evidenceWatch?.stop()
  }

  private logDelegateEvent (e: DelegateEvent): void {
    switch (e.kind) {
      case 'baked': this.log.info({ block: e.result.hash, level: e.level, priority: e.priority, operations: e.result.operations }, 'baked a block'); break
      case 'endorsed': this.log.debug({ operation: e.hash, level: e.level, slot: e.slot }, 'endorsed the head'); break
      case 'revealed': this.log.info({ operation: e.hash, level: e.level }, 'revealed a seed nonce'); break
      case 'equivocated': this.log.warn({ block: e.hash, level: e.level }, 'baked a second block at the level (equivocation asked for)'); break
      case 'error': this.log.warn({ err: e.error.message }, 'delegate duties failed'); break
    }
  }
}
