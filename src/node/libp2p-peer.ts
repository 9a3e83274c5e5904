import type { Connection } from '@libp2p/interface'
import { peerRefOf, type AuthenticatedPeer, type AuthenticatedPeers } from '../handshake/authenticated-peers.ts'
import { GOSSIP_MAX_MESSAGE_BYTES, GOSSIP_PROTOCOL } from '../gossip/definitions.ts'
import { misbehaviourOf, type PeerRef } from '../misbehaviour/index.ts'
import type { AnswerKind, NetworkPeer, PeerDirectory } from '../peer/index.ts'
import { EnvelopeStream, UnexpectedMessageError } from '../stream/envelope-stream.ts'
import { InvalidAnswerError } from '../sync/checks.ts'
import { PeerNotConnectedError } from '../sync/client.ts'
import { SYNC_PROTOCOL } from '../sync/definitions.ts'
import { encodeP2pMessage, type P2pMessage } from '../wire/p2p-message.ts'

/** A gossip write that does not drain within this is abandoned (the stream is reset). */
const GOSSIP_WRITE_TIMEOUT_MS = 30_000
const GOSSIP_OPEN_TIMEOUT_MS = 10_000

/**
 * A peer on the libp2p wire (`protocols/gossip.md`, `protocols/sync.md`): what it is sent goes on
 * one long-lived outbound gossip stream, opened on first use and again after a failure; each
 * request gets a sync stream of its own, whose end tells that the peer has answered all it will.
 */
export class Libp2pPeer implements NetworkPeer {
  readonly wire = 'libp2p'
  readonly authenticated: AuthenticatedPeer
  readonly ref: PeerRef
  private readonly connection: () => Connection | undefined
  private out: EnvelopeStream | undefined

  constructor (peer: AuthenticatedPeer, connection: () => Connection | undefined) {
    this.authenticated = peer
    this.ref = peerRefOf(peer)
    this.connection = connection
  }

  get tezosPeerId (): string { return this.authenticated.tezosPeerId }
  get connectionId (): string { return this.authenticated.connectionId }
  get version (): AuthenticatedPeer['version'] { return this.authenticated.version }
  get metadata (): AuthenticatedPeer['metadata'] { return this.authenticated.metadata }
  get remoteIp (): string | undefined { return this.authenticated.remoteIp }

  async send (message: P2pMessage): Promise<void> {
    const out = await this.outbound()
    try {
      await out.writeWithin(encodeP2pMessage(message), GOSSIP_WRITE_TIMEOUT_MS)
    } catch (err) {
      out.stream.abort(err as Error)
      if (this.out === out) this.out = undefined
      throw err
    }
  }

  /**
   * One sync stream: the request messages in one write, our write side closed, then the answers
   * until the responder closes or `signal` fires (what arrived by then is kept).
   */
  async request (requests: readonly P2pMessage[], kind: AnswerKind, signal: AbortSignal): Promise<P2pMessage[]> {
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

  /** Closes our gossip stream (the peer is gone or the node stops). */
  close (): void {
    this.out?.stream.close().catch(() => {})
    this.out = undefined
  }

  private async outbound (): Promise<EnvelopeStream> {
    if (this.out !== undefined && this.out.stream.writeStatus === 'writable') return this.out
    const stream = await this.open(GOSSIP_PROTOCOL, AbortSignal.timeout(GOSSIP_OPEN_TIMEOUT_MS))
    this.out = new EnvelopeStream(stream, GOSSIP_PROTOCOL, GOSSIP_MAX_MESSAGE_BYTES)
    return this.out
  }

  private async open (protocol: string, signal: AbortSignal): ReturnType<Connection['newStream']> {
    const connection = this.connection()
    if (connection === undefined) throw new PeerNotConnectedError(`peer ${this.tezosPeerId} is not connected`)
    return await connection.newStream(protocol, { signal })
  }
}

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
