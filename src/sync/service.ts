import type { Connection, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { ChainReader } from '../chain/chain-reader.ts'
import { authenticatedOnly } from '../handshake/guard.ts'
import type { NetworkPeer, PeerDirectory } from '../peer/index.ts'
import { EnvelopeStream } from '../stream/envelope-stream.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import { RateLimiter } from '../stream/rate-limit.ts'
import type { Operation } from '../wire/operation.ts'
import { answersFor, type SyncRequest } from './answers.ts'
import { PeerNotConnectedError, SyncClient } from './client.ts'
import {
  SYNC_MAX_INBOUND_STREAMS, SYNC_MAX_OUTBOUND_STREAMS, SYNC_MAX_REQUEST_BYTES, SYNC_PROTOCOL,
  SYNC_REQUEST_READ_TIMEOUT_MS, SYNC_THROTTLES, syncRequestCost, SYNC_CHANNEL_PROTOCOL,
  SYNC_MAX_INBOUND_CHANNELS, SYNC_MAX_OUTBOUND_CHANNELS
} from './definitions.ts'
import { acceptRequest, ANSWER_WRITE_TIMEOUT_MS, BadSyncRequestError, serveChannel, writeAnswers } from './channel-responder.ts'

export { BadSyncRequestError, PeerNotConnectedError }

export interface SyncInit {
  chain: ChainReader
  tezosPeerId: string
  /** Connected peers of every wire. */
  peers: PeerDirectory
  mempool?: { get: (hash: Uint8Array) => Operation | undefined, hashes: () => Uint8Array[] }
  /** The peer policy: a peer that sent a malformed or out-of-place request, or flooded, is reported there. */
  report: ReportPeer
  logger: Logger
  /**
   * Fault injection for tests only: rewrites each answer envelope before it is sent. Production
   * nodes never set it.
   */
  rewriteAnswer?: (envelope: Uint8Array, request: SyncRequest) => Uint8Array
}

export interface SyncComponents {
  registrar: {
    handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
}

/**
 * `/tzp2p/sync/1.0.0` as a libp2p service: answers peers' requests from the store (with per-peer
 * rate limits) and, through `client`, sends ours.
 */
export class SyncService implements Startable {
  private readonly components: SyncComponents
  private readonly init: SyncInit
  private readonly log: Logger
  private readonly throttle = new RateLimiter(SYNC_THROTTLES)
  private syncClient: SyncClient | undefined
  readonly stats = { served: 0, answers: 0, throttled: 0, badRequests: 0 }
  /**
   * Request streams being read or answered now, and the most ever at once. Bounded by the muxer:
   * at most `SYNC_MAX_INBOUND_STREAMS` per connection, times the connection limit.
   */
  readonly load = { inFlight: 0, highWater: 0 }
  /** Sync channels open now, and the most ever at once (at most `SYNC_MAX_INBOUND_CHANNELS` per connection). */
  readonly channels = { open: 0, highWater: 0 }

  constructor (components: SyncComponents, init: SyncInit) {
    this.components = components
    this.init = init
    this.log = init.logger.child({ module: 'sync' })
  }

  readonly [Symbol.toStringTag] = 'tzp2p/sync'

  /** Our requests to peers. Built on first use: a node builds its services before it opens its chain. */
  get client (): SyncClient {
    this.syncClient ??= new SyncClient({
      chainId: this.init.chain.genesis.chainId,
      peer: id => this.init.peers.get(id)
    })
    return this.syncClient
  }

  async start (): Promise<void> {
    const peers = this.init.peers
    await this.components.registrar.handle(SYNC_PROTOCOL, authenticatedOnly({ isAuthenticated: c => peers.ofConnection(c.id) !== undefined }, this.handleStream), {
      maxInboundStreams: SYNC_MAX_INBOUND_STREAMS,
      maxOutboundStreams: SYNC_MAX_OUTBOUND_STREAMS
    })
    await this.components.registrar.handle(SYNC_CHANNEL_PROTOCOL, authenticatedOnly({ isAuthenticated: c => peers.ofConnection(c.id) !== undefined }, this.handleChannel), {
      maxInboundStreams: SYNC_MAX_INBOUND_CHANNELS,
      maxOutboundStreams: SYNC_MAX_OUTBOUND_CHANNELS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(SYNC_PROTOCOL)
    await this.components.registrar.unhandle(SYNC_CHANNEL_PROTOCOL)
  }

  forgetPeer (tezosPeerId: string): void {
    this.throttle.forget(tezosPeerId)
  }

  private readonly handleStream = async (stream: Stream, connection: Connection): Promise<void> => {
    this.load.inFlight++
    if (this.load.inFlight > this.load.highWater) this.load.highWater = this.load.inFlight
    try {
      await this.serveStream(stream, connection)
    } finally {
      this.load.inFlight--
    }
  }

  /** A peer's sync channel (`protocols/sync.md` §2.1): batches answered in order until it ends. */
  private readonly handleChannel = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = this.init.peers.ofConnection(connection.id)
    if (peer === undefined) { stream.abort(new Error('no authenticated peer')); return }
    this.channels.open++
    if (this.channels.open > this.channels.highWater) this.channels.highWater = this.channels.open
    try {
      await serveChannel(stream, {
        answer: async requests => await this.answer(peer, requests),
        onBadRequest: error => {
          if (connection.status !== 'open') return
          const kind = misbehaviourOf(error)
          if (kind === undefined) return
          this.stats.badRequests++
          this.init.report(peer.ref, kind, `sync: ${error.message}`)
        },
        onAnswerFailed: error => { this.log.debug({ peer: peer.tezosPeerId, err: error.message }, 'sync channel answer failed') }
      })
    } finally {
      this.channels.open--
    }
  }

  private async serveStream (stream: Stream, connection: Connection): Promise<void> {
    const peer = this.init.peers.ofConnection(connection.id)
    if (peer === undefined) { stream.abort(new Error('no authenticated peer')); return }
    const reader = new EnvelopeStream(stream, SYNC_PROTOCOL, SYNC_MAX_REQUEST_BYTES)
    const signal = AbortSignal.timeout(SYNC_REQUEST_READ_TIMEOUT_MS)
    let requests: SyncRequest[]
    try {
      requests = await this.readRequests(reader, signal)
    } catch (err) {
      const error = err as Error
      stream.abort(error)
      if (signal.aborted || connection.status !== 'open') return
      const kind = misbehaviourOf(error)
      if (kind !== undefined) {
        this.stats.badRequests++
        this.init.report(peer.ref, kind, `sync: ${error.message}`)
      }
      return
    }
    if (requests.length === 0) { await stream.close().catch(() => {}); return }
    let answers: Uint8Array[]
    try {
      answers = await this.answer(peer, requests)
    } catch (err) {
      this.log.debug({ peer: peer.tezosPeerId, err: (err as Error).message }, 'sync answer failed')
      stream.abort(err as Error)
      return
    }
    if (answers.length === 0) {
      await stream.close().catch(() => {})
      return
    }
    try {
      await writeAnswers(reader, answers)
      await stream.close({ signal: AbortSignal.timeout(ANSWER_WRITE_TIMEOUT_MS) })
    } catch (err) {
      this.log.debug({ peer: peer.tezosPeerId, err: (err as Error).message }, 'sync answer failed')
      stream.abort(err as Error)
    }
  }

  /**
   * The answer envelopes to a peer's requests (all of one kind), on any wire. With `throttle`
   * (default), each request message takes its cost in tokens (`syncRequestCost`: one per key of a
   * data request); those over the peer's rate are not answered (its
   * requester asks elsewhere or later), and a peer that keeps sending them is reported as flooding.
   * A wire that throttles as Octez does (delaying its reader) passes `throttle: false`.
   */
  async answer (peer: NetworkPeer, requests: readonly SyncRequest[], options: { throttle?: boolean } = {}): Promise<Uint8Array[]> {
    if (requests.length === 0) return []
    const tag = requests[0].tag
    let granted = requests.length
    if (options.throttle !== false) {
      granted = 0
      while (granted < requests.length) {
        const admission = this.throttle.admit(peer.tezosPeerId, tag, syncRequestCost(requests[granted]))
        if (admission === 'flooding') this.init.report(peer.ref, 'flooding', `sync: ${tag} beyond its throttle`)
        if (admission !== 'granted') break
        granted++
      }
      if (granted < requests.length) this.stats.throttled += requests.length - granted
    }
    const admitted = requests.slice(0, granted)
    if (admitted.length === 0) return []
    const source = { chain: this.init.chain, tezosPeerId: this.init.tezosPeerId, ...(this.init.mempool === undefined ? {} : { mempool: this.init.mempool }) }
    // A peer that announced disable_mempool is sent no mempool (Octez `src/lib_shell/p2p_reader.ml`).
    const answerOptions = { emptyMempool: peer.metadata.disableMempool }
    const rewrite = this.init.rewriteAnswer
    // The test-only rewrite sees each answer with the request it answers, so requests are answered
    // one by one there (a stream may carry several, e.g. Get_predecessor_header at other offsets).
    const answers = rewrite === undefined
      ? await answersFor(source, peer.tezosPeerId, admitted, answerOptions)
      : (await Promise.all(admitted.map(async r => (await answersFor(source, peer.tezosPeerId, [r], answerOptions)).map(a => rewrite(a, r))))).flat()
    this.stats.served++
    this.stats.answers += answers.length
    return answers
  }

  /** The request messages (one kind, within the per-stream bound), up to the requester's half-close. */
  private async readRequests (reader: EnvelopeStream, signal: AbortSignal): Promise<SyncRequest[]> {
    const requests: SyncRequest[] = []
    for (;;) {
      const read = await reader.read({ signal })
      if (read === undefined) return requests
      acceptRequest(SYNC_PROTOCOL, requests, read.message)
    }
  }
}

/** The libp2p service factory: `services: { sync: sync(init) }`. */
export function sync (init: SyncInit): (components: SyncComponents) => SyncService {
  return (components) => new SyncService(components, init)
}
