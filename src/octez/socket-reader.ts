import { Uint8ArrayList } from 'uint8arraylist'
import type { Socket } from 'node:net'
import { HandshakeClosedError } from '../handshake/errors.ts'
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
  private readonly signal: AbortSignal
  /** Bytes received and not yet read. */
  private readonly incoming = new Uint8ArrayList()
  private paused = false
  private ended: (() => Error) | undefined
  private wake: (() => void) | undefined

  constructor (socket: Socket, signal: AbortSignal) {
    this.socket = socket
    this.signal = signal
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('close', this.onClose)
    socket.on('error', this.onError)
    signal.addEventListener('abort', this.onAbort)
  }

  async readExact (n: number): Promise<Uint8Array> {
    for (;;) {
      if (this.incoming.byteLength >= n) return this.take(n)
      if (this.signal.aborted) throw this.deadlineError()
      if (this.ended !== undefined) throw this.ended()
      if (this.paused) {
        this.paused = false
        this.socket.resume()
      }
      await new Promise<void>(resolve => { this.wake = resolve })
      this.wake = undefined
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
    this.signal.removeEventListener('abort', this.onAbort)
    const rest = this.incoming.byteLength === 0 ? new Uint8Array(0) : this.take(this.incoming.byteLength)
    return rest
  }

  /** True once the peer closed its end or the socket failed (after the bytes it sent). */
  get peerEnded (): boolean {
    return this.ended !== undefined
  }

  /** The next `n` bytes received (one copy only when they span several chunks). */
  private take (n: number): Uint8Array {
    const out = this.incoming.subarray(0, n)
    this.incoming.consume(n)
    return out
  }

  private readonly onData = (data: Buffer): void => {
    this.incoming.append(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    if (this.incoming.byteLength > HIGH_WATER_BYTES && !this.paused) {
      this.paused = true
      this.socket.pause()
    }
    this.wake?.()
  }

  private readonly onEnd = (): void => {
    this.ended ??= () => new HandshakeClosedError('the peer closed the connection')
    this.wake?.()
  }

  private readonly onClose = (): void => {
    this.ended ??= () => new HandshakeClosedError('the socket closed')
    this.wake?.()
  }

  private readonly onError = (err: Error): void => {
    this.ended ??= () => new HandshakeClosedError(err.message, { cause: err })
    this.wake?.()
  }

  private readonly onAbort = (): void => {
    this.wake?.()
  }

  private deadlineError (): Error {
    const reason: unknown = this.signal.reason
    return reason instanceof Error ? reason : new Error(String(reason))
  }
}
