import { LOCATOR_MAX_HISTORY } from '../wire/locator.ts'
import { MEMPOOL_MAX_BYTES } from '../wire/mempool.ts'
import type { P2pMessage, P2pMessageTag } from '../wire/p2p-message.ts'
import type { RateSpec } from '../stream/rate-limit.ts'

/**
 * `/tzp2p/gossip/1.0.0` (normative text: `protocols/gossip.md`): one long-lived stream per
 * direction and authenticated connection, opened by the side that writes on it. It carries
 * announcements only — hashes and headers, never operation bodies.
 */
export const GOSSIP_PROTOCOL = '/tzp2p/gossip/1.0.0'

/**
 * `/tzp2p/gossip/1.1.0`: the same stream with the block-operation push extension (gossip.md
 * §4.6): `Block_push`, and Operations_for_blocks sent ahead of a Current_head unasked. A writer
 * offers it first and falls back to 1.0.0.
 */
export const GOSSIP_PUSH_PROTOCOL = '/tzp2p/gossip/1.1.0'
export const GOSSIP_PROTOCOLS = [GOSSIP_PUSH_PROTOCOL, GOSSIP_PROTOCOL]

/**
 * Push bounds (gossip.md §4.6): a block's operations are pushed only when their answers take at
 * most `PUSH_MAX_BYTES` in all; a receiver keeps at most `PUSHED_ANSWERS_PER_PEER` pushed answers
 * and `PUSHED_BYTES_PER_PEER` bytes of them per peer until a fetch takes them.
 */
export const PUSH_MAX_BYTES = 64 * 1024
export const PUSHED_ANSWERS_PER_PEER = 16
export const PUSHED_BYTES_PER_PEER = 256 * 1024
/** First announcers of the latest new blocks, among which a node picks the peer it asks to push. */
export const PUSH_CHOICE_WINDOW = 16
/** Pushes from a peer keep being taken this long after we asked it to stop (they may cross). */
export const PUSH_STOP_GRACE_MS = 10_000

/** The announcements of a gossip stream (on every wire, these go to the gossip service). */
export const GOSSIP_MESSAGES: ReadonlySet<P2pMessageTag> = new Set<P2pMessageTag>([
  'Get_current_branch', 'Current_branch', 'Get_current_head', 'Current_head', 'Deactivate', 'Block_push'
])

/**
 * The requests and answers that may also travel on a libp2p gossip stream (`protocols/gossip.md`
 * §4.5): the operations of a block the peer announced, and operations the peer announced in its
 * mempool, fetched in one round trip with no stream to negotiate, answers matched by key as on
 * Octez's wire. Anything else is a protocol violation.
 */
export const GOSSIP_CHANNEL_REQUESTS: ReadonlySet<P2pMessageTag> = new Set<P2pMessageTag>(['Get_operations_for_blocks', 'Get_operations'])
export const GOSSIP_CHANNEL_ANSWERS: ReadonlySet<P2pMessageTag> = new Set<P2pMessageTag>(['Operations_for_blocks', 'Operation'])
/** A request carried on the gossip streams (answered as the sync responder answers it). */
export type GossipChannelRequest = Extract<P2pMessage, { tag: 'Get_operations_for_blocks' | 'Get_operations' }>

export function isGossipChannelRequest (m: P2pMessage): m is GossipChannelRequest {
  return GOSSIP_CHANNEL_REQUESTS.has(m.tag)
}

/**
 * Operation hashes each peer announced in its mempool that are remembered, for asking it on the
 * gossip streams (§4.5); older ones are asked over sync. A fetch follows its announcement at once,
 * so a short memory is enough, and it bounds what a peer's announcements make us hold.
 */
export const ANNOUNCED_OPERATIONS_PER_PEER = 1024

/**
 * tzp2p's bound on one gossip envelope. The largest legal message is a Current_head with a header
 * of at most 1 MiB and a full mempool (4000 hashes), or a Current_branch with a 1 MiB header and
 * 1000 history hashes. Octez allows 8 MiB headers; tzp2p gossips headers of at most 1 MiB.
 */
export const GOSSIP_MAX_HEADER_BYTES = 1024 * 1024
export const GOSSIP_MAX_MESSAGE_BYTES = 4 + 2 + 4 + 4 + GOSSIP_MAX_HEADER_BYTES + Math.max(MEMPOOL_MAX_BYTES, LOCATOR_MAX_HISTORY * 32)

/**
 * Receive throttles per peer (Octez: Get_current_branch, Current_branch, Get_current_head and
 * Deactivate at most once per 4 s, with a small burst since on connect both are legitimate at
 * once). Current_head is not throttled by Octez; tzp2p allows 20 per second, bursts of 50.
 * Messages over the limit are dropped, not queued.
 */
export const GOSSIP_THROTTLES: Record<string, RateSpec> = {
  Get_current_branch: { rate: 0.25, burst: 2 },
  Current_branch: { rate: 0.25, burst: 2 },
  Get_current_head: { rate: 0.25, burst: 2 },
  Deactivate: { rate: 0.25, burst: 2 },
  Current_head: { rate: 20, burst: 50 },
  // Asked only when the first announcer changes: a few per minute.
  Block_push: { rate: 1, burst: 10 },
  // Pushed block operations (§4.6): at most one answer per pass of each head announced.
  Operations_for_blocks: { rate: 80, burst: 200 }
}

/** Octez `new_head_request_timeout`: a peer silent this long is sent Get_current_head. */
export const NEW_HEAD_REQUEST_TIMEOUT_MS = 90_000

/** Octez `Clock_drift.max_timestamp_drift`: a head dated further ahead is a future block, ignored. */
export const MAX_CLOCK_DRIFT_SECONDS = 1

/**
 * How many of the latest block and operation hashes the node remembers, with which peers are
 * known to have each (src/gossip/known-hashes.ts).
 */
export const KNOWN_BLOCKS = 1024
export const KNOWN_OPERATIONS = 8192

/** Inbound gossip streams per connection: one, plus one while a broken one is being replaced. */
export const GOSSIP_MAX_INBOUND_STREAMS = 2
