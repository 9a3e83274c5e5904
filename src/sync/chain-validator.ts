import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import { BoundedCache } from '../chain/cache.ts'
import type { Chain } from '../chain/chain.ts'
import { FutureBlockError, UnknownPredecessorError, UnknownProtocolError } from '../chain/errors.ts'
import type { Mempool } from '../chain/mempool.ts'
import { peerIdBytes } from '../gossip/branch.ts'
import type { BranchAnnouncement, HeadAnnouncement } from '../gossip/service-init.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import type { BlockLocator } from '../wire/locator.ts'
import {
  BootstrapPipeline, PipelineAbortedError, type BootstrapPipelineOptions, type BootstrapPlan, type BootstrapProgress, type BootstrapResult
} from './bootstrap-pipeline.ts'
import { hashHeader } from './checks.ts'
import type { SyncClient } from './client.ts'
import { Fetchers } from './fetchers.ts'
import { pipelineTowards } from './pipeline-towards.ts'
import { planFromLocator } from './plan.ts'
import { announcedHeadStatus, beatsHead, blockStatus, needsMissingProtocol } from './block-status.ts'
import { BRANCH_RETRY_MS, BranchTargets, type BranchTarget } from './branch-targets.ts'
import { InvalidLocatorError } from './step-headers.ts'
import { SynchronisationHeuristic, type SynchronisationOptions } from './synchronisation.ts'
import type { PeerWire } from '../peer/index.ts'

/**
 * How a bootstrap fetches each locator step's headers: `ranges` (in chunks from several peers in
 * parallel, the default) or `walk` (one header at a time by predecessor hash, as Octez's
 * `src/lib_shell/bootstrap_pipeline.ml` does).
 */
export type HeaderFetchMode = 'ranges' | 'walk'

export interface ChainValidatorInit {
  chain: Chain
  mempool?: Mempool
  client: SyncClient
  /** Our Tezos peer id. */
  tezosPeerId: string
  /** Peers we may ask (gossiping, authenticated). */
  peers: () => string[]
  /**
   * The wire a peer is on. A branch announced by an Octez-wire peer is fetched by walking headers
   * with Get_block_headers, as Octez's bootstrap pipeline does, and ranges of ancestors are asked
   * of libp2p peers only: Octez throttles Get_predecessor_header to one per 10 s.
   */
  wireOf?: (peer: string) => PeerWire | undefined
  /** The peer policy. */
  report: ReportPeer
  logger: Logger
  synchronisation?: SynchronisationOptions
  headerFetchMode?: HeaderFetchMode
  pipeline?: BootstrapPipelineOptions
  blockDataTimeoutMs?: number
  now?: () => number
  maxClockDrift?: number
}

export interface PipelineEnd {
  peer: string
  result?: BootstrapResult
  error?: Error
}

export interface ChainValidatorEvents {
  progress: [BootstrapProgress]
  /** A block from `peer` needs a protocol that is not installed. */
  'protocol:missing': [{ peer: string, error: UnknownProtocolError }]
  bootstrapped: []
  'pipeline:end': [PipelineEnd]
}

/**
 * What the node does with what peers announce (Octez's chain validator and peer
 * validators, `src/lib_shell/chain_validator.ml` and `src/lib_shell/peer_validator.ml`):
 *
 * - A Current_head whose predecessor we have and whose fitness beats our head: fetch its
 *   operations and apply it. Its predecessor unknown: ask that peer for its branch.
 * - A Current_branch (or a fetched one) better than our head: plan a bootstrap from its locator
 *   and run the pipeline. One pipeline runs at a time (tzp2p fetches each branch from all peers);
 *   when it ends, the best remaining announcement is taken up.
 * - Mempool hashes we lack are fetched and offered to the mempool.
 * - Blame: an invalid block, a lying locator or a known-invalid announcement is the announcing
 *   peer's fault, reported to the peer policy (`report`, which greylists for these); so are wrong
 *   answers, through the fetchers.
 * - `bootstrapped` follows Octez's synchronisation heuristic.
 */
export class ChainValidator extends EventEmitter<ChainValidatorEvents> {
  readonly fetchers: Fetchers
  readonly synchronisation: SynchronisationHeuristic
  private readonly init: ChainValidatorInit
  private readonly log: Logger
  private readonly chain: Chain
  private readonly now: () => number
  /** Announced branches waiting for the pipeline. */
  private readonly targets = new BranchTargets()
  /** Each peer's latest announced head, looked at again when blocks arrive (the heuristic counts it once we have it). */
  private readonly announced = new Map<string, BlockHeader>()
  /** Heads announced while a pipeline ran, looked at again when it ends. */
  private readonly laterHeads = new Map<string, HeadAnnouncement>()
  private readonly seenOperations = new BoundedCache<string, true>(50_000)
  private running: BootstrapPipeline | undefined
  /** Announced heads being fetched and applied now, by block hash (hex). */
  private readonly takingHeads = new Map<string, Promise<void>>()
  private stopped = false
  private readonly branchRequests = new Set<string>()
  private retryTimer: ReturnType<typeof setTimeout> | undefined

