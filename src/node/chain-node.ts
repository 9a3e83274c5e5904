import type { Logger } from 'pino'
import { decodeExact } from '../encoding/index.ts'
import type { BakeResult } from '../chain/baker.ts'
import { Chain, type HeadChange } from '../chain/chain.ts'
import type { GenesisConfig } from '../chain/genesis.ts'
import { Mempool, type AddResult } from '../chain/mempool.ts'
import type { StoredHeader } from '../chain/store.ts'
import type { NetworkPeer, PeerDirectory } from '../peer/index.ts'
import { gossip, type GossipService } from '../gossip/service.ts'
import { blockOperationHashes } from '../gossip/block-operations.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import type { Protocol } from '../protocol/protocol.ts'
import { ProtocolRegistry } from '../protocol/registry.ts'
import type { Database } from '../storage/database.ts'
import type { BootstrapPipelineOptions, BootstrapProgress } from '../sync/bootstrap-pipeline.ts'
import { ChainValidator, type HeaderFetchMode } from '../sync/chain-validator.ts'
import type { SyncRequest } from '../sync/answers.ts'
import { sync, type SyncService } from '../sync/service.ts'
import { ProtocolFetcher } from '../sync/protocol-fetcher.ts'
import { CheckpointFetch, checkpointNeed } from '../sync/checkpoint-fetch.ts'
import type { SynchronisationOptions } from '../sync/synchronisation.ts'
import { operationCodec, type Operation } from '../wire/operation.ts'
import { NodeBakers, type NodeBakerOptions } from './node-bakers.ts'

/**
 * The chain inside a node: store, chain, mempool, optional baker, the gossip and sync services
 * and the chain validator that joins them. `createNode` builds it when `NodeOptions.chain` is
 * given: `prepareChainNode` before libp2p exists (for the service entries), `open` once the store
 * is open, `start`/`stop` with the node.
 */
export interface ChainNodeOptions {
  /** The genesis protocol (an embedder may pass its own); the node closes it on stop. */
  protocol: Protocol
  /**
   * Protocols installed besides the genesis one, which later blocks may activate (a registry keeps
   * taking `register` calls while the node runs). The node closes them on stop.
   */
  protocols?: ProtocolRegistry | readonly Protocol[]
  genesis: GenesisConfig
  /** Database holding the chain; default the node's store (`<dataDir>/store`). */
  store?: Database
  /** A devnet baker (see `NodeBakerOptions`). */
  baker?: NodeBakerOptions
  mempool?: { maxOperations?: number, maxBytes?: number, announceDelayMs?: number }
  /** Octez's bootstrapped heuristic (threshold 4 peers, latency 50 s by default). */
  synchronisation?: SynchronisationOptions
  /** How a bootstrap fetches headers: `ranges` (several peers in parallel, default) or `walk` (Octez). */
  headerFetchMode?: HeaderFetchMode
  pipeline?: BootstrapPipelineOptions
  /** Seconds a block may be ahead of our clock (Octez 1). */
  maxClockDrift?: number
  /**
   * `--checkpoint`: the block (32-byte hash) a fresh shell-only chain starts from, fetched from
   * peers; a store that started from it resumes, one that follows another is refused.
   */
  checkpoint?: Uint8Array
  /** Test-only fault injection on the answers this node serves (see `SyncInit.rewriteAnswer`). */
  rewriteSyncAnswer?: (envelope: Uint8Array, request: SyncRequest) => Uint8Array
}

export interface OperationEvent {
  hash: Uint8Array
  operation: Operation
}

/** Events of the chain part of a node (merged into `NodeEventMap`). */
export interface ChainNodeEvents {
  /** A new head was committed (after a block, a run of blocks, or a branch switch); its store write may still be under way. */
  head: [HeadChange]
  /** An operation entered the mempool (injected here or fetched from a peer). */
  operation: [OperationEvent]
  /** Octez's bootstrapped state was reached (once). */
  bootstrapped: []
  /** Bootstrap progress: levels/s and ETA. */
  'sync:progress': [BootstrapProgress]
}

/** What a node with a chain offers (fields of `TzNode`). */
export interface ChainNodeFields {
  /** The chain (undefined without `NodeOptions.chain`). */
  readonly chain?: Chain
  readonly mempool?: Mempool
  /** The head, or undefined without a chain. */
  head: () => StoredHeader | undefined
  /** Validates an operation (Octez binary: branch ‖ data) and adds it to the mempool; it is then gossiped. */
  inject: (operationBytes: Uint8Array) => Promise<AddResult>
  /** Bakes one block now (needs `chain.baker`). */
  bake: () => Promise<BakeResult>
  /** Whether the node reached Octez's bootstrapped state. */
  isBootstrapped: () => boolean
  /** Bootstrap state: bootstrapped, a pipeline running, and how many answers each peer gave us. */
  syncStatus: () => SyncStatus
}

