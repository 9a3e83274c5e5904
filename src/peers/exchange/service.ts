import { byteStream, type ByteStream } from '@libp2p/utils'
import type { Connection, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Logger } from 'pino'
import { authenticatedOnly, assertAuthenticated, type AuthenticationState } from '../../handshake/guard.ts'
import type { PeerMessage } from '../../wire/peer-messages.ts'
import type { PointAddress } from '../../net/point.ts'
import { misbehaviourOf, type Misbehaviour } from '../../misbehaviour/index.ts'
import {
  ADVERTISE_MAX_SENT, announcedBodyLength, BOOTSTRAP_THROTTLE_MS, decodePeerMessage, encodePeerMessage,
  formatExchangedPoint, MAX_MESSAGE_BODY_BYTES, MAX_STREAMS_PER_CONNECTION,
  P2P_MESSAGE_LENGTH_BYTES, parseExchangedPoint, PEER_EXCHANGE_PROTOCOL, peerIdBytes, peerIdFromBytes, REPLY_TIMEOUT_MS,
  SWAP_THROTTLE_MS, UnexpectedPeerMessageError
} from './protocol.ts'

/** A point and the Tezos peer id behind it, as a swap proposes them. */
export interface SwapProposal {
  point: PointAddress
  tezosPeerId: string
}

/**
 * What the service needs from the node: which connections are authenticated, what to advertise,
 * what to do with what peers send. The connection manager implements it.
 */
export interface PeerExchangeHost extends AuthenticationState {
  /** Points to answer a Bootstrap with (the service keeps at most 50); empty in private mode or without discovery. */
  pointsToAdvertise: (connection: Connection) => PointAddress[]
  /**
   * A Swap_request from `connection` proposing `proposal`: the swap to answer with, or undefined to
   * ignore it (the host then dials the proposed point itself).
   */
  onSwapRequest: (connection: Connection, proposal: SwapProposal) => SwapProposal | undefined
  /** The peer sent Disconnect (Octez: close the connection). */
  onDisconnect: (connection: Connection) => void
  /** The peer broke the protocol: reported to the peer policy (`malformed-message` greylists it). */
  report: (connection: Connection, misbehaviour: Misbehaviour, detail: string) => void
}

export interface PeerExchangeInit {
  host: PeerExchangeHost
  logger: Logger
  /** Overrides for tests; defaults are Octez's throttles and a 10 s reply timeout. */
  bootstrapThrottleMs?: number
  swapThrottleMs?: number
  replyTimeoutMs?: number
}

export interface PeerExchangeComponents {
  registrar: {
    handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
  events: EventTarget
}

/** Per connection: when each throttled kind was last handled. */
interface Throttles {
  bootstrap: number
  swap: number
}

/**
 * `/tzp2p/peers/1.0.0` as a libp2p service. Every exchange is one stream: the opener sends one
 * request (Bootstrap or Swap_request, or a lone Disconnect), the other side answers at most one
 * message (Advertise or Swap_ack) and closes. See `protocols/peers.md`.
 */
export class PeerExchangeService implements Startable {
  private readonly components: PeerExchangeComponents
  private readonly host: PeerExchangeHost
  private readonly log: Logger
  private readonly bootstrapThrottleMs: number
  private readonly swapThrottleMs: number
  private readonly replyTimeoutMs: number
  private readonly throttles = new Map<string, Throttles>()
  /** Per connection: when we last sent a Swap_request, so we never ask a peer to break its own throttle. */
  private readonly lastSwapSent = new Map<string, number>()
  private readonly shutdown = new AbortController()

  constructor (components: PeerExchangeComponents, init: PeerExchangeInit) {
    this.components = components
    this.host = init.host
    this.log = init.logger.child({ module: 'peer-exchange' })
    this.bootstrapThrottleMs = init.bootstrapThrottleMs ?? BOOTSTRAP_THROTTLE_MS
    this.swapThrottleMs = init.swapThrottleMs ?? SWAP_THROTTLE_MS
    this.replyTimeoutMs = init.replyTimeoutMs ?? REPLY_TIMEOUT_MS
  }

  readonly [Symbol.toStringTag] = 'tzp2p/peers'

  async start (): Promise<void> {
    await this.components.registrar.handle(PEER_EXCHANGE_PROTOCOL, authenticatedOnly(this.host, async (stream, connection) => {
      await this.handle(stream, connection)
    }), { maxInboundStreams: MAX_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_STREAMS_PER_CONNECTION })
    this.components.events.addEventListener('connection:close', this.onConnectionClose)
  }

