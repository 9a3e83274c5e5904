import { EventEmitter } from 'node:events'
import type { Connection, Startable, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, toHex } from '../encoding/index.ts'
import type { StoredHeader } from '../chain/store.ts'
import { KnownHashTable } from './known-hashes.ts'
import { authenticatedOnly } from '../handshake/guard.ts'
import type { NetworkPeer } from '../peer/index.ts'
import { misbehaviourOf } from '../misbehaviour/index.ts'
import { blockHash, type BlockHeader } from '../wire/block-header.ts'
import { MEMPOOL_MAX_OPERATIONS } from '../wire/mempool.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import { currentBranchFor, peerIdBytes } from './branch.ts'
import {
  GOSSIP_CHANNEL_ANSWERS, type GossipChannelRequest, isGossipChannelRequest, GOSSIP_MAX_INBOUND_STREAMS, GOSSIP_MAX_MESSAGE_BYTES, GOSSIP_MESSAGES, GOSSIP_PROTOCOL, GOSSIP_PROTOCOLS,
  GOSSIP_PUSH_PROTOCOL, GOSSIP_THROTTLES, KNOWN_BLOCKS, KNOWN_OPERATIONS, MAX_CLOCK_DRIFT_SECONDS, NEW_HEAD_REQUEST_TIMEOUT_MS, PUSH_STOP_GRACE_MS
} from './definitions.ts'
import { announcementVerdict, UnwantedMempoolError } from './announcement-checks.ts'
import { blockPushEnvelopes, PushChoice, PushTiming } from './push.ts'
import { MAX_QUEUED_WRITES, PeerGossip, type OutgoingGossip } from './peer-state.ts'
import { encodeP2pMessage } from '../wire/p2p-message.ts'
import { EnvelopeStream, UnexpectedMessageError } from '../stream/envelope-stream.ts'
import { RateLimiter } from '../stream/rate-limit.ts'
import type { GossipComponents, GossipEvents, GossipInit } from './service-init.ts'

export type { BranchAnnouncement, GossipComponents, GossipEvents, GossipInit, HeadAnnouncement } from './service-init.ts'

/**
 * `/tzp2p/gossip/1.0.0`: announces our head (Current_head with the mempool's operation hashes)
 * and branch (Current_branch) to authenticated peers that do not know them, answers
 * Get_current_branch / Get_current_head on our own outbound stream, and reports what peers
 * announce as `head` and `branch` events for the chain validator.
 */
export class GossipService extends EventEmitter<GossipEvents> implements Startable {
  private readonly components: GossipComponents
  private readonly init: GossipInit
  private readonly log: Logger
  private readonly byPeer = new Map<string, PeerGossip>()
  /** What each peer is known to have, one bit per peer and hash (see known-hashes.ts). */
  private readonly knownBlocks = new KnownHashTable(KNOWN_BLOCKS)
  private readonly knownOperations = new KnownHashTable(KNOWN_OPERATIONS)
  private readonly throttle = new RateLimiter(GOSSIP_THROTTLES)
  private readonly pushChoice = new PushChoice()
  /** Push against fetch timings for blocks first announced by a non-pusher (benchmarks). */
  readonly pushTiming = new PushTiming()
  private readonly now: () => number
  private readonly drift: number
  private running = false
  /** Counters for metrics and tests. */
  readonly stats = { received: 0, sent: 0, dropped: 0, futureBlocks: 0, otherChain: 0, requestsAnswered: 0, answersReceived: 0, lateAnswers: 0, pushesSent: 0, pushesReceived: 0 }
  /** The most announcements ever queued for one peer at once (bounded by `MAX_QUEUED_WRITES`). */
  queueHighWater = 0
  /** Messages received, by kind. */
  readonly receivedByTag = new Map<string, number>()

  constructor (components: GossipComponents, init: GossipInit) {
    super()
    this.components = components
    this.init = init
    this.log = init.logger.child({ module: 'gossip' })
    this.now = init.now ?? Date.now
    this.drift = init.maxClockDrift ?? MAX_CLOCK_DRIFT_SECONDS
  }

  readonly [Symbol.toStringTag] = 'tzp2p/gossip'

  /** Read when needed: a node builds its services before it opens its chain. */
  private get chainId (): Uint8Array {
    return this.init.chain.genesis.chainId
  }