export interface SyncStatus {
  bootstrapped: boolean
  syncing: boolean
  /** Accepted answers (keys) per Tezos peer id since start. */
  acceptedFrom: Record<string, number>
}

export class NoChainError extends Error {
  override readonly name = 'NoChainError'
  constructor () { super('this node runs no chain (pass NodeOptions.chain)') }
}

export class NoBakerError extends Error {
  override readonly name = 'NoBakerError'
  constructor () { super('this node has no baker (pass NodeOptions.chain.baker)') }
}

/** What `open` needs from the node. */
export interface ChainNodeHost {
  store: Database | undefined
  /** Connected peers of both wires. */
  peers: PeerDirectory
  events: {
    on: ((name: 'peer:connected', listener: (peer: NetworkPeer) => void) => unknown) &
    ((name: 'peer:closed', listener: (peer: NetworkPeer) => void) => unknown)
  }
  emit: <K extends keyof ChainNodeEvents>(name: K, ...args: ChainNodeEvents[K]) => void
  services: { gossip?: GossipService, sync?: SyncService }
}

/** What the chain part takes from the node when it is built. */
export interface ChainNodeContext {
  tezosPeerId: string
  logger: Logger
  report: ReportPeer
  /** The node announced `disable_mempool`: a peer sending it a mempool anyway is greylisted. */
  disableMempool?: boolean
}

export class ChainNode {
  private readonly options: ChainNodeOptions
  private readonly tezosPeerId: string
  private readonly log: Logger
  /** The node's peer policy, to which gossip, sync, the validator and the protocol fetcher report. */
  private readonly report: ReportPeer
  private readonly disableMempool: boolean
  private host: ChainNodeHost | undefined
  private chainValue: Chain | undefined
  private mempoolValue: Mempool | undefined
  /** The devnet baker, the v3 delegate and the double-baking watch. */
  private bakers: NodeBakers | undefined
  private validator: ChainValidator | undefined
  private protocolFetcher: ProtocolFetcher | undefined
  private checkpointFetch: CheckpointFetch | undefined
  /** Installed protocols: the genesis one and `options.protocols`. */
  readonly registry: ProtocolRegistry

  constructor (options: ChainNodeOptions, context: ChainNodeContext) {
    this.options = options
    this.registry = options.protocols instanceof ProtocolRegistry ? options.protocols : new ProtocolRegistry(options.protocols ?? [])
    if (!this.registry.has(options.protocol.hash)) this.registry.register(options.protocol)
    this.tezosPeerId = context.tezosPeerId
    this.log = context.logger
    this.report = context.report
    this.disableMempool = context.disableMempool ?? false
  }

  /** Service entries for `createLibp2p`; they read the chain only once the node is started. */
  services (): { gossip: ReturnType<typeof gossip>, sync: ReturnType<typeof sync> } {
    // Getters: libp2p builds its services before the store is open and the handshake's peer table exists.
    const requireChain = (): ReturnType<ChainNode['requireChain']> => this.requireChain()
    const requirePeers = (): ReturnType<ChainNode['requireHost']>['peers'] => this.requireHost().peers
    const report = this.report
    return {
      gossip: gossip({
        get chain () { return requireChain() },
        tezosPeerId: this.tezosPeerId,
        get peers () { return requirePeers() },
        mempoolHashes: () => this.mempoolValue?.hashes() ?? [],
        disableMempool: this.disableMempool,
        report,
        // Requests on a gossip stream are answered by the sync responder, with its per-peer rates;
        // block operations pushed unasked (gossip.md §4.6) are read the same way, not charged.
        answer: async (peer, requests, options) => await this.requireHost().services.sync?.answer(peer, requests, options) ?? [],
        logger: this.log,
        ...(this.options.maxClockDrift === undefined ? {} : { maxClockDrift: this.options.maxClockDrift })
      }),
      sync: sync({
        get chain () { return requireChain() },
        tezosPeerId: this.tezosPeerId,
        get peers () { return requirePeers() },
        mempool: {
          get: hash => this.mempoolValue?.get(hash),
          hashes: () => this.mempoolValue?.hashes() ?? []
        },
        report,
        logger: this.log,
        ...(this.options.rewriteSyncAnswer === undefined ? {} : { rewriteAnswer: this.options.rewriteSyncAnswer })
      })
    }
  }