  async stop (): Promise<void> {
    this.shutdown.abort(new Error('node stopping'))
    this.components.events.removeEventListener('connection:close', this.onConnectionClose)
    await this.components.registrar.unhandle(PEER_EXCHANGE_PROTOCOL)
    this.throttles.clear()
    this.lastSwapSent.clear()
  }

  /**
   * Sends Bootstrap and returns the points of the Advertise that answers it (none if the peer does
   * not answer in time). A malformed answer is reported to the host and throws.
   */
  async requestPoints (connection: Connection): Promise<PointAddress[]> {
    const reply = await this.exchange(connection, { tag: 'Bootstrap' })
    if (reply === undefined) return []
    return this.reported(connection, () => {
      if (reply.tag !== 'Advertise') throw new UnexpectedPeerMessageError(reply.tag, 'in answer to Bootstrap')
      return readPoints(reply.points)
    })
  }

  /**
   * Proposes a swap to the peer on `connection` (Octez `Swap_request`): "connect to `proposal`".
   * Returns the peer's counter-proposal (its Swap_ack), or undefined if it ignored the request.
   * Returns undefined without sending anything within the peer's swap throttle.
   */
  async requestSwap (connection: Connection, proposal: SwapProposal): Promise<SwapProposal | undefined> {
    const now = Date.now()
    const last = this.lastSwapSent.get(connection.id)
    if (last !== undefined && now - last < this.swapThrottleMs) return undefined
    this.lastSwapSent.set(connection.id, now)
    const reply = await this.exchange(connection, {
      tag: 'Swap_request', point: formatExchangedPoint(proposal.point), peerId: peerIdBytes(proposal.tezosPeerId)
    })
    if (reply === undefined) return undefined
    return this.reported(connection, () => {
      if (reply.tag !== 'Swap_ack') throw new UnexpectedPeerMessageError(reply.tag, 'in answer to Swap_request')
      return readSwap(reply.point, reply.peerId)
    })
  }

  /** Tells the peer we are closing (Octez's Disconnect; Octez itself just closes). */
  async sendDisconnect (connection: Connection): Promise<void> {
    assertAuthenticated(this.host, connection, PEER_EXCHANGE_PROTOCOL)
    const stream = await connection.newStream(PEER_EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(this.replyTimeoutMs) })
    stream.send(encodePeerMessage({ tag: 'Disconnect' }))
    await stream.close({ signal: AbortSignal.timeout(this.replyTimeoutMs) }).catch(() => { stream.abort(new Error('close failed')) })
  }

  // --- requesting side ----------------------------------------------------------------------------

  private async exchange (connection: Connection, request: PeerMessage): Promise<PeerMessage | undefined> {
    assertAuthenticated(this.host, connection, PEER_EXCHANGE_PROTOCOL)
    const signal = AbortSignal.any([AbortSignal.timeout(this.replyTimeoutMs), this.shutdown.signal])
    const stream = await connection.newStream(PEER_EXCHANGE_PROTOCOL, { signal })
    try {
      const bytes = byteStream(stream, { maxBufferSize: P2P_MESSAGE_LENGTH_BYTES + MAX_MESSAGE_BODY_BYTES })
      stream.send(encodePeerMessage(request))
      // Half-close: the peer reads exactly one request, and sees our end once it has.
      await stream.close({ signal })
      const reply = await this.readOne(bytes, signal)
      return reply
    } catch (err) {
      stream.abort(err as Error)
      this.report(connection, err)
      throw err
    }
  }

