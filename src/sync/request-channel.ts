import type { Stream } from '@libp2p/interface'
import { misbehaviourOf } from '../misbehaviour/index.ts'
import type { AnswerKind } from '../peer/index.ts'
import { END_OF_BATCH, END_OF_BATCH_BYTES, EnvelopeStream, UnexpectedMessageError } from '../stream/envelope-stream.ts'
import { Writer } from '../encoding/index.ts'
import { octezP2pMessageCodec, type P2pMessage } from '../wire/p2p-message.ts'
import { InvalidAnswerError } from './checks.ts'
import { SYNC_CHANNEL_IDLE_MS, SYNC_CHANNEL_MAX_BATCHES, SYNC_CHANNEL_PROTOCOL, SYNC_MAX_ANSWER_BYTES } from './definitions.ts'

/**
 * The requesting side of a sync channel (`protocols/sync.md` §2.1): one long-lived stream to a
 * peer on which batches of requests are pipelined. A batch is its request messages followed by
 * `END_OF_BATCH`; the responder answers batches in the order it read them, each answer ending with
 * `END_OF_BATCH` too, so the answers are matched to their batch by order and the requester knows
 * when the peer has said all it will about a batch, as the end of a sync stream tells it.
 *
 * In js-libp2p every new stream costs a multistream-select round trip, a peer-store update and
 * several muxer frames on both sides; on the channel a batch costs one write each way.
 */
export interface SyncRequestChannelInit {
  /** The peer's Tezos id, for the errors that blame it. */
  peer: string
  /** Opens a stream for `SYNC_CHANNEL_PROTOCOL` on the peer's connection. */
  open: (signal: AbortSignal) => Promise<Stream>
  /** An unused channel is closed after this long (default `SYNC_CHANNEL_IDLE_MS`). */
  idleMs?: number
}

interface Batch {
  requests: readonly P2pMessage[]
  kind: AnswerKind
  answers: P2pMessage[]
  result: PromiseWithResolvers<P2pMessage[]>
}

interface Open {
  stream: Stream
  reader: EnvelopeStream
  /** Batches written and not yet answered, oldest first (the order the peer answers them in). */
  batches: Batch[]
  /** Wakes the reader when a batch is written while none was pending. */
  wake: (() => void) | undefined
  idle: ReturnType<typeof setTimeout> | undefined
  ended: boolean
}

export class SyncRequestChannel {
  private readonly init: SyncRequestChannelInit
  private current: Open | undefined
  private opening: Promise<Open> | undefined
  /** Batches in flight, and the requests waiting for one of the `SYNC_CHANNEL_MAX_BATCHES` slots. */
  private inFlight = 0
  private readonly slotWaiters: Array<() => void> = []
  /** Streams opened (tests, metrics). */
  readonly stats = { opened: 0, batches: 0 }

  constructor (init: SyncRequestChannelInit) {
    this.init = init
  }

  /**
   * Sends `requests` (of one kind) as one batch and resolves with its answers, or with what arrived
   * before `signal` fired or the channel ended (the requester asks elsewhere for the rest). Rejects
   * with `InvalidAnswerError` when the peer answered wrongly.
   */
  async request (requests: readonly P2pMessage[], kind: AnswerKind, signal: AbortSignal): Promise<P2pMessage[]> {
    await this.slot(signal)
    try {
      let channel = await this.channel(signal)
      while (channel.ended) channel = await this.channel(signal)
      const batch: Batch = { requests, kind, answers: [], result: Promise.withResolvers() }
      // The batch's envelopes and its mark are encoded into one buffer: one allocation and copy
      // per batch, not one per request message.
      const w = new Writer(64 * requests.length + END_OF_BATCH_BYTES.length)
      for (const r of requests) octezP2pMessageCodec.encode(w, r)
      w.raw(END_OF_BATCH_BYTES)
      if (channel.idle !== undefined) { clearTimeout(channel.idle); channel.idle = undefined }
      // Written and queued together: the queue's order is the order the peer reads batches in.
      // Requests are small and bounded by the slots, so the stream's buffer is too.
      channel.stream.send(w.finish())
      channel.batches.push(batch)
      this.stats.batches++
      channel.wake?.()
      // A batch the peer does not finish in time holds back every batch behind it: the channel is
      // dropped, each pending batch keeping what it got (no blame, as a timed-out stream).
      const onAbort = (): void => { this.end(channel, signal.reason as Error) }
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        return await batch.result.promise
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    } finally {
      this.release()
    }
  }