  constructor (init: ChainValidatorInit) {
    super()
    this.init = init
    this.chain = init.chain
    this.log = init.logger.child({ module: 'chain-validator' })
    this.now = init.now ?? Date.now
    this.synchronisation = new SynchronisationHeuristic({ now: this.now, ...init.synchronisation })
    this.fetchers = new Fetchers({
      client: init.client,
      peers: init.peers,
      ...(init.wireOf === undefined ? {} : { rangePeers: () => init.peers().filter(p => init.wireOf?.(p) !== 'octez') }),
      report: this.report,
      onError: (peer, error) => { this.log.debug({ peer, err: error.message }, 'request failed') },
      ...(init.blockDataTimeoutMs === undefined ? {} : { blockDataTimeoutMs: init.blockDataTimeoutMs })
    })
  }

  get bootstrapped (): boolean {
    return this.synchronisation.bootstrapped
  }

  /** A pipeline is running (the node is catching up). */
  get syncing (): boolean {
    return this.running !== undefined
  }

  handleHead (a: HeadAnnouncement): void {
    this.onHead(a).catch((err: Error) => { this.log.warn({ peer: a.peer.tezosPeerId, err: err.message }, 'head handling failed') })
  }

  handleBranch (a: BranchAnnouncement): void {
    this.onBranch(a.peer.tezosPeerId, a.locator).catch((err: Error) => { this.log.warn({ peer: a.peer.tezosPeerId, err: err.message }, 'branch handling failed') })
  }

  peerConnected (): void {
    this.fetchers.peersChanged()
  }

  peerGone (peer: string): void {
    this.targets.delete(peer)
    this.announced.delete(peer)
    this.laterHeads.delete(peer)
    // As Octez cancels a peer's bootstrap with the peer: the branch it announced is abandoned (what
    // was applied stays), and the next best branch, if any, starts from our head.
    if (this.running?.peer === peer) this.running.abort(new PipelineAbortedError(`peer ${peer} is gone`))
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.targets.stop()
    this.running?.abort()
    this.fetchers.stop()
  }

  /** A peer's block we hold valid counts towards the synchronisation heuristic. */
  private noteValid (peer: string, header: BlockHeader): void {
    if (this.synchronisation.update(peer, Number(header.shell.timestamp))) {
      this.log.info({ peer }, 'bootstrapped')
      this.emit('bootstrapped')
    }
  }

  /** A block needed a protocol we lack: never the peer's fault. */
  private onUnknownProtocol (peer: string, err: UnknownProtocolError): void {
    this.log.debug({ peer, protocol: err.protocol, level: err.level }, 'branch stops at a protocol that is not installed')
    this.emit('protocol:missing', { peer, error: err })
  }

  private async onHead (a: HeadAnnouncement): Promise<void> {
    const peer = a.peer.tezosPeerId
    this.announced.set(peer, a.header)
    // A tzp2p peer's new head lists the block's operations (gossip.md §4.3): they are mempool
    // operations to fetch only if the block is not taken, so that fetch waits for the head's fate.
    try {
      await this.followHead(peer, a)
    } finally {
      this.fetchMempool(peer, a.mempool.knownValid)
    }
  }

  private async followHead (peer: string, a: HeadAnnouncement): Promise<void> {
    const status = await announcedHeadStatus(this.chain, a.header, a.hash)
    if (status === 'valid') { this.noteValid(peer, a.header); return }
    if (status === 'invalid' || !beatsHead(this.chain, a.header) || this.stopped || needsMissingProtocol(this.chain, a.header)) return
    if (this.running !== undefined) { this.laterHeads.set(peer, a); return }
    // Heads baked back to back: the predecessor may be the head we are fetching right now. Wait
    // for it rather than ask the peer for its branch (Get_current_branch is throttled to one per
    // 4 s, so asking would leave us a block behind until the next head).
    const hex = toHex(a.hash)
    const waitFor = this.takingHeads.get(hex) ?? this.takingHeads.get(toHex(a.header.shell.predecessor))
    // This block is being fetched from the peer that announced it first; this one pushed its
    // operations with its announcement (gossip.md §4.6) and answers at once: whichever comes first.
    if (this.takingHeads.has(hex) && a.peer.hasPushed?.(a.hash) === true) this.fetchers.hedgeOperationsOf(hashHeader(a.header), peer)
    if (waitFor !== undefined) {
      await waitFor
      const now = await blockStatus(this.chain, a.hash)
      if (now === 'valid') { this.noteValid(peer, a.header); return }
      if (now === 'invalid' || this.stopped || this.takingHeads.has(hex)) return
      if (this.running !== undefined) { this.laterHeads.set(peer, a); return }
    }
    if (await blockStatus(this.chain, a.header.shell.predecessor) !== 'valid') {
      await this.askBranch(peer, a)
      return
    }
    const taking = this.takeHead(peer, a)
    this.takingHeads.set(hex, taking)
    try {
      await taking
    } finally {
      this.takingHeads.delete(hex)
    }
  }