  /** Runs `fn`; a malformed or unexpected message it finds is reported to the host before it is rethrown. */
  private reported<T> (connection: Connection, fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      this.report(connection, err)
      throw err
    }
  }

  private report (connection: Connection, err: unknown): void {
    const kind = misbehaviourOf(err)
    if (kind !== undefined) this.host.report(connection, kind, `peer exchange: ${(err as Error).message}`)
  }

  // --- answering side -----------------------------------------------------------------------------

  private async handle (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.replyTimeoutMs), this.shutdown.signal])
    const bytes = byteStream(stream, { maxBufferSize: P2P_MESSAGE_LENGTH_BYTES + MAX_MESSAGE_BODY_BYTES })
    try {
      const request = await this.readOne(bytes, signal)
      if (request === undefined) { await stream.close({ signal }); return }
      const reply = await this.answer(connection, request, signal)
      if (reply !== undefined) stream.send(encodePeerMessage(reply))
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
      this.report(connection, err)
      if (misbehaviourOf(err) === undefined) this.log.debug({ err: (err as Error).message, remote: connection.remoteAddr.toString() }, 'peer-exchange stream failed')
    }
  }

  private async answer (connection: Connection, request: PeerMessage, signal: AbortSignal): Promise<PeerMessage | undefined> {
    const throttles = this.throttlesOf(connection)
    switch (request.tag) {
      case 'Bootstrap': {
        // Octez delays a Bootstrap that comes sooner than the throttle allows; it is not dropped.
        const wait = throttles.bootstrap + this.bootstrapThrottleMs - Date.now()
        if (wait > 0) await sleep(wait, signal)
        throttles.bootstrap = Date.now()
        const points: string[] = []
        for (const p of this.host.pointsToAdvertise(connection)) {
          if (points.length >= ADVERTISE_MAX_SENT) break
          try { points.push(formatExchangedPoint(p)) } catch { /* a point with no multiaddr form under 256 B is not shared */ }
        }
        return points.length > 0 ? { tag: 'Advertise', points } : undefined
      }
      case 'Swap_request': {
        // A swap moves connections around; delaying a stale proposal by a minute helps nobody, so
        // one inside the throttle window is ignored (see protocols/peers.md §7).
        const now = Date.now()
        if (now - throttles.swap < this.swapThrottleMs) return undefined
        throttles.swap = now
        const proposal = readSwap(request.point, request.peerId)
        if (proposal === undefined) return undefined
        const counter = this.host.onSwapRequest(connection, proposal)
        if (counter === undefined) return undefined
        return { tag: 'Swap_ack', point: formatExchangedPoint(counter.point), peerId: peerIdBytes(counter.tezosPeerId) }
      }
      case 'Disconnect':
        this.host.onDisconnect(connection)
        return undefined
      default:
        throw new UnexpectedPeerMessageError(request.tag, 'opening a peer-exchange stream')
    }
  }

  // --- framing ------------------------------------------------------------------------------------

  /** One envelope, or undefined if the stream ends before a whole one arrived. */
  private async readOne (bytes: ByteStream<Stream>, signal: AbortSignal): Promise<PeerMessage | undefined> {
    let prefix: Uint8Array
    try {
      prefix = (await bytes.read({ bytes: P2P_MESSAGE_LENGTH_BYTES, signal })).subarray()
    } catch (err) {
      if ((err as Error).name === 'UnexpectedEOFError') return undefined
      throw err
    }
    const length = announcedBodyLength(prefix)
    let body: Uint8Array
    try {
      body = (await bytes.read({ bytes: length, signal })).subarray()
    } catch (err) {
      if ((err as Error).name === 'UnexpectedEOFError') return undefined
      throw err
    }
    const envelope = new Uint8Array(P2P_MESSAGE_LENGTH_BYTES + length)
    envelope.set(prefix, 0)
    envelope.set(body, P2P_MESSAGE_LENGTH_BYTES)
    return decodePeerMessage(envelope)
  }

  private throttlesOf (connection: Connection): Throttles {
    let t = this.throttles.get(connection.id)
    if (t === undefined) {
      t = { bootstrap: -Infinity, swap: -Infinity }
      this.throttles.set(connection.id, t)
    }
    return t
  }

  private readonly onConnectionClose = (evt: Event): void => {
    const connection = (evt as CustomEvent<Connection>).detail
    this.throttles.delete(connection.id)
    this.lastSwapSent.delete(connection.id)
  }
}

/** The points of an Advertise; one malformed point makes the whole list malformed (as in Octez). */
function readPoints (texts: string[]): PointAddress[] {
  const points: PointAddress[] = []
  for (const text of texts) {
    const p = parseExchangedPoint(text)
    if (p !== undefined) points.push(p)
  }
  return points
}

function readSwap (pointText: string, peerId: Uint8Array): SwapProposal | undefined {
  const point = parseExchangedPoint(pointText)
  const tezosPeerId = peerIdFromBytes(peerId)
  return point === undefined ? undefined : { point, tezosPeerId }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason as Error) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The libp2p service factory: `services: { peerExchange: peerExchange(init) }`. */
export function peerExchange (init: PeerExchangeInit): (components: PeerExchangeComponents) => PeerExchangeService {
  return (components) => new PeerExchangeService(components, init)
}