  /** Drops the channel (the peer is gone or the node stops); pending batches return what they have. */
  close (): void {
    if (this.current !== undefined) this.end(this.current, new Error('sync channel closed'))
  }

  private async slot (signal: AbortSignal): Promise<void> {
    while (this.inFlight >= SYNC_CHANNEL_MAX_BATCHES) {
      if (signal.aborted) throw signal.reason
      await new Promise<void>(resolve => { this.slotWaiters.push(resolve) })
    }
    this.inFlight++
  }

  private release (): void {
    this.inFlight--
    this.slotWaiters.shift()?.()
  }

  private async channel (signal: AbortSignal): Promise<Open> {
    if (this.current !== undefined && !this.current.ended) return this.current
    this.opening ??= (async () => {
      try {
        const stream = await this.init.open(signal)
        this.stats.opened++
        const open: Open = {
          stream,
          reader: new EnvelopeStream(stream, SYNC_CHANNEL_PROTOCOL, SYNC_MAX_ANSWER_BYTES),
          batches: [],
          wake: undefined,
          idle: undefined,
          ended: false
        }
        this.current = open
        void this.readAnswers(open)
        return open
      } finally {
        this.opening = undefined
      }
    })()
    return await this.opening
  }

  /** Reads answers for the oldest pending batch until the stream ends. */
  private async readAnswers (channel: Open): Promise<void> {
    const peer = this.init.peer
    try {
      for (;;) {
        const batch = channel.batches[0]
        if (batch === undefined) {
          if (channel.ended) return
          // Nothing is read while no batch waits: every frame is read against its batch's bounds.
          await new Promise<void>(resolve => { channel.wake = resolve })
          channel.wake = undefined
          continue
        }
        const bound = { maxMessageBytes: batch.kind.maxAnswerBytes }
        const frame = channel.reader.bufferedFrame(bound) ?? await channel.reader.readFrame(bound)
        if (frame === undefined) { this.end(channel, undefined); return }
        if (frame === END_OF_BATCH) {
          channel.batches.shift()
          batch.result.resolve(batch.answers)
          if (channel.batches.length === 0) this.armIdle(channel)
          continue
        }
        const tag = batch.requests[0].tag
        if (frame.message.tag !== batch.kind.answer) throw new InvalidAnswerError(peer, new UnexpectedMessageError(SYNC_CHANNEL_PROTOCOL, frame.message.tag, `not an answer to ${tag}`).message)
        if (batch.answers.length >= batch.kind.maxAnswers * batch.requests.length) throw new InvalidAnswerError(peer, `more answers than keys to ${tag}`, 'unrequested-data')
        batch.answers.push(frame.message)
      }
    } catch (err) {
      if (channel.ended) return
      // An answer that does not decode, is oversized or out of place is the answering peer's fault.
      const fault = err instanceof InvalidAnswerError ? err : misbehaviourOf(err) === undefined ? undefined : new InvalidAnswerError(peer, (err as Error).message, misbehaviourOf(err))
      if (fault !== undefined) channel.batches[0]?.result.reject(fault)
      this.end(channel, err as Error)
    }
  }

  private armIdle (channel: Open): void {
    channel.idle = setTimeout(() => {
      if (channel.batches.length > 0 || channel.ended) return
      channel.ended = true
      if (this.current === channel) this.current = undefined
      channel.wake?.()
      // Our end of the stream: the peer answers what it read and closes its own.
      channel.stream.close().catch(() => {})
    }, this.init.idleMs ?? SYNC_CHANNEL_IDLE_MS)
    channel.idle.unref()
  }

  /**
   * The channel is over (its stream ended, failed, or a batch's deadline passed): every pending
   * batch resolves with the answers it got; the next request opens a new channel.
   */
  private end (channel: Open, error: Error | undefined): void {
    const first = !channel.ended
    channel.ended = true
    if (this.current === channel) this.current = undefined
    if (channel.idle !== undefined) clearTimeout(channel.idle)
    for (const b of channel.batches.splice(0)) b.result.resolve(b.answers)
    channel.wake?.()
    if (first && error !== undefined) channel.stream.abort(error)
  }
}
