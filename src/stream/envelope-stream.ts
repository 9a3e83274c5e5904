import type { AbortOptions, Stream } from '@libp2p/interface'
import { DecodeError, Reader } from '../encoding/index.ts'
import { Deadline } from './deadline.ts'
import { p2pMessageBodyCodec, P2P_MESSAGE_LENGTH_BYTES, P2P_MESSAGE_TAG_BYTES, type P2pMessage } from '../wire/p2p-message.ts'

/**
 * Octez P2P envelopes (4-byte big-endian length ‖ 2-byte tag ‖ payload) over a libp2p stream.
 *
 * Every read is bounded by the protocol's own limit before anything is buffered: the announced
 * length is checked first, so a peer announcing a huge message costs us 4 bytes, not the message.
 * Octez bounds an envelope to 100 MiB; tzp2p's protocols use tighter limits (see
 * `protocols/gossip.md` and `protocols/sync.md`).
 */

/** The peer announced a message longer than the protocol allows. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError'
  /** Octez's check_size failures are decoding errors: an oversized message is a malformed one. */
  readonly misbehaviour = 'malformed-message'
  readonly length: number
  readonly limit: number
  constructor (protocol: string, length: number, limit: number) {
    super(`${protocol}: a message of ${length} bytes exceeds the limit of ${limit}`)
    this.length = length
    this.limit = limit
  }
}

/** A message that decodes but may not be sent on this protocol (a request on a reply stream, …). */
export class UnexpectedMessageError extends Error {
  override readonly name = 'UnexpectedMessageError'
  readonly misbehaviour = 'invalid-message'
  readonly tag: string
  constructor (protocol: string, tag: string, why = 'not allowed here') {
    super(`${protocol}: ${tag} is ${why}`)
    this.tag = tag
  }
}

/** The stream ended in the middle of a message (the peer went away or cut its answer short). */
export class TruncatedMessageError extends Error {
  override readonly name = 'TruncatedMessageError'
}

const bodyCodec = p2pMessageBodyCodec()

/** Decodes an envelope body (tag ‖ payload) that must be used exactly. */
export function decodeEnvelopeBody (body: Uint8Array): P2pMessage {
  const r = new Reader(body)
  const m = bodyCodec.decode(r)
  r.expectEnd(bodyCodec.name)
  return m
}

/** One whole envelope (length included) from a body already encoded as tag ‖ payload. */
export function envelopeOf (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(P2P_MESSAGE_LENGTH_BYTES + body.length)
  new DataView(out.buffer).setUint32(0, body.length)
  out.set(body, P2P_MESSAGE_LENGTH_BYTES)
  return out
}

/**
 * The end of a batch on a sync channel: an envelope whose length is 0 (four zero bytes). No
 * message has that length (every envelope holds at least its 2-byte tag), so the mark cannot be
 * mistaken for one (`protocols/sync.md` §2.1).
 */
export const END_OF_BATCH: unique symbol = Symbol('end of batch')
/** `END_OF_BATCH` on the wire. */
export const END_OF_BATCH_BYTES: Uint8Array = new Uint8Array(P2P_MESSAGE_LENGTH_BYTES)

/** `frameIfBuffered`: the frame is not all in yet. */
const NEED_MORE: unique symbol = Symbol('need more bytes')

export interface ReadMessage {
  message: P2pMessage
  /** Body size (tag ‖ payload), for accounting. */
  size: number
}

/**
 * Reads and writes envelopes on one stream. Incoming data is buffered only up to one message
 * beyond what is being read: past that the stream is paused, so the muxer's flow control makes
 * the peer wait instead of our memory grow.
 */
export class EnvelopeStream {
  readonly stream: Stream
  private readonly protocol: string
  private readonly maxBody: number
  private readonly highWater: number
  /** Chunks received and not yet read, oldest first; `head` bytes of the first are read already. */
  private chunks: Uint8Array[] = []
  private head = 0
  /** Bytes received and not yet read. */
  private buffered = 0
  private paused = false
  private ended: Error | 'eof' | undefined
  private wake: (() => void) | undefined

