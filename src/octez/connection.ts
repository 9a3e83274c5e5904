import type { Socket } from 'node:net'
import type { ChunkCipher } from '../handshake/channel.ts'
import type { ConnectionMessage, NetworkVersion } from '../wire/connection-message.ts'
import type { ConnectionMetadata } from '../wire/metadata.ts'
import { encodeP2pMessage, type P2pMessage } from '../wire/p2p-message.ts'
import { ChunkDecoder, cutMessage } from './chunks.ts'
import { EnvelopeAssembler, type ReceivedMessage } from './envelopes.ts'
import { OctezConnectionClosedError, OctezWireError } from './errors.ts'
import type { OctezHandshakeResult } from './handshake.ts'
import { closeSocketGracefully } from './socket-close.ts'

/**
 * Octez's default `incoming_message_queue_size` and `outgoing_message_queue_size`
 * (`src/lib_p2p_services/p2p_limits.ml`): 8 MiB of messages each way per connection.
 */
export const DEFAULT_MESSAGE_QUEUE_BYTES = 8 * 1024 * 1024

export interface OctezConnectionLimits {
  /** Received messages held until consumed; past it the socket is paused (Octez's reader blocks). */
  incomingQueueBytes: number
  /** Messages waiting to be written; `send` waits for room past it, `trySend` refuses. */
  outgoingQueueBytes: number
  /** Plaintext bytes per written chunk (`binary_chunks_size` - 18; 65517 by default). */
  chunkPlaintextBytes: number
}

/** How a connection ended. */
export interface OctezCloseInfo {
  /** Who ended it: `local` (`close()`), `remote` (the peer closed), `error` (the wire failed). */
  by: 'local' | 'remote' | 'error'
  reason: string
  /** Set when the wire failed; its `misbehaviour` says whether the peer is to blame. */
  error?: OctezWireError
}

interface Outgoing {
  parts: Uint8Array[]
  bytes: number
}

/**
 * An authenticated Octez-wire connection (Octez `P2p_socket.t` after `accept`): every P2P envelope
 * is cut into chunks of at most 65517 plaintext bytes, each sealed with the next local nonce; the
 * received chunks are opened with the remote nonces and reassembled into envelopes.
 *
 * Both directions have a bounded queue, as Octez's reader and writer workers: received messages
 * wait in the incoming queue until read (the socket is paused while it is full), messages to send
 * wait in the outgoing queue until written. Any failure closes the connection; `closed` says why.
 */
export class OctezConnection {
  readonly tezosPeerId: string
  readonly publicKey: Uint8Array
  /** The remote's connection message: advertised port, public key, PoW stamp, announced versions. */
  readonly connectionMessage: ConnectionMessage
  readonly metadata: ConnectionMetadata
  /** The versions selected for this connection (chain name, distributed_db, p2p). */
  readonly version: NetworkVersion
  /** True when the remote dialled us. */
  readonly incoming: boolean
  /** Remote socket address and port. */
  readonly remoteAddress: string
  readonly remotePort: number
  /** Resolves once, when the connection is closed (never rejects). */
  readonly closed: Promise<OctezCloseInfo>

  private readonly socket: Socket
  private readonly cipher: ChunkCipher
  private readonly limits: OctezConnectionLimits
  private readonly chunks: ChunkDecoder
  private readonly envelopes = new EnvelopeAssembler()
  private readonly received: ReceivedMessage[] = []
  private receivedBytes = 0
  private paused = false
  private readonly outgoing: Outgoing[] = []
  private outgoingBytes = 0
  private writing = false
  private readonly roomWaiters: Array<() => void> = []
  private readonly drainWaiters: Array<() => void> = []
  private readonly readerWaiters: Array<() => void> = []
  private closeInfo: OctezCloseInfo | undefined
  private resolveClosed!: (info: OctezCloseInfo) => void

