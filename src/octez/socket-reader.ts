import type { Socket } from 'node:net'
import { HandshakeClosedError } from '../handshake/errors.ts'
import { ReceivedBytes } from '../stream/received-bytes.ts'
import { MAX_CHUNK_BYTES } from './chunks.ts'

/**
 * Input buffered before the handshake reads it. Past this the socket is paused, so TCP makes the
 * peer wait instead of our memory grow; an honest peer never gets near it (its connection message,
 * two chunks and perhaps the first messages it sends right after its Ack).
 */
const HIGH_WATER_BYTES = 4 * (2 + MAX_CHUNK_BYTES)

/**
 * Exact-length reads over a raw TCP socket for the handshake (Octez `P2p_buffer_reader.read_full`),
 * raced against the authentication deadline (`signal`). `detach()` hands over what was received
 * past the handshake, so the connection's reader starts from there.
 */
export class SocketReader {
  private readonly socket: Socket
  /** Bytes received and not yet read; ended when the peer closes or the socket fails. */
  private readonly incoming: ReceivedBytes
  private paused = false

  constructor (socket: Socket, signal: AbortSignal) {
    this.socket = socket
    this.incoming = new ReceivedBytes(signal)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('close', this.onClose)
    socket.on('error', this.onError)
  }

  async readExact (n: number): Promise<Uint8Array> {
    for (;;) {
      if (this.incoming.byteLength >= n) return this.incoming.take(n)
      this.incoming.check()
      if (this.paused) {
        this.paused = false
        this.socket.resume()
      }
      await this.incoming.changed()
    }
  }

  /**
   * Stops listening and returns the bytes received but not read, in one buffer. The socket is left
   * paused, so nothing flows to nobody before its next owner listens and resumes it.
   */
  detach (): Uint8Array {
    this.socket.pause()
    this.socket.off('data', this.onData)
    this.socket.off('end', this.onEnd)
    this.socket.off('close', this.onClose)
    this.socket.off('error', this.onError)
    this.incoming.detach()
    return this.incoming.take(this.incoming.byteLength)
  }

  /** True once the peer closed its end or the socket failed (after the bytes it sent). */
  get peerEnded (): boolean {
    return this.incoming.isEnded
  }

  private readonly onData = (data: Buffer): void => {
    this.incoming.append(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    if (this.incoming.byteLength > HIGH_WATER_BYTES && !this.paused) {
      this.paused = true
      this.socket.pause()
    }
  }

  private readonly onEnd = (): void => {
    this.incoming.end(() => new HandshakeClosedError('the peer closed the connection'))
  }

  private readonly onClose = (): void => {
    this.incoming.end(() => new HandshakeClosedError('the socket closed'))
  }

  private readonly onError = (err: Error): void => {
    this.incoming.end(() => new HandshakeClosedError(err.message, { cause: err }))
  }
}
