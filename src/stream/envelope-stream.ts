import { Uint8ArrayList } from 'uint8arraylist'
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
  /** Bytes received and not yet read. */
  private readonly incoming = new Uint8ArrayList()
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
      this.incoming.append(evt.data)
      if (this.incoming.byteLength > this.highWater && !this.paused) {
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

  private async readEnvelope (options: AbortOptions, marks: boolean, maxBody: number): Promise<ReadMessage | typeof END_OF_BATCH | undefined> {
    if (!await this.waitFor(1, options)) return undefined
    if (!await this.waitFor(P2P_MESSAGE_LENGTH_BYTES, options)) throw this.truncated()
    const prefix = this.take(P2P_MESSAGE_LENGTH_BYTES)
    const length = ((prefix[0] << 24) >>> 0) + (prefix[1] << 16) + (prefix[2] << 8) + prefix[3]
    if (length > maxBody) {
      throw new MessageTooLargeError(this.protocol, length + P2P_MESSAGE_LENGTH_BYTES, maxBody + P2P_MESSAGE_LENGTH_BYTES)
    }
    if (length === 0 && marks) return END_OF_BATCH
    if (length < P2P_MESSAGE_TAG_BYTES) throw new DecodeError('p2p_message.length', 0, `length ${length} leaves no room for the 2-byte tag`)
    if (!await this.waitFor(length, options)) throw this.truncated()
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
    if (this.incoming.byteLength >= n) return true
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

  /** The next `n` bytes received (one copy only when they span several chunks). */
  private take (n: number): Uint8Array {
    const out = this.incoming.subarray(0, n)
    this.incoming.consume(n)
    if (this.paused && this.incoming.byteLength <= this.highWater) {
      this.paused = false
      this.stream.resume()
    }
    return out
  }
}