  async start (): Promise<void> {
    const peers = this.init.peers
    for (const protocol of GOSSIP_PROTOCOLS) {
      await this.components.registrar.handle(protocol, authenticatedOnly({ isAuthenticated: c => peers.ofConnection(c.id) !== undefined }, this.handleStream), {
        maxInboundStreams: GOSSIP_MAX_INBOUND_STREAMS,
        maxOutboundStreams: GOSSIP_MAX_INBOUND_STREAMS
      })
    }
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
    for (const protocol of GOSSIP_PROTOCOLS) await this.components.registrar.unhandle(protocol)
    for (const state of this.byPeer.values()) state.drop()
    this.byPeer.clear()
  }

  /** A newly authenticated peer: open our stream to it and ask for its branch (Octez does on connect). */
  addPeer (peer: NetworkPeer): void {
    if (!this.running || this.byPeer.has(peer.tezosPeerId)) return
    const state = new PeerGossip(peer, this.knownBlocks.join(), this.knownOperations.join(), this.now())
    this.byPeer.set(peer.tezosPeerId, state)
    const timeout = this.init.newHeadRequestTimeoutMs ?? NEW_HEAD_REQUEST_TIMEOUT_MS
    state.silenceTimer = setInterval(() => {
      // Octez's peer validator asks a silent peer for its head; it also keeps the connection busy.
      if (this.now() - state.lastHeard >= timeout) this.send(state, { tag: 'Get_current_head', chainId: this.chainId })
    }, Math.max(1000, Math.floor(timeout / 2)))
    state.silenceTimer.unref()
    this.send(state, { tag: 'Get_current_branch', chainId: this.chainId })
  }

  removePeer (peer: NetworkPeer): void {
    const state = this.byPeer.get(peer.tezosPeerId)
    if (state === undefined || state.peer.connectionId !== peer.connectionId) return
    this.byPeer.delete(peer.tezosPeerId)
    this.throttle.forget(peer.tezosPeerId)
    this.pushChoice.peerGone(peer.tezosPeerId)
    state.drop()
  }

  /** Peers we gossip with (Tezos peer ids). */
  peerIds (): string[] {
    return [...this.byPeer.keys()]
  }

  /** Whether `peer` is known to have block `hash` (it announced it, or we did to it). */
  peerKnowsBlock (peer: string, hash: Uint8Array): boolean {
    return this.byPeer.get(peer)?.knownBlocks.has(toHex(hash)) ?? false
  }

  /** Marks a block as known to a peer (it served it to us). */
  noteBlockKnown (peer: string, hash: Uint8Array): void {
    this.byPeer.get(peer)?.knownBlocks.set(toHex(hash), true)
  }

  /**
   * Announces a new head to every active peer that does not know it (Octez sends Current_head on
   * every new head), without mempool operations: at this moment the mempool is still being
   * reclassified against the new head and lists the operations the new block contains, which
   * peers would then ask for in vain. The operations still pending afterwards were announced
   * already, or are by the mempool's next batch; a peer asking Get_current_head gets them all.
   * `head` is the chain's head, or a new head being written (`head:validated`).
   *
   * `blockOperations`: the head's operation hashes in block order, pass after pass. They go in
   * known_valid to tzp2p peers on libp2p (gossip.md §4.3), so that a receiver whose mempool holds
   * them picks the block's operations out of it by hash, in the block's order, with no fetch.
   */
  announceHead (head: StoredHeader = this.init.chain.head, blockOperations: readonly Uint8Array[] = []): void {
    const hint = blockOperations.length > 0 && blockOperations.length <= MEMPOOL_MAX_OPERATIONS
    let pushed: Promise<Uint8Array[]> | undefined
    for (const state of this.byPeer.values()) {
      if (state.inactive || state.knownBlocks.has(head.hex)) continue
      if (hint && state.peer.wire === 'libp2p' && !state.peer.metadata.disableMempool) {
        // Operations the peer is known to hold (it announced them, or we did) are not pushed.
        const push = state.pushTo && !blockOperations.every(h => state.knownOperations.has(toHex(h)))
        // The whole list, whatever the peer is known to hold: the order is what it lacks.
        state.knownBlocks.set(head.hex, true)
        for (const h of blockOperations) state.knownOperations.set(toHex(h), true)
        const announcement: P2pMessage = { tag: 'Current_head', chainId: this.chainId, header: head.header, mempool: { knownValid: [...blockOperations], pending: [] } }
        if (push) {
          // The block's operations first, then the announcement, in one write (§4.6).
          pushed ??= blockPushEnvelopes(this.init.answer, state.peer, head, this.log)
          this.send(state, pushed.then(push => {
            if (push.length > 0) this.stats.pushesSent++
            return Buffer.concat([...push, encodeP2pMessage(announcement)])
          }))
        } else {
          this.send(state, announcement)
        }
      } else {
        this.sendCurrentHead(state, [], head)
      }
    }
  }