  /** `maxMessageBytes` bounds a whole envelope (length prefix included). */
  constructor (stream: Stream, protocol: string, maxMessageBytes: number) {
    this.stream = stream
    this.protocol = protocol
    this.maxBody = maxMessageBytes - P2P_MESSAGE_LENGTH_BYTES
    this.highWater = maxMessageBytes
    stream.addEventListener('message', evt => {
      if (evt.data instanceof Uint8Array) this.append(evt.data)
      else for (const chunk of evt.data) this.append(chunk)
      if (this.buffered > this.highWater && !this.paused) {
        this.paused = true
        stream.pause()
      }
      this.wake?.()
    })
    stream.addEventListener('remoteCloseWrite', () => { this.ended ??= 'eof'; this.wake?.() })
    stream.addEventListener('close', evt => {
      this.ended ??= evt.error ?? 'eof'
      this.wake?.()
    })
  }

  /**
   * The next message, or `undefined` when the peer closed its end cleanly between messages.
   * Throws `MessageTooLargeError`, `DecodeError`, `TruncatedMessageError`, the stream's error, or
   * the signal's reason.
   */
  read (options: AbortOptions = {}): Promise<ReadMessage | undefined> {
    // Without marks, readEnvelope never yields END_OF_BATCH. Not an async function of its own: a
    // reader waits on a gossip stream for the connection's life, and each async frame in the
    // chain it waits in stays in memory with it.
    return this.readEnvelope(options, false, this.maxBody) as Promise<ReadMessage | undefined>
  }

  /**
   * `read` on a stream that also carries `END_OF_BATCH` marks (an envelope of length 0, which no
   * message can have: `protocols/sync.md` §2.1). `maxMessageBytes` tightens the stream's bound
   * for this one read (the answers a sync channel expects next).
   */
  readFrame (options: AbortOptions & { maxMessageBytes?: number } = {}): Promise<ReadMessage | typeof END_OF_BATCH | undefined> {
    const maxBody = options.maxMessageBytes === undefined ? this.maxBody : Math.min(this.maxBody, options.maxMessageBytes - P2P_MESSAGE_LENGTH_BYTES)
    return this.readEnvelope(options, true, maxBody)
  }

  /**
   * The next frame when it is wholly buffered already (as `readFrame` returns it), or `undefined`
   * when more bytes are needed: a reader draining a batch's answers, which mostly arrive in one
   * socket read, takes them without a promise turn each. Throws as `readFrame` does on a length
   * over the bound or too short for a tag.
   */
  bufferedFrame (options: { maxMessageBytes?: number } = {}): ReadMessage | typeof END_OF_BATCH | undefined {
    const maxBody = options.maxMessageBytes === undefined ? this.maxBody : Math.min(this.maxBody, options.maxMessageBytes - P2P_MESSAGE_LENGTH_BYTES)
    const frame = this.frameIfBuffered(true, maxBody)
    return frame === NEED_MORE ? undefined : frame
  }

  private async readEnvelope (options: AbortOptions, marks: boolean, maxBody: number): Promise<ReadMessage | typeof END_OF_BATCH | undefined> {
    for (;;) {
      // The length is checked as soon as its 4 bytes are in, before the body is waited for.
      const frame = this.frameIfBuffered(marks, maxBody)
      if (frame !== NEED_MORE) return frame
      const need = this.buffered < P2P_MESSAGE_LENGTH_BYTES ? P2P_MESSAGE_LENGTH_BYTES : P2P_MESSAGE_LENGTH_BYTES + this.peekLength()
      if (!await this.waitFor(this.buffered === 0 ? 1 : need, options)) {
        if (this.buffered === 0) return undefined
        throw this.truncated()
      }
    }
  }

  /** The next frame if all of it is buffered, else `NEED_MORE` (nothing is taken then). */
  private frameIfBuffered (marks: boolean, maxBody: number): ReadMessage | typeof END_OF_BATCH | typeof NEED_MORE {
    if (this.buffered < P2P_MESSAGE_LENGTH_BYTES) return NEED_MORE
    const length = this.peekLength()
    if (length > maxBody) {
      throw new MessageTooLargeError(this.protocol, length + P2P_MESSAGE_LENGTH_BYTES, maxBody + P2P_MESSAGE_LENGTH_BYTES)
    }
    if (length === 0 && marks) { this.skip(P2P_MESSAGE_LENGTH_BYTES); return END_OF_BATCH }
    if (length < P2P_MESSAGE_TAG_BYTES) throw new DecodeError('p2p_message.length', 0, `length ${length} leaves no room for the 2-byte tag`)
    if (this.buffered < P2P_MESSAGE_LENGTH_BYTES + length) return NEED_MORE
    this.skip(P2P_MESSAGE_LENGTH_BYTES)
    return { message: decodeEnvelopeBody(this.take(length)), size: length }
  }