  /** Fetches an announced head's operations and applies it (its predecessor is valid). Never throws. */
  private async takeHead (peer: string, a: HeadAnnouncement): Promise<void> {
    const header = hashHeader(a.header)
    try {
      // Operations our mempool already holds need no fetch (picked by the hashes the announcement
      // lists, checked against operations_hash there).
      const operations = this.init.mempool?.operationsOfBlock(a.header, a.mempool.knownValid) ?? await this.fetchers.operationsOf(header, { preferred: [peer] })
      await this.chain.addBlock(a.header, operations)
      // A tzp2p announcer listed the block's operations (gossip.md §4.3): other peers' announcements
      // of the same block list them too, and they are no mempool operations to fetch any more.
      for (const h of a.mempool.knownValid) this.seenOperations.set(toHex(h), true)
      this.noteValid(peer, a.header)
    } catch (err) {
      if (this.blame(peer, 'announced an invalid block', err)) {
        // reported
      } else if (err instanceof UnknownPredecessorError) {
        await this.askBranch(peer, a)
      } else if (err instanceof UnknownProtocolError) {
        this.onUnknownProtocol(peer, err)
      } else if (!(err instanceof FutureBlockError)) {
        this.log.debug({ peer, err: (err as Error).message }, 'could not take an announced head')
      }
    }
  }