  /** Opens the chain in the store and wires mempool, baker, validator and services together. */
  async open (host: ChainNodeHost): Promise<void> {
    const store = this.options.store ?? host.store
    if (store === undefined) throw new NoChainStoreError()
    this.host = host
    const chain = await Chain.open(store, {
      protocol: this.options.protocol,
      protocols: this.registry,
      genesis: this.options.genesis,
      ...(this.options.maxClockDrift === undefined ? {} : { maxClockDrift: this.options.maxClockDrift })
    })
    this.chainValue = chain
    const gossipService = host.services.gossip
    const syncService = host.services.sync
    if (gossipService === undefined || syncService === undefined) throw new Error('the gossip and sync services are missing')
    const mempool = new Mempool({
      chain,
      ...this.options.mempool,
      onAnnounce: hashes => {
        gossipService.announceOperations(hashes)
        for (const hash of hashes) {
          const operation = mempool.get(hash)
          if (operation !== undefined) host.emit('operation', { hash, operation })
        }
      }
    })
    const validator = new ChainValidator({
      chain,
      mempool,
      client: syncService.client,
      tezosPeerId: this.tezosPeerId,
      peers: () => gossipService.peerIds(),
      wireOf: peer => host.peers.get(peer)?.wire,
      report: this.report,
      logger: this.log,
      ...(this.options.synchronisation === undefined ? {} : { synchronisation: this.options.synchronisation }),
      ...(this.options.headerFetchMode === undefined ? {} : { headerFetchMode: this.options.headerFetchMode }),
      ...(this.options.pipeline === undefined ? {} : { pipeline: this.options.pipeline }),
      ...(this.options.maxClockDrift === undefined ? {} : { maxClockDrift: this.options.maxClockDrift })
    })
    // A new head is announced as soon as it is validated and applied, while it is written (as
    // Octez advertises before storing); the `head` event then only reaches peers it missed. The
    // announcement lists the block's operation hashes (gossip.md §4.3), read from the store's
    // recent-blocks cache.
    // Sooner still with a protocol that validates before applying: the block is advertised once
    // validated, with the operation hashes its validation computed (gossip.md §9); the
    // `head:validated` announcement then reaches no peer twice (`knownBlocks`). The sends wait for
    // the end of the current turn of the event loop: the application's work already queued (its
    // in-memory part, up to its first store read) goes first. Sent at once, they woke the
    // receivers before that work and delayed this node's own head by ~4 ms (p50) on a loaded
    // machine (docs/profiles.md); a block whose application waits on the store still leaves first.
    chain.on('block:validated', ({ block, operationHashes }) => {
      if (validator.syncing) return
      setImmediate(() => { gossipService.announceHead(block, operationHashes) })
    })
    chain.on('head:validated', head => {
      if (validator.syncing) return
      void blockOperationHashes(chain, head).then(hashes => { gossipService.announceHead(head, hashes) }, () => { gossipService.announceHead(head) })
    })
    chain.on('head', change => {
      // During a bootstrap every committed run moves the head; peers hear of the result at the end.
      // Queued behind the block's validated announcement (setImmediate runs in order), which lists
      // its operation hashes and may push them: the head event now comes before the store write, in
      // the same turn, and sent at once this one would reach every peer first, without them.
      if (!validator.syncing) setImmediate(() => { gossipService.announceHead() })
      host.emit('head', change)
    })
    validator.on('pipeline:end', () => { gossipService.announceHead() })
    const protocolFetcher = new ProtocolFetcher({
      registry: this.registry,
      watch: chain.missingProtocols,
      client: syncService.client,
      peers: () => gossipService.peerIds(),
      report: this.report,
      logger: this.log
    })
    this.protocolFetcher = protocolFetcher
    // The one line an operator needs; the details are in the RPC (`/chains/main/protocols`).
    chain.on('protocol:missing', e => { this.log.warn({ protocol: e.protocol, level: e.level, block: e.block }, e.message) })
    const fetchProtocol = (protocol: string, peers: string[]): void => {
      protocolFetcher.fetch(protocol, peers).catch((err: Error) => { this.log.warn({ err: err.message }, 'protocol fetch failed') })
    }
    validator.on('protocol:missing', ({ peer, error }) => { fetchProtocol(error.protocol, [peer]) })
    // A store that stopped at an activation (an earlier run): say so now, and ask peers as they come.
    const stoppedAt = chain.missingProtocol
    if (stoppedAt !== undefined && chain.missingProtocols.noteLevel(stoppedAt, Date.now())) {
      this.log.warn({ protocol: stoppedAt.protocol, level: stoppedAt.firstLevel }, `unknown protocol ${stoppedAt.protocol} at level ${stoppedAt.firstLevel}: not installed; branch not followed`)
    }
    validator.on('progress', p => { host.emit('sync:progress', p) })
    validator.on('bootstrapped', () => {
      host.emit('bootstrapped')
      this.bakers?.nudge()
    })
    const checkpoint = this.options.checkpoint === undefined || checkpointNeed(chain, this.options.checkpoint) === 'resume'
      ? undefined
      : new CheckpointFetch({ chain, hash: this.options.checkpoint, fetchers: validator.fetchers, logger: this.log })
    this.checkpointFetch = checkpoint
    const gate = <A extends { peer: { tezosPeerId: string } }>(kind: string, f: (a: A) => void): (a: A) => void =>
      checkpoint === undefined ? f : checkpoint.gate(kind, a => a.peer.tezosPeerId, f)
    gossipService.on('head', gate('head', a => { validator.handleHead(a) }))
    gossipService.on('branch', gate('branch', a => { validator.handleBranch(a) }))
    host.events.on('peer:connected', peer => {
      gossipService.addPeer(peer)
      validator.peerConnected()
      const missing = chain.missingProtocol
      const state = missing === undefined ? undefined : chain.missingProtocols.get(missing.protocol)?.state
      if (missing !== undefined && (state === 'fetching' || state === 'unavailable')) fetchProtocol(missing.protocol, [peer.tezosPeerId])
    })
    host.events.on('peer:closed', peer => {
      gossipService.removePeer(peer)
      syncService.forgetPeer(peer.tezosPeerId)
      validator.peerGone(peer.tezosPeerId)
      protocolFetcher.forgetPeer(peer.tezosPeerId)
    })
    this.bakers = new NodeBakers({
      chain,
      mempool,
      store,
      protocols: [this.options.protocol, ...this.registry.protocols()],
      ...(this.options.baker === undefined ? {} : { baker: this.options.baker }),
      ...(this.options.maxClockDrift === undefined ? {} : { maxClockDrift: this.options.maxClockDrift }),
      logger: this.log,
      ready: () => validator.bootstrapped
    })
    this.mempoolValue = mempool
    this.validator = validator
  }