  /** Sends a whole envelope, waiting for the stream to drain when its buffer is full. */
  async write (envelope: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (!this.stream.send(envelope)) await this.stream.onDrain(options)
  }

  /**
   * `write`, giving up after `timeoutMs` if the stream does not drain: the timer exists only
   * while waiting. A timeout signal made for every write lives (timer, signal, listeners) until it
   * fires, whether the write needed it or not (see deadline.ts).
   */
  async writeWithin (envelope: Uint8Array, timeoutMs: number): Promise<void> {
    if (this.stream.send(envelope)) return
    const deadline = new Deadline(timeoutMs)
    try {
      await this.stream.onDrain({ signal: deadline.signal })
    } finally {
      deadline.clear()
    }
  }

  private truncated (): Error {
    return this.ended instanceof Error ? this.ended : new TruncatedMessageError(`${this.protocol}: the stream ended inside a message`)
  }

  /**
   * Waits until `n` bytes are buffered; false if the stream ended first (cleanly). `true` at once
   * when they already are. A chain of plain promises, not an async function: see `read`.
   */
  private waitFor (n: number, options: AbortOptions): boolean | Promise<boolean> {
    if (this.buffered >= n) return true
    const signal = options.signal
    if (signal?.aborted === true) throw signal.reason
    if (this.ended !== undefined) {
      if (this.ended instanceof Error) throw this.ended
      return false
    }
    if (this.paused) {
      this.paused = false
      this.stream.resume()
    }
    return new Promise<void>(resolve => {
      const onAbort = (): void => { resolve() }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.wake = () => { signal?.removeEventListener('abort', onAbort); resolve() }
    }).then(() => {
      this.wake = undefined
      return this.waitFor(n, options)
    })
  }

  private append (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
  }

  /** The big-endian length prefix at the front (4 bytes must be buffered), without taking it. */
  private peekLength (): number {
    const first = this.chunks[0]
    const at = this.head
    if (first.length - at >= P2P_MESSAGE_LENGTH_BYTES) {
      return ((first[at] << 24) >>> 0) + (first[at + 1] << 16) + (first[at + 2] << 8) + first[at + 3]
    }
    let n = 0
    let chunk = 0
    let offset = at
    for (let i = 0; i < P2P_MESSAGE_LENGTH_BYTES; i++) {
      while (offset >= this.chunks[chunk].length) { chunk++; offset = 0 }
      n = n * 256 + this.chunks[chunk][offset++]
    }
    return n
  }

  /** Drops the next `n` buffered bytes. */
  private skip (n: number): void {
    this.consume(n)
  }

  /** The next `n` bytes received: a view when they lie in one chunk, else one copy. */
  private take (n: number): Uint8Array {
    const first = this.chunks[0]
    let out: Uint8Array
    if (first.length - this.head >= n) {
      out = first.subarray(this.head, this.head + n)
    } else {
      out = new Uint8Array(n)
      let filled = 0
      let chunk = 0
      let offset = this.head
      while (filled < n) {
        const c = this.chunks[chunk]
        const part = Math.min(n - filled, c.length - offset)
        out.set(c.subarray(offset, offset + part), filled)
        filled += part
        chunk++
        offset = 0
      }
    }
    this.consume(n)
    return out
  }

  private consume (n: number): void {
    this.buffered -= n
    let head = this.head + n
    let drop = 0
    while (drop < this.chunks.length && head >= this.chunks[drop].length) {
      head -= this.chunks[drop].length
      drop++
    }
    if (drop > 0) this.chunks.splice(0, drop)
    this.head = head
    if (this.paused && this.buffered <= this.highWater) {
      this.paused = false
      this.stream.resume()
    }
  }
}
