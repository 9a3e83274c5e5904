import type { PeerRef } from '../misbehaviour/index.ts'
import type { OctezConnection } from '../octez/connection.ts'
import type { AnswerKind, NetworkPeer } from '../peer/index.ts'
import { normaliseIp } from '../peers/greylist.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import { KeyedAnswers, type Delivery } from './keyed-answers.ts'

let connectionCount = 0

/**
 * A peer on Octez's wire (`protocols/octez-wire.md`): `send` queues a message on the connection;
 * `request` sends the request messages and waits for the answers by key. An answer that never
 * comes is a timeout (the requester asks another peer); an answer nobody asked for is reported by
 * the reader (`octez-session.ts`) as `unrequested-data`.
 */
export class OctezPeer implements NetworkPeer {
  readonly wire = 'octez'
  readonly connection: OctezConnection
  readonly connectionId: string
  readonly remoteIp: string
  readonly ref: PeerRef
  /** The point (`ip:port`) this peer was dialled at or listens on, when known. */
  point: string | undefined
  /** Our requests waiting for answers, matched by key. */
  private readonly answers = new KeyedAnswers()

  constructor (connection: OctezConnection) {
    this.connection = connection
    this.connectionId = `octez-${++connectionCount}`
    this.remoteIp = normaliseIp(connection.remoteAddress) ?? connection.remoteAddress
    this.ref = { tezosPeerId: connection.tezosPeerId, ip: this.remoteIp }
    // A lost connection ends the requests waiting on it.
    void connection.closed.then(() => { this.answers.close() }, () => { this.answers.close() })
  }

  get tezosPeerId (): string { return this.connection.tezosPeerId }
  get version (): OctezConnection['version'] { return this.connection.version }
  get metadata (): OctezConnection['metadata'] { return this.connection.metadata }
  /** The remote's listening point (`ip:port`) as Octez records it, when it has one. */
  get listeningPort (): number | undefined { return this.connection.listeningPort }
  get incoming (): boolean { return this.connection.incoming }

  async send (message: P2pMessage): Promise<void> {
    await this.connection.send(message)
  }

  async request (requests: readonly P2pMessage[], _kind: AnswerKind, signal: AbortSignal): Promise<P2pMessage[]> {
    return await this.answers.request(requests, async () => { for (const r of requests) await this.connection.send(r) }, signal)
  }

  /** Hands an incoming answer to the requests waiting for its key. */
  deliver (message: P2pMessage): Delivery {
    return this.answers.deliver(message)
  }

  /** Whether a request waits for this answer's key now (Current_branch / Current_head are also announcements). */
  awaits (message: P2pMessage): boolean {
    return this.answers.awaits(message)
  }
}