  /**
   * A head whose predecessor we lack: ask its peer for its branch (Octez does the same). One
   * request per peer at a time; a request left unanswered (the peer throttles Get_current_branch
   * to one per 4 s) is tried again later with the peer's latest head.
   */
  private async askBranch (peer: string, a: HeadAnnouncement): Promise<void> {
    if (this.branchRequests.has(peer)) { this.laterHeads.set(peer, a); return }
    this.branchRequests.add(peer)
    let locator: BlockLocator | undefined
    try {
      locator = await this.init.client.currentBranch(peer).catch((err: unknown) => { this.blame(peer, 'answered Get_current_branch', err); return undefined })
    } finally {
      this.branchRequests.delete(peer)
    }
    if (locator !== undefined) {
      await this.onBranch(peer, locator)
    } else if (!this.stopped) {
      this.laterHeads.set(peer, a)
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined
        if (this.running === undefined) void this.afterPipeline()
      }, BRANCH_RETRY_MS)
      this.retryTimer.unref()
    }
  }

  private async onBranch (peer: string, locator: BlockLocator): Promise<void> {
    const header = locator.headHeader
    this.announced.set(peer, header)
    const headHash = hashHeader(header).hash
    const status = await blockStatus(this.chain, headHash)
    if (status === 'valid') { this.noteValid(peer, header); return }
    if (status === 'invalid') { this.blame(peer, 'announced a known-invalid branch', new InvalidLocatorError('the branch head is known invalid')); return }
    if (!beatsHead(this.chain, header) || needsMissingProtocol(this.chain, header)) return
    this.targets.offer({ peer, headHash, header, locator })
    void this.schedule()
  }

  /** Starts a pipeline towards the best announced branch unless one runs. */
  private async schedule (): Promise<void> {
    if (this.running !== undefined || this.stopped) return
    const target = this.targets.takeBest(h => beatsHead(this.chain, h))
    if (target === undefined) return
    let outcome
    try {
      outcome = await planFromLocator({
        peer: target.peer,
        locator: target.locator,
        seed: { senderId: peerIdBytes(target.peer), receiverId: peerIdBytes(this.init.tezosPeerId) },
        status: async h => await blockStatus(this.chain, h),
        levelOf: async h => (await this.chain.getHeader(h))?.header.shell.level,
        caboose: this.chain.caboose
      })
    } catch (err) {
      if (!this.blame(target.peer, 'sent an invalid locator', err)) this.log.warn({ peer: target.peer, err: (err as Error).message }, 'cannot plan a bootstrap from the peer\'s locator')
      return await this.schedule()
    }
    if (outcome.kind !== 'plan') {
      if (outcome.kind === 'known') this.noteValid(target.peer, target.header)
      else this.log.info({ peer: target.peer }, 'no common ancestor with the peer\'s branch')
      return await this.schedule()
    }
    if (this.running !== undefined) { this.targets.restore(target); return }
    const pipeline = this.makePipeline(target, outcome.plan)
    this.running = pipeline
    this.log.info({ peer: target.peer, from: outcome.plan.startLevel, to: outcome.plan.targetLevel, steps: outcome.plan.steps.length }, 'bootstrap pipeline started')
    let end: PipelineEnd
    try {
      const result = await pipeline.run()
      end = { peer: target.peer, result }
      this.log.info({ peer: target.peer, level: result.level, applied: result.applied, ms: Math.round(result.milliseconds) }, 'bootstrap pipeline finished')
      this.noteValid(target.peer, target.header)
    } catch (err) {
      end = { peer: target.peer, error: err as Error }
      if (this.blame(target.peer, 'its branch failed to bootstrap', err)) {
        // reported
      } else if (err instanceof UnknownProtocolError) {
        // Applied up to the last block we can validate; the rest waits for the protocol.
        this.log.info({ peer: target.peer, level: this.chain.head.header.shell.level, protocol: err.protocol }, 'bootstrap pipeline stopped at a protocol that is not installed')
        this.onUnknownProtocol(target.peer, err)
      } else {
        this.log.warn({ peer: target.peer, err: (err as Error).message }, 'bootstrap pipeline stopped')
        // Nobody to blame (a key no peer served in time): try that branch again later if its peer
        // is still there, even if it announces nothing new.
        if (this.init.peers().includes(target.peer)) this.targets.retryLater(target, () => this.init.peers().includes(target.peer), () => { void this.schedule() })
      }
    } finally {
      this.running = undefined
    }
    this.emit('pipeline:end', end)
    await this.afterPipeline()
  }

  private async afterPipeline (): Promise<void> {
    for (const [peer, header] of this.announced) {
      if (await blockStatus(this.chain, hashHeader(header).hash) === 'valid') this.noteValid(peer, header)
    }
    const heads = [...this.laterHeads.values()]
    this.laterHeads.clear()
    for (const a of heads) await this.onHead(a).catch(() => {})
    await this.schedule()
  }

  /** Ops the peer holds valid that we have not seen: fetched (≤ 10 per request) and offered to the mempool. */
  private fetchMempool (peer: string, hashes: readonly Uint8Array[]): void {
    const mempool = this.init.mempool
    if (mempool === undefined) return
    for (const hash of hashes) {
      const hex = toHex(hash)
      if (this.seenOperations.has(hex) || mempool.handled(hash)) continue
      this.seenOperations.set(hex, true)
      this.fetchers.mempoolOperations.fetch(hash, { preferred: [peer] })
        .then(async ({ value }) => { await mempool.add(value) })
        .catch((err: Error) => { this.log.debug({ peer, operation: b58Encode('operationHash', hash), err: err.message }, 'announced operation not taken') })
    }
  }

  /** Reports a peer whose fault `error` is (its kind says which); false when it is nobody's fault. */
  private blame (peer: string, reason: string, error: unknown): boolean {
    const kind = misbehaviourOf(error)
    if (kind === undefined) return false
    this.report({ tezosPeerId: peer }, kind, `${reason}: ${(error as Error).message}`)
    return true
  }

  /** The peer policy, through which a blamed peer's announced branch is also dropped. */
  private readonly report: ReportPeer = (peer, kind, detail) => {
    if (peer.tezosPeerId !== undefined) this.targets.delete(peer.tezosPeerId)
    return this.init.report(peer, kind, detail)
  }

  /** The pipeline towards `target`, over the shared fetchers, the target's peer asked first. */
  private makePipeline (target: BranchTarget, plan: BootstrapPlan): BootstrapPipeline {
    return pipelineTowards(target.peer, plan, {
      chain: this.chain,
      fetchers: this.fetchers,
      report: this.report,
      now: this.now,
      mode: this.init.wireOf?.(target.peer) === 'octez' ? 'walk' : (this.init.headerFetchMode ?? 'ranges'),
      maxClockDrift: this.init.maxClockDrift ?? 1,
      ...(this.init.pipeline === undefined ? {} : { options: this.init.pipeline }),
      onProgress: p => {
        this.log.info({ peer: p.peer, level: p.level, target: p.targetLevel, levelsPerSecond: Math.round(p.levelsPerSecond), etaSeconds: p.etaSeconds === undefined ? undefined : Math.round(p.etaSeconds) }, 'bootstrapping')
        this.emit('progress', p)
      }
    })
  }
}