  /** After libp2p started: automatic baking, and bootstrapped at once when the threshold is 0. */
  start (): void {
    void this.checkpointFetch?.run()
    if (this.validator?.bootstrapped === true) this.host?.emit('bootstrapped')
    this.bakers?.start()
  }

  async stop (): Promise<void> {
    await this.bakers?.stop()
    this.checkpointFetch?.stop()
    this.protocolFetcher?.stop()
    this.validator?.stop()
    this.mempoolValue?.stop()
  }

  /** After libp2p stopped, before the store closes. */
  async close (): Promise<void> {
    await this.chainValue?.settle()
    await this.options.protocol.close?.()
    await Promise.all(this.registry.protocols().filter(p => p !== this.options.protocol).map(async p => { await p.close?.() }))
  }

  fields (): ChainNodeFields {
    return {
      ...(this.chainValue === undefined ? {} : { chain: this.chainValue }),
      ...(this.mempoolValue === undefined ? {} : { mempool: this.mempoolValue }),
      head: () => this.chainValue?.head,
      inject: async (bytes) => {
        if (this.mempoolValue === undefined) throw new NoChainError()
        return await this.mempoolValue.add(decodeExact(operationCodec, bytes))
      },
      bake: async () => {
        if (this.chainValue === undefined) throw new NoChainError()
        const baker = this.bakers?.baker
        if (baker === undefined) throw new NoBakerError()
        return await baker.bakeNow()
      },
      isBootstrapped: () => this.validator?.bootstrapped ?? false,
      syncStatus: () => ({
        bootstrapped: this.validator?.bootstrapped ?? false,
        syncing: this.validator?.syncing ?? false,
        acceptedFrom: Object.fromEntries(this.validator?.fetchers.acceptedFrom ?? [])
      })
    }
  }

  get chain (): Chain | undefined { return this.chainValue }
  get mempool (): Mempool | undefined { return this.mempoolValue }
  get chainValidator (): ChainValidator | undefined { return this.validator }

  private requireHost (): ChainNodeHost {
    if (this.host === undefined) throw new NoChainError()
    return this.host
  }

  private requireChain (): Chain {
    if (this.chainValue === undefined) throw new NoChainError()
    return this.chainValue
  }
}

export class NoChainStoreError extends Error {
  override readonly name = 'NoChainStoreError'
  constructor () { super('a chain needs a store: give the node a dataDir, or pass chain.store') }
}

/** The chain fields of a node: the chain node's, or those of a node without a chain. */
export function chainNodeFields (chainNode: ChainNode | undefined): ChainNodeFields {
  if (chainNode !== undefined) return chainNode.fields()
  return {
    head: () => undefined,
    inject: () => Promise.reject(new NoChainError()),
    bake: () => Promise.reject(new NoChainError()),
    isBootstrapped: () => false,
    syncStatus: () => ({ bootstrapped: false, syncing: false, acceptedFrom: {} })
  }
}

/** Builds the chain part of a node (see `ChainNode`). */
export function prepareChainNode (options: ChainNodeOptions, context: ChainNodeContext): ChainNode {
  return new ChainNode(options, context)
}
