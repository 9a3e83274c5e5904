import type { Connection } from '@libp2p/interface'
import { BoundedCache } from '../chain/cache.ts'
import { toHex } from '../encoding/index.ts'
import { peerRefOf, type AuthenticatedPeer, type AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import { ANNOUNCED_OPERATIONS_PER_PEER, GOSSIP_MAX_MESSAGE_BYTES, GOSSIP_PROTOCOL, GOSSIP_PROTOCOLS, GOSSIP_PUSH_PROTOCOL, PUSHED_ANSWERS_PER_PEER, PUSHED_BYTES_PER_PEER } from '../gossip/definitions.ts'
import { misbehaviourOf, type PeerRef } from '../misbehaviour/index.ts'
import type { AnswerKind, NetworkPeer, PeerDirectory } from '../peer/index.ts'
import { EnvelopeStream, UnexpectedMessageError } from '../stream/envelope-stream.ts'
import { InvalidAnswerError } from '../sync/checks.ts'
import { PeerNotConnectedError } from '../sync/client.ts'
import { SYNC_CHANNEL_PROTOCOL, SYNC_PROTOCOL } from '../sync/definitions.ts'
import { SyncRequestChannel } from '../sync/request-channel.ts'
import { encodeP2pMessage, type P2pMessage } from '../wire/p2p-message.ts'
import { answerKey, KeyedAnswers, operationsAnswerKey, type Delivery } from './keyed-answers.ts'

/** A gossip write that does not drain within this is abandoned (the stream is reset). */
const GOSSIP_WRITE_TIMEOUT_MS = 30_000
const GOSSIP_OPEN_TIMEOUT_MS = 10_000
/** Blocks each peer announced that are remembered (the head moves on; older blocks are asked over sync). */
const ANNOUNCED_BLOCKS = 64

/**
 * A peer on the libp2p wire (`protocols/gossip.md`, `protocols/sync.md`): what it is sent goes on
 * one long-lived outbound gossip stream, opened on first use and again after a failure. A request
 * for the operations of blocks the peer announced, or for operations it announced in its mempool,
 * travels on that stream too, its answers coming back on the peer's gossip stream matched by key
 * (gossip.md §4.5): no stream to negotiate, one round trip. The other data requests (headers,
 * ancestors, operations) are pipelined in batches on one long-lived sync channel (sync.md §2.1),
 * falling back to a sync stream per exchange for a peer that does not speak it; the rest get a
 * sync stream of their own, whose end tells that the peer has answered all it will.
 */
export class Libp2pPeer implements NetworkPeer {
  readonly wire = 'libp2p'
  readonly authenticated: AuthenticatedPeer
  readonly ref: PeerRef
  private readonly connection: () => Connection | undefined
  private out: EnvelopeStream | undefined
  /** The outbound stream being opened: concurrent writers wait for the same one. */
  private opening: Promise<EnvelopeStream> | undefined
  /** Made on the peer's first announcement: a peer that announces nothing costs no cache. */
  private announced: BoundedCache<string, true> | undefined
  /** Operation hashes the peer announced in its mempool (Current_head's known_valid), the latest first kept; made on first use. */
  private announcedOperations: BoundedCache<string, true> | undefined
  private readonly channel = new KeyedAnswers()
  /**
   * Block operations the peer pushed ahead of its announcement (gossip.md §4.6), by answer key,
   * until the fetch they spare takes them: checked there like any answer. Bounded in count and bytes.
   */
  private readonly pushed = new Map<string, { answer: P2pMessage, size: number }>()
  private pushedBytes = 0
  /** Batches of data requests, on one sync channel; undefined once the peer refused the protocol. */
  private syncChannel: SyncRequestChannel | undefined
  /** Requests sent on the gossip stream, on sync streams and on the sync channel; keys taken from pushes (tests, metrics). */
  readonly requestStats = { channel: 0, streams: 0, syncChannel: 0, pushedKeysUsed: 0 }

  constructor (peer: AuthenticatedPeer, connection: () => Connection | undefined) {
    this.authenticated = peer
    this.ref = peerRefOf(peer)
    this.connection = connection
    this.syncChannel = new SyncRequestChannel({ peer: peer.tezosPeerId, open: async signal => await this.open(SYNC_CHANNEL_PROTOCOL, signal) })
  }

  /** The sync channel's streams opened and batches sent (tests, metrics). */
  get syncChannelStats (): SyncRequestChannel['stats'] | undefined { return this.syncChannel?.stats }

  get tezosPeerId (): string { return this.authenticated.tezosPeerId }
  get connectionId (): string { return this.authenticated.connectionId }
  get version (): AuthenticatedPeer['version'] { return this.authenticated.version }
  get metadata (): AuthenticatedPeer['metadata'] { return this.authenticated.metadata }
  get remoteIp (): string | undefined { return this.authenticated.remoteIp }

  async send (message: P2pMessage): Promise<void> {
    await this.sendEnvelope(encodeP2pMessage(message))
  }

  /** Writes one encoded envelope (a message, or an answer read from the store) on our gossip stream. */
  async sendEnvelope (envelope: Uint8Array): Promise<void> {
    const out = await this.outbound()
    try {
      await out.writeWithin(envelope, GOSSIP_WRITE_TIMEOUT_MS)
    } catch (err) {
      out.stream.abort(err as Error)
      if (this.out === out) this.out = undefined
      throw err
    }
  }

  /** Requests on the gossip stream waiting for answers now. */
  get pendingOnChannel (): number {
    return this.channel.pending
  }

  /** The peer announced block `hash`: it holds its operations (Octez advertises only blocks it validated). */
  noteAnnounced (hash: Uint8Array): void {
    this.announced ??= new BoundedCache<string, true>(ANNOUNCED_BLOCKS)
    this.announced.set(toHex(hash), true)
  }

  /** The peer announced these operations in its mempool: it holds them (Octez announces only operations it validated). */
  noteAnnouncedOperations (hashes: readonly Uint8Array[]): void {
    if (hashes.length === 0) return
    const announced = this.announcedOperations ??= new BoundedCache<string, true>(ANNOUNCED_OPERATIONS_PER_PEER)
    for (const h of hashes) announced.set(toHex(h), true)
  }

  /**
   * Whether the peer pushes block operations when asked (gossip.md §4.6): our gossip stream to
   * it negotiated `/tzp2p/gossip/1.1.0`. False until that stream is open.
   */
  get pushCapable (): boolean {
    return this.out?.stream.protocol === GOSSIP_PUSH_PROTOCOL
  }

  /**
   * Keeps block operations the peer pushed (an Operations_for_blocks nobody asked for yet), within
   * `PUSHED_ANSWERS_PER_PEER` answers and `PUSHED_BYTES_PER_PEER` bytes: the oldest go first.
   */
  keepPushed (answer: P2pMessage, size: number): void {
    const key = answerKey(answer)
    if (key === undefined || size > PUSHED_BYTES_PER_PEER) return
    this.dropPushed(key)
    this.pushed.set(key, { answer, size })
    this.pushedBytes += size
    for (const oldest of this.pushed.keys()) {
      if (this.pushed.size <= PUSHED_ANSWERS_PER_PEER && this.pushedBytes <= PUSHED_BYTES_PER_PEER) break
      this.dropPushed(oldest)
    }
  }

  /** Whether the peer pushed the operations of `blockHash` (pass 0), not yet taken. */
  hasPushed (blockHash: Uint8Array): boolean {
    return this.pushed.has(operationsAnswerKey(blockHash, 0))
  }

  private dropPushed (key: string): void {
    const entry = this.pushed.get(key)
    if (entry === undefined) return
    this.pushed.delete(key)
    this.pushedBytes -= entry.size
  }

  /** Splits requests into the pushed answers they ask for and the requests for the other keys. */
  private takePushed (requests: readonly P2pMessage[]): { answers: P2pMessage[], rest: P2pMessage[] } {
    if (this.pushed.size === 0) return { answers: [], rest: [...requests] }
    const answers: P2pMessage[] = []
    const rest: P2pMessage[] = []
    for (const r of requests) {
      if (r.tag !== 'Get_operations_for_blocks') { rest.push(r); continue }
      const keys = r.keys.filter(k => {
        const key = operationsAnswerKey(k.blockHash, k.validationPass)
        const entry = this.pushed.get(key)
        if (entry === undefined) return true
        this.dropPushed(key)
        answers.push(entry.answer)
        return false
      })
      if (keys.length > 0) rest.push(keys.length === r.keys.length ? r : { tag: 'Get_operations_for_blocks', keys })
    }
    this.requestStats.pushedKeysUsed += answers.length
    return { answers, rest }
  }

  /** An answer that arrived on the peer's gossip stream, for the request waiting for its key. */
  deliver (answer: P2pMessage): Delivery {
    return this.channel.deliver(answer)
  }

  /**
   * The operations of blocks the peer announced, and operations it announced in its mempool, go
   * on the gossip stream (gossip.md §4.5); any other request on a sync stream of its own.
   */
  async request (requests: readonly P2pMessage[], kind: AnswerKind, signal: AbortSignal): Promise<P2pMessage[]> {
    if (this.onChannel(requests)) {
      // What the peer pushed needs no request (gossip.md §4.6); the caller checks it as an answer.
      const { answers, rest } = this.takePushed(requests)
      if (rest.length === 0) return answers
      this.requestStats.channel++
      const envelopes = rest.map(r => encodeP2pMessage(r))
      const got = await this.channel.request(rest, async () => {
        await this.sendEnvelope(envelopes.length === 1 ? envelopes[0] : Buffer.concat(envelopes))
      }, signal)
      return answers.length === 0 ? got : [...answers, ...got]
    }
    const channel = this.syncChannel
    if (channel !== undefined && ON_SYNC_CHANNEL.has(requests[0].tag)) {
      try {
        this.requestStats.syncChannel++
        return await channel.request(requests, kind, signal)
      } catch (err) {
        // A peer without the channel (an older tzp2p) is asked on a stream per exchange from now on.
        if ((err as Error).name !== 'UnsupportedProtocolError') throw err
        this.syncChannel = undefined
      }
    }
    this.requestStats.streams++
    return await this.requestOnStream(requests, kind, signal)
  }

  private onChannel (requests: readonly P2pMessage[]): boolean {
    return requests.every(r =>
      r.tag === 'Get_operations_for_blocks'
        ? r.keys.every(k => this.announced?.has(toHex(k.blockHash)) === true)
        : r.tag === 'Get_operations' && r.operationHashes.every(h => this.announcedOperations?.has(toHex(h)) === true))
  }

  /**
   * One sync stream: the request messages in one write, our write side closed, then the answers
   * until the responder closes or `signal` fires (what arrived by then is kept).
   */
  private async requestOnStream (requests: readonly P2pMessage[], kind: AnswerKind, signal: AbortSignal): Promise<P2pMessage[]> {
    const peer = this.tezosPeerId
    const stream = await this.open(SYNC_PROTOCOL, signal)
    const reader = new EnvelopeStream(stream, SYNC_PROTOCOL, kind.maxAnswerBytes)
    const answers: P2pMessage[] = []
    try {
      // One write for all request messages (one muxer frame, one encrypted message).
      const encoded = requests.map(r => encodeP2pMessage(r))
      stream.send(encoded.length === 1 ? encoded[0] : Buffer.concat(encoded))
      await stream.close({ signal })
      for (;;) {
        const read = await reader.read({ signal })
        if (read === undefined) break
        if (read.message.tag !== kind.answer) throw new InvalidAnswerError(peer, new UnexpectedMessageError(SYNC_PROTOCOL, read.message.tag, `not an answer to ${requests[0].tag}`).message)
        if (answers.length >= kind.maxAnswers * requests.length) throw new InvalidAnswerError(peer, `more answers than keys to ${requests[0].tag}`, 'unrequested-data')
        answers.push(read.message)
      }
    } catch (err) {
      stream.abort(err as Error)
      if (signal.aborted && !(err instanceof InvalidAnswerError)) return answers
      // An answer that does not decode, or is oversized, is the answering peer's fault.
      const fault = err instanceof InvalidAnswerError ? undefined : misbehaviourOf(err)
      if (fault !== undefined) throw new InvalidAnswerError(peer, (err as Error).message, fault)
      throw err
    }
    return answers
  }

  /** Closes our gossip stream (the peer is gone or the node stops); requests waiting on it end. */
  close (): void {
    this.out?.stream.close().catch(() => {})
    this.out = undefined
    this.channel.close()
    this.syncChannel?.close()
    this.pushed.clear()
    this.pushedBytes = 0
  }

  private async outbound (): Promise<EnvelopeStream> {
    if (this.out !== undefined && this.out.stream.writeStatus === 'writable') return this.out
    // Announcements and requests write concurrently: they share one stream, opened once.
    this.opening ??= (async () => {
      try {
        // The push extension if the peer has it, plain gossip otherwise (gossip.md §4.6).
        const stream = await this.open(GOSSIP_PROTOCOLS, AbortSignal.timeout(GOSSIP_OPEN_TIMEOUT_MS))
        this.out = new EnvelopeStream(stream, stream.protocol ?? GOSSIP_PROTOCOL, GOSSIP_MAX_MESSAGE_BYTES)
        return this.out
      } finally {
        this.opening = undefined
      }
    })()
    return await this.opening
  }

  private async open (protocol: string | string[], signal: AbortSignal): ReturnType<Connection['newStream']> {
    const connection = this.connection()
    if (connection === undefined) throw new PeerNotConnectedError(`peer ${this.tezosPeerId} is not connected`)
    return await connection.newStream(protocol, { signal })
  }
}

/** The request kinds batched on the sync channel: the data requests (a key each, many at once). */
const ON_SYNC_CHANNEL = new Set<P2pMessage['tag']>(['Get_block_headers', 'Get_operations', 'Get_operations_for_blocks', 'Get_predecessor_header'])

/**
 * The libp2p wire's peers as a `PeerDirectory`: a `Libp2pPeer` for each connection the handshake
 * authenticated, made on first lookup (a stream may arrive before the node heard of the peer).
 */
export class Libp2pPeerDirectory implements PeerDirectory {
  private readonly authenticated: () => AuthenticatedPeers
  private readonly connections: (peer: AuthenticatedPeer) => Connection[]
  private readonly byConnection = new Map<string, Libp2pPeer>()

  constructor (authenticated: () => AuthenticatedPeers, connections: (peer: AuthenticatedPeer) => Connection[]) {
    this.authenticated = authenticated
    this.connections = connections
  }

  /** The wire peer of an authenticated connection. */
  wrap (peer: AuthenticatedPeer): Libp2pPeer {
    let wrapped = this.byConnection.get(peer.connectionId)
    if (wrapped === undefined || wrapped.authenticated !== peer) {
      wrapped = new Libp2pPeer(peer, () => this.connections(peer).find(c => c.id === peer.connectionId && c.status === 'open'))
      this.byConnection.set(peer.connectionId, wrapped)
    }
    return wrapped
  }

  /** A connection ended: its peer's gossip stream is closed and its record dropped. */
  forget (peer: AuthenticatedPeer): Libp2pPeer {
    const wrapped = this.byConnection.get(peer.connectionId) ?? this.wrap(peer)
    this.byConnection.delete(peer.connectionId)
    wrapped.close()
    return wrapped
  }

  get (tezosPeerId: string): Libp2pPeer | undefined {
    const peer = this.authenticated().get(tezosPeerId)
    return peer === undefined ? undefined : this.wrap(peer)
  }

  ofConnection (connectionId: string): Libp2pPeer | undefined {
    const peer = this.authenticated().ofConnection({ id: connectionId })
    return peer === undefined ? undefined : this.wrap(peer)
  }

  list (): Libp2pPeer[] {
    return this.authenticated().list().map(p => this.wrap(p))
  }
}
