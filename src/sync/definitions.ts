import type { RateSpec } from '../stream/rate-limit.ts'
import { BLOCK_HEADER_MAX_BYTES } from '../wire/block-header.ts'
import { DDB_MAX_KEYS_PER_REQUEST, OPERATION_LIST_MAX_BYTES } from '../wire/ddb-messages.ts'
import { LOCATOR_MAX_HISTORY } from '../wire/locator.ts'
import { MEMPOOL_MAX_BYTES } from '../wire/mempool.ts'
import { OPERATIONS_HASH_PATH_MAX_BYTES } from '../wire/merkle.ts'
import { OPERATION_MAX_BYTES } from '../wire/operation.ts'
import { PROTOCOL_MAX_BYTES } from '../wire/protocol-sources.ts'
import type { P2pMessage, P2pMessageTag } from '../wire/p2p-message.ts'

/**
 * `/tzp2p/sync/1.0.0` (normative text: `protocols/sync.md`): request/response. The requester
 * opens a stream, writes its request messages (one kind per stream; a data stream may carry
 * several requests, each within Octez's 10-key bound), closes its write side and reads the
 * answers until the responder closes. Keys the responder does not know are simply not answered.
 * The data requests usually travel as batches on the sync channel instead (`SYNC_CHANNEL_PROTOCOL`).
 */
export const SYNC_PROTOCOL = '/tzp2p/sync/1.0.0'

/**
 * The sync channel (`protocols/sync.md` §2.1): one long-lived stream per connection on which
 * batches of requests are pipelined, each batch and each batch's answers ended by an empty envelope.
 */
export const SYNC_CHANNEL_PROTOCOL = '/tzp2p/sync-channel/1.0.0'

export type SyncRequestTag =
  | 'Get_current_branch' | 'Get_current_head' | 'Get_block_headers' | 'Get_operations'
  | 'Get_operations_for_blocks' | 'Get_predecessor_header' | 'Get_checkpoint' | 'Get_protocols'

/** Per request kind: the answer kind, the envelopes one request may hold, and the answer bound. */
export interface SyncRequestKind {
  answer: P2pMessageTag
  /** Request messages allowed on one stream. */
  maxRequestMessages: number
  /** Most answer envelopes per request message (one per key). */
  maxAnswers: number
  /** Bound on one answer envelope, length prefix included. */
  maxAnswerBytes: number
}

/** Request messages of a list kind one stream may carry (each ≤ 10 keys): at most 80 keys a stream. */
export const DATA_REQUESTS_PER_STREAM = 8

const ENVELOPE = 4 + 2
const HEADER = BLOCK_HEADER_MAX_BYTES

export const SYNC_REQUESTS: Readonly<Record<SyncRequestTag, SyncRequestKind>> = {
  Get_current_branch: { answer: 'Current_branch', maxRequestMessages: 1, maxAnswers: 1, maxAnswerBytes: ENVELOPE + 4 + 4 + HEADER + LOCATOR_MAX_HISTORY * 32 },
  Get_current_head: { answer: 'Current_head', maxRequestMessages: 1, maxAnswers: 1, maxAnswerBytes: ENVELOPE + 4 + 4 + HEADER + MEMPOOL_MAX_BYTES },
  Get_block_headers: { answer: 'Block_header', maxRequestMessages: DATA_REQUESTS_PER_STREAM, maxAnswers: DDB_MAX_KEYS_PER_REQUEST, maxAnswerBytes: ENVELOPE + HEADER },
  Get_operations: { answer: 'Operation', maxRequestMessages: DATA_REQUESTS_PER_STREAM, maxAnswers: DDB_MAX_KEYS_PER_REQUEST, maxAnswerBytes: ENVELOPE + OPERATION_MAX_BYTES },
  Get_operations_for_blocks: {
    answer: 'Operations_for_blocks',
    maxRequestMessages: DATA_REQUESTS_PER_STREAM,
    maxAnswers: DDB_MAX_KEYS_PER_REQUEST,
    maxAnswerBytes: ENVELOPE + 32 + 1 + OPERATIONS_HASH_PATH_MAX_BYTES + OPERATION_LIST_MAX_BYTES
  },
  Get_predecessor_header: {
    answer: 'Predecessor_header',
    // One key per message: as many messages as the other kinds carry keys.
    maxRequestMessages: DATA_REQUESTS_PER_STREAM * DDB_MAX_KEYS_PER_REQUEST,
    maxAnswers: 1,
    maxAnswerBytes: ENVELOPE + 32 + 4 + HEADER
  },
  Get_checkpoint: { answer: 'Checkpoint', maxRequestMessages: 1, maxAnswers: 1, maxAnswerBytes: ENVELOPE + 4 + HEADER },
  Get_protocols: { answer: 'Protocol', maxRequestMessages: 1, maxAnswers: DDB_MAX_KEYS_PER_REQUEST, maxAnswerBytes: ENVELOPE + PROTOCOL_MAX_BYTES }
}