  /** Announces new mempool operations (a 100 ms batch) with the current head to peers lacking them. */
  announceOperations (hashes: readonly Uint8Array[]): void {
    for (const state of this.byPeer.values()) {
      // Nothing new to tell a peer that takes no mempool: it already has the head.
      if (state.inactive || state.peer.metadata.disableMempool) continue
      const unknown = hashes.filter(h => !state.knownOperations.has(toHex(h)))
      if (unknown.length > 0) this.sendCurrentHead(state, unknown)
    }
  }

  /** Asks a peer to push us block operations, or to stop (§4.6). */
  private askPush (peerId: string, enabled: boolean): void {
    const state = this.byPeer.get(peerId)
    if (state === undefined) return
    state.pushFrom = enabled
    if (!enabled) state.pushStoppedAt = this.now()
    this.send(state, { tag: 'Block_push', chainId: this.chainId, enabled })
  }

  /** Whether pushed block operations from this peer are taken: we asked it, or asked it to stop only just now. */
  private takesPushes (state: PeerGossip): boolean {
    return state.pushFrom || this.now() - state.pushStoppedAt < PUSH_STOP_GRACE_MS
  }

  private sendCurrentHead (state: PeerGossip, ops: readonly Uint8Array[], head: StoredHeader = this.init.chain.head): void {
    // A peer that announced disable_mempool gets Current_head with an empty mempool (Octez
    // `src/lib_shell/distributed_db.ml`, Advertise.current_head; `p2p_reader.ml`, Get_current_head).
    if (state.peer.metadata.disableMempool) ops = []
    const knownValid = ops.filter(h => !state.knownOperations.has(toHex(h))).slice(0, MEMPOOL_MAX_OPERATIONS)
    for (const h of knownValid) state.knownOperations.set(toHex(h), true)
    state.knownBlocks.set(head.hex, true)
    this.send(state, { tag: 'Current_head', chainId: this.chainId, header: head.header, mempool: { knownValid, pending: [] } })
  }

  private async sendCurrentBranch (state: PeerGossip): Promise<void> {
    const locator = await currentBranchFor(this.init.chain, {
      senderId: peerIdBytes(this.init.tezosPeerId),
      receiverId: peerIdBytes(state.peer.tezosPeerId)
    })
    // The head may have moved while the locator was built: the peer learns of the locator's head only.
    state.knownBlocks.set(toHex(blockHash(locator.headHeader)), true)
    this.send(state, { tag: 'Current_branch', chainId: this.chainId, locator })
  }

  /** Announcements queued now, over all peers, and the bound per peer. */
  queuedWrites (): { total: number, perPeerBound: number } {
    let total = 0
    for (const state of this.byPeer.values()) total += state.queued
    return { total, perPeerBound: MAX_QUEUED_WRITES }
  }

  /** Queues a message on our stream to the peer (see `PeerGossip.enqueue`), if we still gossip with it. */
  private send (state: PeerGossip, message: OutgoingGossip): void {
    if (!this.running || this.byPeer.get(state.peer.tezosPeerId) !== state) return
    const queued = state.enqueue(message, {
      sent: () => { this.stats.sent++ },
      failed: err => { this.log.debug({ peer: state.peer.tezosPeerId, err: err.message }, 'gossip write failed') }
    })
    if (!queued) this.stats.dropped++
    else if (state.queued > this.queueHighWater) this.queueHighWater = state.queued
  }

