import { Uint8ArrayList } from 'uint8arraylist'
import { abortReason, ReceivedBytes } from '../stream/received-bytes.ts'
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { DecipherError, incrementNonce, openWithKey, sealWithKey, BOX_TAG_BYTES } from '../crypto/index.ts'
import { CONNECTION_FRAME_HEADER_BYTES } from '../wire/connection-message.ts'
import { HandshakeClosedError, HandshakeDecipherError, HandshakeError, MalformedHandshakeError } from './errors.ts'

/** Every frame and chunk length is a 2-byte big-endian integer. */
export const LENGTH_PREFIX_BYTES = 2
/** Octez `bufsize`: the largest chunk (tag + ciphertext) a 2-byte length can announce. */
export const MAX_CHUNK_BYTES = 0xffff
/** Octez `max_content_length`: the largest plaintext a writer puts in one chunk. */
export const MAX_CHUNK_PLAINTEXT_BYTES = MAX_CHUNK_BYTES - LENGTH_PREFIX_BYTES - BOX_TAG_BYTES

/**
 * Smallest connection-message body: port 2 + key 32 + stamp 24 + nonce 24 + chain-name length 4 +
 * ddb 2 + p2p 2, with an empty chain name.
 */
export const MIN_CONNECTION_MESSAGE_BYTES = 90
/**
 * tzp2p's bound on a connection-message body. Octez accepts any 2-byte length and only fails after
 * reading it; the only variable field is the chain name, which must equal ours anyway, so a longer
 * body can never lead to an Ack. Refusing it at the length saves reading up to 64 KiB from a peer
 * that is about to be greylisted.
 */
export const MAX_CONNECTION_MESSAGE_BYTES = 1024

/**
 * Enough buffered input for everything an honest peer may send before we read it (its connection
 * message and two chunks); more is a flood and ends the handshake.
 */
const READ_BUFFER_LIMIT = 3 * (LENGTH_PREFIX_BYTES + MAX_CHUNK_BYTES)

function bigEndian16 (b: Uint8Array): number {
  return (b[0] << 8) | b[1]
}

/**
 * The handshake's view of its libp2p stream: whole frames in, whole frames out, each read bounded
 * before anything is buffered and raced against the authentication deadline (`signal`).
 *
 * Writes are corked: they are queued and sent together when a read has to wait for the peer (the
 * peer can only answer what it has received) or on `flush()`. Each side's steps are "write, then
 * read", so when the peer's data is already here the next frame goes out with the previous one —
 * connection message and metadata from the dialer, metadata and Ack from the listener — saving a
 * trip through the muxer and Noise for each.
 */
export class HandshakeTransport {
  private readonly stream: Stream
  private readonly signal: AbortSignal
  /**
   * Bytes received and not yet read; ended once no more input will come (closed, reset, remote end
   * closed). A peer's FIN right after its last frame is the normal case, so ending is no error until
   * a read needs more.
   */
  private readonly incoming: ReceivedBytes
  /** Bytes written and not yet flushed. */
  private readonly outgoing = new Uint8ArrayList()

  constructor (stream: Stream, signal: AbortSignal) {
    this.stream = stream
    this.signal = signal
    this.incoming = new ReceivedBytes(signal)
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('close', this.onClose)
    stream.addEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
  }

  /** Queues bytes; they leave with the next flush. */
  write (data: Uint8Array): void {
    this.outgoing.append(data)
  }

  /** Sends everything queued, as one message on the stream. */
  async flush (): Promise<void> {
    if (this.outgoing.byteLength === 0) return
    const data = this.outgoing.subarray()
    this.outgoing.consume(data.length)
    try {
      if (!this.stream.send(data)) await this.stream.onDrain({ signal: this.signal })
    } catch (err) {
      throw this.translate(err, 'writing')
    }
  }