/** The largest answer envelope of any kind (the bound a channel's reader starts from). */
export const SYNC_MAX_ANSWER_BYTES = Math.max(...Object.values(SYNC_REQUESTS).map(k => k.maxAnswerBytes))

export function isSyncRequest (tag: P2pMessageTag): tag is SyncRequestTag {
  return Object.hasOwn(SYNC_REQUESTS, tag)
}

/** The largest request envelope (Get_operations_for_blocks with 10 keys is 340 bytes). */
export const SYNC_MAX_REQUEST_BYTES = 1024

/**
 * Per-peer request rates the responder grants (token buckets). Octez throttles Get_current_branch
 * and Get_current_head to one per 4 s, the unused Get_checkpoint/Get_predecessor_header to one
 * per 10 s, and leaves headers and operations unthrottled. tzp2p bootstraps with
 * Get_predecessor_header, so it is limited like the other data requests. A data request costs one
 * token per key it names (`syncRequestCost`): what the responder reads and sends grows with the
 * keys, not the messages, so a header asked by Get_predecessor_header (one key a message) costs
 * what one asked by Get_block_headers (ten a message) does. 10 000 keys per second per peer and
 * kind caps what one peer can make us read, and lets 4 peers serve a bootstrap of 5 000 blocks/s
 * (a header and a pass per block) with room for one peer serving twice its share.
 * Get_protocols: one request per 10 s, as Octez (a request over the rate is dropped, not answered).
 */
export const SYNC_THROTTLES: Record<SyncRequestTag, RateSpec> = {
  Get_current_branch: { rate: 0.25, burst: 4 },
  Get_current_head: { rate: 0.25, burst: 4 },
  Get_checkpoint: { rate: 0.1, burst: 2 },
  Get_protocols: { rate: 0.1, burst: 1 },
  Get_block_headers: { rate: 10_000, burst: 10_000 },
  Get_predecessor_header: { rate: 10_000, burst: 10_000 },
  Get_operations_for_blocks: { rate: 10_000, burst: 10_000 },
  Get_operations: { rate: 10_000, burst: 10_000 }
}

/** Tokens a request message takes from its kind's bucket: one per key for data requests, else one. */
export function syncRequestCost (r: P2pMessage): number {
  switch (r.tag) {
    case 'Get_block_headers': return Math.max(1, r.blockHashes.length)
    case 'Get_operations': return Math.max(1, r.operationHashes.length)
    case 'Get_operations_for_blocks': return Math.max(1, r.keys.length)
    default: return 1
  }
}

/** Batches a requester has written on one channel and not yet seen answered. */
export const SYNC_CHANNEL_MAX_BATCHES = 16
/**
 * Batches of one channel the responder answers at once (store reads overlap); it reads no further
 * batch until one of them is written, so a peer that sends more waits on the muxer's flow control.
 */
export const SYNC_CHANNEL_ANSWERING = 4
/** Sync channels a peer may have open to us at once (per connection): one, and one replacing it. */
export const SYNC_MAX_INBOUND_CHANNELS = 2
export const SYNC_MAX_OUTBOUND_CHANNELS = 2
/** The requester closes a channel that carried no batch for this long. */
export const SYNC_CHANNEL_IDLE_MS = 10_000

/** Sync streams a peer may have open to us at once (per connection). */
export const SYNC_MAX_INBOUND_STREAMS = 64
/** Sync streams we open to one peer at once. */
export const SYNC_MAX_OUTBOUND_STREAMS = 64
/** We ask one peer for protocols at most this often (its responder drops more, as Octez's). */
export const PROTOCOL_REQUEST_INTERVAL_MS = 10_000

/** The responder waits this long for the request before resetting the stream. */
export const SYNC_REQUEST_READ_TIMEOUT_MS = 5_000
/** The requester waits this long for all answers of one request (then keeps what it got). */
export const SYNC_ANSWER_TIMEOUT_MS = 10_000