  /** The peer's stream to us: read announcements until it ends. */
  private readonly handleStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = this.init.peers.ofConnection(connection.id)
    if (peer === undefined) { stream.abort(new Error('no authenticated peer')); return }
    const push = stream.protocol === GOSSIP_PUSH_PROTOCOL
    const reader = new EnvelopeStream(stream, stream.protocol ?? GOSSIP_PROTOCOL, GOSSIP_MAX_MESSAGE_BYTES)
    try {
      // Each message is read and handled in a frame of its own: this loop, suspended between
      // messages, then holds none (a head's hash lists stayed alive until the next message).
      let more = true
      while (more) more = await this.readOne(reader, peer, push)
      await stream.close().catch(() => {})
    } catch (err) {
      const error = err as Error
      if (!this.running || connection.status !== 'open') return
      // A message that does not decode, is oversized or out of place, or names a known-invalid
      // block is the peer's fault (each error says which); a reset stream is not.
      const kind = misbehaviourOf(error)
      if (kind !== undefined) {
        this.init.report(peer.ref, kind, `gossip: ${error.message}`)
      } else {
        this.log.debug({ peer: peer.tezosPeerId, err: error.message }, 'gossip stream ended')
      }
      stream.abort(error)
    }
  }

  /** Reads and handles the next message of a peer's stream; false at its end. */
  private async readOne (reader: EnvelopeStream, peer: NetworkPeer, push: boolean): Promise<boolean> {
    const read = await reader.read()
    if (read === undefined) return false
    const message = read.message
    this.stats.received++
    this.receivedByTag.set(message.tag, (this.receivedByTag.get(message.tag) ?? 0) + 1)
    if (isGossipChannelRequest(message)) await this.answerRequest(peer, message)
    else if (GOSSIP_CHANNEL_ANSWERS.has(message.tag)) this.takeAnswer(peer, message, push, read.size)
    else await this.handleMessage(peer, message, push)
    return true
  }

  /**
   * A request for block operations or mempool operations on the peer's gossip stream: answered on
   * ours, as the sync responder answers (same store and mempool reads, same per-peer rate; keys we
   * lack are not answered). The answers to one request leave in one write, one queue slot.
   */
  private async answerRequest (peer: NetworkPeer, request: GossipChannelRequest): Promise<void> {
    const state = this.byPeer.get(peer.tezosPeerId)
    if (state === undefined || this.init.answer === undefined) return
    state.lastHeard = this.now()
    const answers = await this.init.answer(peer, [request])
    this.stats.requestsAnswered++
    if (answers.length > 0) this.send(state, answers.length === 1 ? answers[0] : Buffer.concat(answers))
  }

  /** An answer on the peer's gossip stream: to the request waiting for its key; one nobody asked for is the peer's fault. */
  private takeAnswer (peer: NetworkPeer, answer: P2pMessage, push: boolean, size: number): void {
    const state = this.byPeer.get(peer.tezosPeerId)
    if (state !== undefined) state.lastHeard = this.now()
    const delivery = peer.deliver?.(answer) ?? 'unrequested'
    if (delivery === 'delivered') {
      this.stats.answersReceived++
      if (answer.tag === 'Operations_for_blocks') this.pushTiming.answered(toHex(answer.blockHash))
    } else if (delivery === 'late') this.stats.lateAnswers++
    else if (push && answer.tag === 'Operations_for_blocks' && state !== undefined && this.takesPushes(state)) this.keepPushed(peer, answer, size)
    else this.init.report(peer.ref, 'unrequested-data', `gossip: ${answer.tag} that was not requested`)
  }

  /** Block operations a peer we asked pushed ahead of its announcement: kept for the fetch they spare (§4.6). */
  private keepPushed (peer: NetworkPeer, answer: P2pMessage, size: number): void {
    const admission = this.throttle.admit(peer.tezosPeerId, answer.tag)
    if (admission !== 'granted') {
      this.stats.dropped++
      if (admission === 'flooding') this.init.report(peer.ref, 'flooding', `gossip: pushed ${answer.tag} beyond its throttle`)
      return
    }
    this.stats.pushesReceived++
    if (answer.tag === 'Operations_for_blocks') this.pushTiming.pushed(toHex(answer.blockHash))
    peer.keepPushed?.(answer, size)
  }

  /**
   * One announcement from a peer, whatever its wire. Throws an error carrying its `misbehaviour`
   * when the message is the peer's fault (its wire reports it).
   */
  async handleMessage (peer: NetworkPeer, message: P2pMessage, push = false): Promise<void> {
    if (!GOSSIP_MESSAGES.has(message.tag)) throw new UnexpectedMessageError(GOSSIP_PROTOCOL, message.tag, 'not a gossip message')
    if (message.tag === 'Block_push' && !push) throw new UnexpectedMessageError(GOSSIP_PROTOCOL, message.tag, `only on ${GOSSIP_PUSH_PROTOCOL}`)
    const m = message as Extract<P2pMessage, { chainId: Uint8Array }>
    if (!bytesEqual(m.chainId, this.chainId)) {
      // Octez counts and ignores messages for chains it does not run.
      this.stats.otherChain++
      return
    }
    const state = this.byPeer.get(peer.tezosPeerId)
    if (state === undefined) return
    state.lastHeard = this.now()
    const admission = this.throttle.admit(peer.tezosPeerId, message.tag)
    if (admission !== 'granted') {
      this.stats.dropped++
      if (admission === 'flooding') this.init.report(peer.ref, 'flooding', `gossip: ${message.tag} beyond its throttle`)
      return
    }
    switch (message.tag) {
      case 'Get_current_branch':
        state.inactive = false
        await this.sendCurrentBranch(state)
        return
      case 'Get_current_head':
        this.sendCurrentHead(state, this.init.mempoolHashes())
        return
      case 'Deactivate':
        state.inactive = true
        return
      case 'Block_push':
        state.pushTo = message.enabled
        return
      case 'Current_head': {
        const hash = blockHash(message.header)
        if (this.init.disableMempool === true && (message.mempool.knownValid.length > 0 || message.mempool.pending.length > 0)) {
          throw new UnwantedMempoolError(`sent a mempool of ${message.mempool.knownValid.length + message.mempool.pending.length} operation(s) to a node running with disable_mempool`)
        }
        // A head the peer already had from us or announced before: this Current_head is a
        // mempool announcement. On a new head, known_valid lists the block's operations (§4.3),
        // which have left the peer's mempool, so they are not asked of it on the gossip stream.
        const mempoolAnnouncement = state.knownBlocks.has(toHex(hash))
        if (!await this.acceptable(peer, state, hash, message.header)) return
        // It holds the block's operations, and those its mempool lists: fetching them can go on
        // the gossip stream (§4.5).
        peer.noteAnnounced?.(hash)
        if (mempoolAnnouncement) peer.noteAnnouncedOperations?.(message.mempool.knownValid)
        else {
          this.pushTiming.announced(toHex(hash), state.pushFrom || peer.hasPushed?.(hash) === true)
          this.notePushCandidate(peer, hash)
        }
        for (const h of message.mempool.knownValid) state.knownOperations.set(toHex(h), true)
        for (const h of message.mempool.pending) state.knownOperations.set(toHex(h), true)
        this.emit('head', { peer, hash, header: message.header, mempool: message.mempool })
        return
      }
      case 'Current_branch': {
        const hash = blockHash(message.locator.headHeader)
        if (!await this.acceptable(peer, state, hash, message.locator.headHeader)) return
        peer.noteAnnounced?.(hash)
        this.emit('branch', { peer, headHash: hash, locator: message.locator })
      }
    }
  }

  /** A block `peer` announced: if it was first, it may become the peer we ask to push (§4.6). */
  private notePushCandidate (peer: NetworkPeer, hash: Uint8Array): void {
    const change = this.pushChoice.announced(toHex(hash), peer.tezosPeerId, id => this.init.peers.get(id)?.pushCapable === true && this.byPeer.has(id))
    if (change?.stop !== undefined) this.askPush(change.stop, false)
    if (change?.start !== undefined) this.askPush(change.start, true)
  }

  /**
   * Future heads are ignored; one we hold invalid condemns the peer (Octez), unless it failed only
   * after validation (`announcementVerdict`). An accepted head becomes known to the peer.
   */
  private async acceptable (peer: NetworkPeer, state: PeerGossip, hash: Uint8Array, header: BlockHeader): Promise<boolean> {
    const verdict = await announcementVerdict(this.init.chain, hash, header, this.now() / 1000 + this.drift)
    if (verdict === 'future') {
      this.stats.futureBlocks++
      this.log.debug({ peer: peer.tezosPeerId, block: b58Encode('blockHash', hash) }, 'ignored a future block')
      return false
    }
    if (verdict === 'inapplicable') return false
    state.knownBlocks.set(toHex(hash), true)
    return true
  }
}

/** The libp2p service factory: `services: { gossip: gossip(init) }`. */
export function gossip (init: GossipInit): (components: GossipComponents) => GossipService {
  return (components) => new GossipService(components, init)
}
