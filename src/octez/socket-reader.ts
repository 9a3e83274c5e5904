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
  private incoming: Uint8Array[] = []
  private buffered = 0
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
      if (this.buffered >= n) return this.take(n)
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
    const rest = this.buffered === 0 ? new Uint8Array(0) : this.take(this.buffered)
    return rest
  }

  /** True once the peer closed its end or the socket failed (after the bytes it sent). */
  get peerEnded (): boolean {
    return this.ended !== undefined
  }

  private take (n: number): Uint8Array {
    const first = this.incoming[0]
    let out: Uint8Array
    if (first.length >= n) {
      out = first.subarray(0, n)
      if (first.length === n) this.incoming.shift()
      else this.incoming[0] = first.subarray(n)
    } else {
      out = new Uint8Array(n)
      let at = 0
      while (at < n) {
        const chunk = this.incoming[0]
        const used = Math.min(chunk.length, n - at)
        out.set(chunk.subarray(0, used), at)
        at += used
        if (used === chunk.length) this.incoming.shift()
        else this.incoming[0] = chunk.subarray(used)
      }
    }
    this.buffered -= n
    return out
  }

  private readonly onData = (data: Buffer): void => {
    this.incoming.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    this.buffered += data.length
    if (this.buffered > HIGH_WATER_BYTES && !this.paused) {
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
