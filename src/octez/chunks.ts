import { BOX_TAG_BYTES } from '../crypto/index.ts'
import { ChunkCipher, LENGTH_PREFIX_BYTES, MAX_CHUNK_BYTES, MAX_CHUNK_PLAINTEXT_BYTES } from '../handshake/channel.ts'
import { HandshakeDecipherError } from '../handshake/errors.ts'
import { ChunkDecipherError, ShortChunkError } from './errors.ts'

/**
 * The chunk layer of Octez's socket (`src/lib_p2p/p2p_socket.ml`, module `Crypto`): after the
 * connection messages, every byte travels in chunks `length (uint16 BE) ‖ tag (16) ‖ ciphertext`,
 * `length` counting tag and ciphertext, each sealed with the next nonce of its direction.
 *
 * `bufsize` = 65535 (the largest 2-byte length), `extrabytes` = 2 + 16, and a writer puts at most
 * `max_content_length` = 65535 - 18 = 65517 plaintext bytes in a chunk. A reader accepts any length
 * from 16 (an empty plaintext) to 65535.
 */
export { LENGTH_PREFIX_BYTES, MAX_CHUNK_BYTES, MAX_CHUNK_PLAINTEXT_BYTES }

/** Header and tag added to every chunk (Octez `Crypto.extrabytes`). */
export const CHUNK_EXTRA_BYTES = LENGTH_PREFIX_BYTES + BOX_TAG_BYTES

/**
 * Octez `binary_chunks_size` (the `--binary-chunks-size` option, here in bytes): the size of a whole
 * chunk a writer produces, header and tag included. Returns the plaintext it carries, checked as
 * Octez's `check_binary_chunks_size` does: from 19 to 65535 bytes.
 */
export function chunkPlaintextSize (binaryChunksSize: number = MAX_CHUNK_BYTES): number {
  const value = binaryChunksSize - CHUNK_EXTRA_BYTES
  if (!Number.isInteger(binaryChunksSize) || value <= 0 || value > MAX_CHUNK_PLAINTEXT_BYTES) {
    throw new RangeError(`binary chunks size must be an integer from ${CHUNK_EXTRA_BYTES + 1} to ${MAX_CHUNK_BYTES}, got ${binaryChunksSize}`)
  }
  return value
}

/**
 * Octez `Utils.cut`: a message's bytes in pieces of `size` bytes, the last one shorter. Each piece
 * becomes one chunk; a message never shares a chunk with the next (`Writer.encode_message`).
 */
export function cutMessage (bytes: Uint8Array, size: number): Uint8Array[] {
  if (bytes.length <= size) return [bytes]
  const parts: Uint8Array[] = []
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, Math.min(bytes.length, at + size)))
  return parts
}

/**
 * Turns the received byte stream into chunk plaintexts (Octez `Crypto.read_chunk`), whatever way
 * TCP splits it. It keeps at most one incomplete chunk (≤ 65537 bytes) between pushes. Fails with
 * `ShortChunkError` or `ChunkDecipherError`; after a failure it must not be used again.
 */
export class ChunkDecoder {
  private readonly cipher: ChunkCipher
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private opened = 0

  constructor (cipher: ChunkCipher) {
    this.cipher = cipher
  }

  /** Bytes received but not yet part of a whole chunk. */
  get buffered (): number {
    return this.pendingBytes
  }

  /** Feeds received bytes; returns the plaintext of every chunk they complete, in order. */
  push (data: Uint8Array): Uint8Array[] {
    if (data.length === 0) return []
    let input = data
    if (this.pendingBytes > 0) {
      input = new Uint8Array(this.pendingBytes + data.length)
      let at = 0
      for (const p of this.pending) { input.set(p, at); at += p.length }
      input.set(data, at)
      this.pending = []
      this.pendingBytes = 0
    }
    const out: Uint8Array[] = []
    let at = 0
    while (input.length - at >= LENGTH_PREFIX_BYTES) {
      const length = (input[at] << 8) | input[at + 1]
      if (length < BOX_TAG_BYTES) throw new ShortChunkError(length)
      if (input.length - at - LENGTH_PREFIX_BYTES < length) break
      const boxed = input.subarray(at + LENGTH_PREFIX_BYTES, at + LENGTH_PREFIX_BYTES + length)
      out.push(this.open(boxed))
      at += LENGTH_PREFIX_BYTES + length
    }
    if (at < input.length) {
      // Copy the tail: the caller's buffer may be reused, and a subarray would pin all of it.
      const tail = input.slice(at)
      this.pending.push(tail)
      this.pendingBytes = tail.length
    }
    return out
  }

  private open (boxed: Uint8Array): Uint8Array {
    try {
      const plaintext = this.cipher.open(boxed, 'chunk')
      this.opened++
      return plaintext
    } catch (err) {
      if (err instanceof HandshakeDecipherError) throw new ChunkDecipherError(this.opened)
      throw err
    }
  }
}