  /** Stops listening to the stream (the handshake is over; the stream is closed or left to its owner). */
  detach (): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('close', this.onClose)
    this.stream.removeEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
    this.incoming.detach()
  }

  /** Reads the remote connection message; returns the whole frame (length prefix included). */
  async readConnectionFrame (): Promise<Uint8Array> {
    const header = await this.readExact(LENGTH_PREFIX_BYTES)
    const length = bigEndian16(header)
    if (length < MIN_CONNECTION_MESSAGE_BYTES || length > MAX_CONNECTION_MESSAGE_BYTES) {
      throw new MalformedHandshakeError(
        `connection message announces ${length} bytes, outside [${MIN_CONNECTION_MESSAGE_BYTES}, ${MAX_CONNECTION_MESSAGE_BYTES}]`)
    }
    const body = await this.readExact(length)
    const frame = new Uint8Array(CONNECTION_FRAME_HEADER_BYTES + length)
    frame.set(header, 0)
    frame.set(body, CONNECTION_FRAME_HEADER_BYTES)
    return frame
  }

  /**
   * Reads one encrypted chunk and returns tag ‖ ciphertext. `maxPlaintext` is what this chunk may
   * carry (2 bytes of metadata, a bounded Ack/Nack); a longer announced length could never decode,
   * so it is refused before the bytes are read.
   */
  async readChunk (what: string, maxPlaintext: number): Promise<Uint8Array> {
    const header = await this.readExact(LENGTH_PREFIX_BYTES)
    const length = bigEndian16(header)
    if (length < BOX_TAG_BYTES) {
      throw new MalformedHandshakeError(`${what} announces ${length} bytes, less than its ${BOX_TAG_BYTES}-byte tag`)
    }
    if (length - BOX_TAG_BYTES > maxPlaintext) {
      throw new MalformedHandshakeError(`${what} announces ${length - BOX_TAG_BYTES} plaintext bytes, at most ${maxPlaintext} fit`)
    }
    return await this.readExact(length)
  }

  private async readExact (n: number): Promise<Uint8Array> {
    let handedOver = false
    for (;;) {
      if (this.incoming.byteLength > READ_BUFFER_LIMIT) {
        throw new MalformedHandshakeError(`flooded the handshake stream with more than ${READ_BUFFER_LIMIT} unread bytes`)
      }
      if (this.incoming.byteLength >= n) return this.incoming.take(n)
      this.incoming.check()
      if (this.outgoing.byteLength > 0 && !handedOver) {
        // A libp2p stream hands data it already holds to a new 'message' listener in a microtask,
        // not at once: the dialer's stream holds the listener's connection message as
        // multistream-select returns it. One microtask later it is ours, and the frames we are
        // holding can go out with the next one instead of alone.
        handedOver = true
        await Promise.resolve()
        continue
      }
      if (this.outgoing.byteLength > 0) {
        // A peer that already hung up may still have left its last frame (a Nack) for us to read:
        // a failed write is reported only if nothing more arrives.
        await this.flush().catch((err: Error) => { this.incoming.end(() => err) })
        continue
      }
      await this.incoming.changed()
    }
  }

  private readonly onMessage = (evt: Event): void => {
    this.incoming.append((evt as StreamMessageEvent).data)
  }

  private readonly onClose = (evt: Event): void => {
    const error = (evt as StreamCloseEvent).error
    this.incoming.end(() => new HandshakeClosedError(error?.message ?? 'the stream closed', { cause: error }))
  }

  private readonly onRemoteCloseWrite = (): void => {
    this.incoming.end(() => new HandshakeClosedError('the peer closed its end of the stream'))
  }

  /** A deadline abort surfaces as the deadline's own reason; anything else means the peer went away. */
  private translate (err: unknown, doing: string): Error {
    if (this.signal.aborted) return abortReason(this.signal)
    if (err instanceof HandshakeError) return err
    return new HandshakeClosedError(`${doing}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/**
 * The encrypted half of the handshake: one precomputed channel key and two 192-bit counters, one
 * per direction, each incremented after every chunk (Octez `write_chunk` / `read_chunk`).
 */
export class ChunkCipher {
  private readonly key: Uint8Array
  private localNonce: Uint8Array
  private remoteNonce: Uint8Array

  constructor (key: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array) {
    this.key = key
    this.localNonce = localNonce
    this.remoteNonce = remoteNonce
  }

  /** Seals one chunk and returns it framed: 2-byte length ‖ tag ‖ ciphertext. */
  seal (plaintext: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_CHUNK_PLAINTEXT_BYTES) {
      throw new RangeError(`chunk plaintext of ${plaintext.length} bytes exceeds ${MAX_CHUNK_PLAINTEXT_BYTES}`)
    }
    const boxed = sealWithKey(this.key, this.localNonce, plaintext)
    this.localNonce = incrementNonce(this.localNonce)
    const out = new Uint8Array(LENGTH_PREFIX_BYTES + boxed.length)
    out[0] = boxed.length >> 8
    out[1] = boxed.length & 0xff
    out.set(boxed, LENGTH_PREFIX_BYTES)
    return out
  }

  /** Opens tag ‖ ciphertext with the next remote nonce. */
  open (boxed: Uint8Array, what: string): Uint8Array {
    try {
      const plaintext = openWithKey(this.key, this.remoteNonce, boxed)
      this.remoteNonce = incrementNonce(this.remoteNonce)
      return plaintext
    } catch (err) {
      if (err instanceof DecipherError) throw new HandshakeDecipherError(what)
      throw err
    }
  }
}