  constructor (socket: Socket, auth: OctezHandshakeResult, limits: OctezConnectionLimits) {
    this.socket = socket
    this.cipher = auth.cipher
    this.limits = limits
    this.tezosPeerId = auth.remote.tezosPeerId
    this.publicKey = auth.remote.publicKey
    this.connectionMessage = auth.remote.connectionMessage
    this.metadata = auth.remote.metadata
    this.version = auth.version
    this.incoming = auth.remote.incoming
    this.remoteAddress = auth.remote.address
    this.remotePort = auth.remote.port
    this.closed = new Promise(resolve => { this.resolveClosed = resolve })
    this.chunks = new ChunkDecoder(auth.cipher)

    socket.on('data', (data: Buffer) => { this.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) })
    socket.on('end', () => {
      const detail = this.chunks.buffered > 0 || !this.envelopes.atBoundary ? ' in the middle of a message' : ''
      this.finish({ by: 'remote', reason: `the peer closed the connection${detail}` }, false)
    })
    socket.on('error', err => {
      this.finish({ by: 'remote', reason: err.message, error: new OctezConnectionClosedError(`socket error: ${err.message}`, { cause: err }) }, true)
    })
    socket.on('close', () => { this.finish({ by: 'remote', reason: 'the socket closed' }, true) })
    if (auth.leftover.length > 0) this.onData(auth.leftover)
    if (socket.readableEnded || socket.destroyed) {
      // The peer left during the handshake, right after its Ack: its 'end' has already been emitted.
      this.finish({ by: 'remote', reason: 'the peer closed the connection' }, false)
    } else if (this.closeInfo === undefined && !this.paused) {
      socket.resume()
    }
  }

  /**
   * The point the remote listens on, as Octez records it (`id_point`): for a connection we dialled,
   * the address and port we dialled; for an incoming one, its address and the port it announced
   * (undefined when it announced none).
   */
  get listeningPort (): number | undefined {
    if (!this.incoming) return this.remotePort
    return this.connectionMessage.port === 0 ? undefined : this.connectionMessage.port
  }

  get isClosed (): boolean {
    return this.closeInfo !== undefined
  }

  /** Bytes waiting in each queue. */
  get queued (): { incoming: number, outgoing: number } {
    return { incoming: this.receivedBytes, outgoing: this.outgoingBytes }
  }

  /**
   * Queues a message (Octez `P2p_socket.write`), waiting while the outgoing queue is full. Resolves
   * once queued, not once written. Throws `OctezConnectionClosedError` on a closed connection and
   * `EncodeError` for a message that cannot be encoded.
   */
  async send (message: P2pMessage): Promise<void> {
    const item = this.prepare(message)
    while (!this.hasRoom(item.bytes)) {
      await new Promise<void>(resolve => { this.roomWaiters.push(resolve) })
      this.assertOpen()
    }
    this.enqueue(item)
  }

  /**
   * `send` for a message already encoded as a whole envelope (4-byte length ‖ tag ‖ payload), as
   * answers are read from the store. Throws `OctezConnectionClosedError` on a closed connection.
   */
  async sendEnvelope (envelope: Uint8Array): Promise<void> {
    const item = this.prepareEncoded(envelope)
    while (!this.hasRoom(item.bytes)) {
      await new Promise<void>(resolve => { this.roomWaiters.push(resolve) })
      this.assertOpen()
    }
    this.enqueue(item)
  }

  /** `trySend` for an encoded envelope (Octez `try_send` of an answer): false when the queue is full. */
  trySendEnvelope (envelope: Uint8Array): boolean {
    const item = this.prepareEncoded(envelope)
    if (!this.hasRoom(item.bytes)) return false
    this.enqueue(item)
    return true
  }

  /** Queues a message only if the outgoing queue has room now (Octez `write_now`); false otherwise. */
  trySend (message: P2pMessage): boolean {
    const item = this.prepare(message)
    if (!this.hasRoom(item.bytes)) return false
    this.enqueue(item)
    return true
  }

  /** Resolves once everything queued so far is handed to the socket. */
  async flush (): Promise<void> {
    while (this.outgoing.length > 0 || this.writing) {
      this.assertOpen()
      await new Promise<void>(resolve => { this.drainWaiters.push(resolve) })
    }
    this.assertOpen()
  }

  /**
   * The received messages, in order. Ends when the connection closes; if it closed because the
   * wire failed, the iteration throws that error after the messages received before it. Meant for
   * one consumer: concurrent iterations share the messages between them.
   */
  async * messages (): AsyncGenerator<P2pMessage, void, undefined> {
    for (;;) {
      const next = this.received.shift()
      if (next !== undefined) {
        this.receivedBytes -= next.size
        if (this.paused && this.receivedBytes < this.limits.incomingQueueBytes && this.closeInfo === undefined) {
          this.paused = false
          this.socket.resume()
        }
        yield next.message
        continue
      }
      if (this.closeInfo !== undefined) {
        if (this.closeInfo.by === 'error' && this.closeInfo.error !== undefined) throw this.closeInfo.error
        return
      }
      await new Promise<void>(resolve => { this.readerWaiters.push(resolve) })
    }
  }

  [Symbol.asyncIterator] (): AsyncGenerator<P2pMessage, void, undefined> {
    return this.messages()
  }

  /**
   * Closes the connection (Octez `P2p_socket.close`). With `flush`, the queued messages are written
   * first (Octez `~wait:true`); otherwise they are dropped. Resolves once closed.
   */
  async close (reason = 'closed locally', options: { flush?: boolean } = {}): Promise<OctezCloseInfo> {
    if (options.flush === true && this.closeInfo === undefined) await this.flush().catch(() => {})
    this.finish({ by: 'local', reason }, false)
    return await this.closed
  }

  private prepare (message: P2pMessage): Outgoing {
    this.assertOpen()
    const bytes = encodeP2pMessage(message)
    return { parts: cutMessage(bytes, this.limits.chunkPlaintextBytes), bytes: bytes.length }
  }

  private prepareEncoded (envelope: Uint8Array): Outgoing {
    this.assertOpen()
    return { parts: cutMessage(envelope, this.limits.chunkPlaintextBytes), bytes: envelope.length }
  }

  private assertOpen (): void {
    if (this.closeInfo !== undefined) throw new OctezConnectionClosedError(`connection closed: ${this.closeInfo.reason}`)
  }

  /**
   * Octez's bounded pipe (`src/lib_stdlib/lwt_pipe.ml`, `push`): a message fits when the queue stays
   * under its bound with it, and always fits an empty queue, whatever its size.
   */
  private hasRoom (bytes: number): boolean {
    return this.outgoing.length === 0 || this.outgoingBytes + bytes < this.limits.outgoingQueueBytes
  }

  private enqueue (item: Outgoing): void {
    this.outgoing.push(item)
    this.outgoingBytes += item.bytes
    if (!this.writing) void this.writeLoop()
  }

  /** Octez's writer worker: one message at a time, each chunk sealed with the next nonce as it is written. */
  private async writeLoop (): Promise<void> {
    this.writing = true
    try {
      while (this.outgoing.length > 0 && this.closeInfo === undefined) {
        const item = this.outgoing[0]
        let full = false
        for (const part of item.parts) {
          if (!this.socket.write(this.cipher.seal(part))) full = true
        }
        if (full) await this.socketDrained()
        // Closing empties the queue while we wait for the socket.
        if (this.closeInfo !== undefined) break
        this.outgoing.shift()
        this.outgoingBytes -= item.bytes
        for (const wake of this.roomWaiters.splice(0)) wake()
      }
    } finally {
      this.writing = false
      for (const wake of this.drainWaiters.splice(0)) wake()
    }
  }

  private async socketDrained (): Promise<void> {
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
  }

  private onData (data: Uint8Array): void {
    if (this.closeInfo !== undefined) return
    try {
      for (const plaintext of this.chunks.push(data)) {
        for (const received of this.envelopes.push(plaintext)) {
          this.received.push(received)
          this.receivedBytes += received.size
        }
      }
    } catch (err) {
      const error = err instanceof OctezWireError ? err : new OctezConnectionClosedError(String(err), { cause: err })
      this.finish({ by: 'error', reason: error.message, error }, true)
      return
    } finally {
      this.wakeReaders()
    }
    if (this.receivedBytes >= this.limits.incomingQueueBytes && !this.paused) {
      this.paused = true
      this.socket.pause()
    }
  }

  private wakeReaders (): void {
    for (const wake of this.readerWaiters.splice(0)) wake()
  }

  private finish (info: OctezCloseInfo, destroy: boolean): void {
    if (this.closeInfo !== undefined) return
    this.closeInfo = info
    this.outgoing.length = 0
    this.outgoingBytes = 0
    if (destroy) this.socket.destroy()
    else closeSocketGracefully(this.socket)
    for (const wake of this.roomWaiters.splice(0)) wake()
    for (const wake of this.drainWaiters.splice(0)) wake()
    this.wakeReaders()
    this.resolveClosed(info)
  }
}
