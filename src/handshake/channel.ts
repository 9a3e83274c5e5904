import { byteStream, type ByteStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { DecipherError, incrementNonce, openWithKey, sealWithKey, BOX_TAG_BYTES } from '../crypto/index.ts'
import { CONNECTION_FRAME_HEADER_BYTES } from '../wire/connection-message.ts'
import { HandshakeClosedError, HandshakeDecipherError, MalformedHandshakeError } from './errors.ts'

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
 * message and two chunks); more is a flood and aborts the stream.
 */
const READ_BUFFER_LIMIT = 3 * (LENGTH_PREFIX_BYTES + MAX_CHUNK_BYTES)

function bigEndian16 (b: Uint8Array): number {
  return (b[0] << 8) | b[1]
}

/**
 * The handshake's view of its libp2p stream: whole frames in, whole frames out, each read bounded
 * before anything is buffered and raced against the authentication deadline (`signal`).
 */
export class HandshakeTransport {
  private readonly stream: Stream
  private readonly bytes: ByteStream<Stream>
  private readonly signal: AbortSignal

  constructor (stream: Stream, signal: AbortSignal) {
    this.stream = stream
    this.signal = signal
    this.bytes = byteStream(stream, { maxBufferSize: READ_BUFFER_LIMIT })
  }

  async write (data: Uint8Array): Promise<void> {
    try {
      await this.bytes.write(data, { signal: this.signal })
    } catch (err) {
      throw this.translate(err, 'writing')
    }
  }

  /** Reads the remote connection message; returns the whole frame (length prefix included). */
  async readConnectionFrame (): Promise<Uint8Array> {
    const header = await this.readExact(LENGTH_PREFIX_BYTES, 'connection message length')
    const length = bigEndian16(header)
    if (length < MIN_CONNECTION_MESSAGE_BYTES || length > MAX_CONNECTION_MESSAGE_BYTES) {
      throw new MalformedHandshakeError(
        `connection message announces ${length} bytes, outside [${MIN_CONNECTION_MESSAGE_BYTES}, ${MAX_CONNECTION_MESSAGE_BYTES}]`)
    }
    const body = await this.readExact(length, 'connection message')
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
    const header = await this.readExact(LENGTH_PREFIX_BYTES, `${what} length`)
    const length = bigEndian16(header)
    if (length < BOX_TAG_BYTES) {
      throw new MalformedHandshakeError(`${what} announces ${length} bytes, less than its ${BOX_TAG_BYTES}-byte tag`)
    }
    if (length - BOX_TAG_BYTES > maxPlaintext) {
      throw new MalformedHandshakeError(`${what} announces ${length - BOX_TAG_BYTES} plaintext bytes, at most ${maxPlaintext} fit`)
    }
    return await this.readExact(length, what)
  }

  private async readExact (n: number, what: string): Promise<Uint8Array> {
    try {
      const list = await this.bytes.read({ bytes: n, signal: this.signal })
      return list.subarray()
    } catch (err) {
      throw this.translate(err, `reading the ${what}`)
    }
  }

  /** A deadline abort surfaces as the deadline's own reason; anything else means the peer went away. */
  private translate (err: unknown, doing: string): Error {
    if (this.signal.aborted) return this.signal.reason instanceof Error ? this.signal.reason : new Error(String(this.signal.reason))
    if (err instanceof Error && err.name === 'StreamBufferError') {
      return new MalformedHandshakeError(`flooded the handshake stream while we were ${doing}`, { cause: err })
    }
    return new HandshakeClosedError(`${doing}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }

  get status (): string {
    return this.stream.status
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
