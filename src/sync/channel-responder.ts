import type { Stream } from '@libp2p/interface'
import { Deadline } from '../stream/deadline.ts'
import { END_OF_BATCH, END_OF_BATCH_BYTES, EnvelopeStream, TruncatedMessageError, UnexpectedMessageError } from '../stream/envelope-stream.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import type { SyncRequest } from './answers.ts'
import {
  isSyncRequest, SYNC_CHANNEL_ANSWERING, SYNC_CHANNEL_PROTOCOL, SYNC_MAX_REQUEST_BYTES, SYNC_REQUEST_READ_TIMEOUT_MS,
  SYNC_REQUESTS
} from './definitions.ts'

/** Answer envelopes are gathered into writes of about this size. */
export const ANSWER_WRITE_BYTES = 64 * 1024
/** Writing one batch's answers (or a stream's) may wait this long for the peer to take them. */
export const ANSWER_WRITE_TIMEOUT_MS = 30_000

/** A peer sent a well-formed request out of place (mixed kinds, too many on a stream or batch, an empty batch). */
export class BadSyncRequestError extends Error {
  override readonly name = 'BadSyncRequestError'
  readonly misbehaviour = 'invalid-message'
}

/**
 * Adds `m` to the request messages of one stream or batch (`protocols/sync.md` §2): a sync
 * request, of the kind of those before it, within that kind's bound.
 */
export function acceptRequest (protocol: string, requests: SyncRequest[], m: P2pMessage): void {
  if (!isSyncRequest(m.tag)) throw new UnexpectedMessageError(protocol, m.tag, 'not a sync request')
  if (requests.length > 0 && m.tag !== requests[0].tag) throw new BadSyncRequestError(`a ${m.tag} after a ${requests[0].tag} in one batch`)
  if (requests.length >= SYNC_REQUESTS[m.tag].maxRequestMessages) throw new BadSyncRequestError(`more than ${SYNC_REQUESTS[m.tag].maxRequestMessages} ${m.tag} in one batch`)
  requests.push(m as SyncRequest)
}

/**
 * Writes answer envelopes in as few writes as fit in `ANSWER_WRITE_BYTES` (each write is a muxer
 * frame and an encrypted message), `trailer` appended to the last, within `ANSWER_WRITE_TIMEOUT_MS`.
 */
export async function writeAnswers (out: EnvelopeStream, answers: readonly Uint8Array[], trailer?: Uint8Array): Promise<void> {
  const deadline = new Deadline(ANSWER_WRITE_TIMEOUT_MS)
  const signal = deadline.signal
  try {
    let pending: Uint8Array[] = []
    let size = 0
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return
      await out.write(pending.length === 1 ? pending[0] : Buffer.concat(pending, size), { signal })
      pending = []
      size = 0
    }
    for (const bytes of answers) {
      if (size + bytes.length > ANSWER_WRITE_BYTES) await flush()
      pending.push(bytes)
      size += bytes.length
    }
    if (trailer !== undefined) { pending.push(trailer); size += trailer.length }
    await flush()
  } finally {
    deadline.clear()
  }
}

export interface ChannelResponderDeps {
  /** The answer envelopes of one batch (throttled per peer; keys we lack are not answered). */
  answer: (requests: SyncRequest[]) => Promise<Uint8Array[]>
  /** The peer sent something that is its fault (the error carries a `misbehaviour`). */
  onBadRequest: (error: Error) => void
  /** Answering or writing a batch failed (the channel is reset). */
  onAnswerFailed: (error: Error) => void
}

/**
 * The responding side of a sync channel (`protocols/sync.md` §2.1). Batches are read in order and
 * answered in that order, each answer ended by `END_OF_BATCH`. Up to `SYNC_CHANNEL_ANSWERING`
 * batches are answered at once (their store reads overlap); no further batch is read until the
 * oldest is written, so a peer that pipelines more waits on the muxer's flow control, and a peer
 * that does not read its answers has the channel reset after `ANSWER_WRITE_TIMEOUT_MS`. Once a
 * batch has begun, the rest of it must come within `SYNC_REQUEST_READ_TIMEOUT_MS`; between
 * batches the channel may stay idle. Resolves when the channel is over.
 */
export async function serveChannel (stream: Stream, deps: ChannelResponderDeps): Promise<void> {
  const reader = new EnvelopeStream(stream, SYNC_CHANNEL_PROTOCOL, SYNC_MAX_REQUEST_BYTES)
  let broken = false
  const fail = (err: Error): void => {
    if (broken) return
    broken = true
    stream.abort(err)
  }
  // Each batch's answers are written after the batch before it: `written` is that chain, and
  // `answering` holds the batches not yet written, oldest first.
  let written: Promise<void> = Promise.resolve()
  const answering: Array<Promise<void>> = []
  const answerInOrder = (requests: SyncRequest[]): void => {
    const answers = deps.answer(requests)
    answers.catch(() => {})
    written = written.then(async () => {
      if (broken) return
      try {
        await writeAnswers(reader, await answers, END_OF_BATCH_BYTES)
      } catch (err) {
        deps.onAnswerFailed(err as Error)
        fail(err as Error)
      }
    })
    answering.push(written)
  }
  try {
    for (;;) {
      while (answering.length >= SYNC_CHANNEL_ANSWERING) await answering.shift()
      if (broken) return
      const batch = await readBatch(reader)
      if (batch === undefined) break
      answerInOrder(batch)
    }
    await written
    if (!broken) await stream.close().catch(() => {})
  } catch (err) {
    if (!broken) deps.onBadRequest(err as Error)
    fail(err as Error)
  }
}

/** One batch's request messages, up to its `END_OF_BATCH`; `undefined` when the peer closed between batches. */
async function readBatch (reader: EnvelopeStream): Promise<SyncRequest[] | undefined> {
  const requests: SyncRequest[] = []
  let deadline: Deadline | undefined
  try {
    for (;;) {
      const frame = reader.bufferedFrame() ?? await reader.readFrame(deadline === undefined ? {} : { signal: deadline.signal })
      if (frame === undefined) {
        if (requests.length === 0) return undefined
        throw new TruncatedMessageError(`${SYNC_CHANNEL_PROTOCOL}: the channel ended inside a batch`)
      }
      if (frame === END_OF_BATCH) {
        if (requests.length === 0) throw new BadSyncRequestError('an empty batch')
        return requests
      }
      acceptRequest(SYNC_CHANNEL_PROTOCOL, requests, frame.message)
      deadline ??= new Deadline(SYNC_REQUEST_READ_TIMEOUT_MS)
    }
  } finally {
    deadline?.clear()
  }
}
