import type { Logger } from 'pino'
import type { ChainReader } from '../chain/chain-reader.ts'
import { bytesEqual } from '../encoding/index.ts'
import { peerIdBytes } from '../gossip/branch.ts'
import type { GossipService } from '../gossip/service.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import { ReaderThrottle } from '../octez/reader-throttle.ts'
import type { SyncRequest } from '../sync/answers.ts'
import { isSyncRequest } from '../sync/definitions.ts'
import type { SyncService } from '../sync/service.ts'
import { computeLocator, type BlockLocator, type LocatorSeed } from '../wire/locator.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import type { OctezPeer } from './octez-peer.ts'

/**
 * The reader of one Octez-wire connection (Octez's `P2p_reader` worker and the P2P messages of
 * `src/lib_p2p/p2p_pool.ml`), in Octez's order: each message is counted against its kind's
 * throttle (the reader sleeps past the rate, `src/lib_shell/p2p_reader.ml`), then announcements
 * go to gossip, requests to the sync responder (answers queued with `try_send`: dropped when the
 * queue is full), answers to the request waiting for their key, and P2P messages to the points.
 */
export interface OctezSessionInit {
  /** Undefined for a node without a chain: it answers nothing of the Distributed DB. */
  chain: () => ChainReader | undefined
  gossip: () => GossipService | undefined
  sync: () => SyncService | undefined
  tezosPeerId: string
  report: ReportPeer
  /** Points to Advertise (Bootstrap), and the points a peer tells us of (Advertise, Swap). */
  points: { advertise: (to: OctezPeer) => string[], learn: (points: readonly string[], from: OctezPeer) => void }
  logger: Logger
  now?: () => number
  /** Told of each message handled, by kind (metrics, tests). */
  onMessage?: (peer: OctezPeer, message: P2pMessage) => void
}

const ANSWERS = new Set<P2pMessage['tag']>(['Block_header', 'Operation', 'Protocol', 'Operations_for_blocks', 'Predecessor_header', 'Checkpoint', 'Protocol_branch'])
const ANNOUNCEMENTS = new Set<P2pMessage['tag']>(['Get_current_branch', 'Current_branch', 'Get_current_head', 'Current_head', 'Deactivate'])

/** Reads the connection until it closes; resolves then (never rejects). */
export async function runOctezSession (peer: OctezPeer, init: OctezSessionInit): Promise<void> {
  const log = init.logger.child({ module: 'octez-wire', peer: peer.tezosPeerId })
  const throttle = new ReaderThrottle()
  const now = init.now ?? Date.now
  try {
    for await (const message of peer.connection.messages()) {
      const delay = throttle.delayFor(message.tag, now())
      if (delay > 0) {
        // Octez sleeps, or stops waiting when the connection is lost.
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([new Promise(resolve => { timer = setTimeout(resolve, delay) }), peer.connection.closed])
        clearTimeout(timer)
        if (peer.connection.isClosed) return
      }
      init.onMessage?.(peer, message)
      try {
        await handle(peer, message, delay > 0, init)
      } catch (err) {
        const kind = misbehaviourOf(err)
        if (kind === undefined) {
          log.debug({ err: (err as Error).message, message: message.tag }, 'message not handled')
          continue
        }
        init.report(peer.ref, kind, `octez wire: ${(err as Error).message}`)
        if (peer.connection.isClosed) return
      }
    }
  } catch (err) {
    // The wire failed: a chunk that does not decipher, a message that does not decode, …
    const kind = misbehaviourOf(err)
    if (kind !== undefined) init.report(peer.ref, kind, `octez wire: ${(err as Error).message}`)
    else log.debug({ err: (err as Error).message }, 'octez connection ended')
  }
}

async function handle (peer: OctezPeer, message: P2pMessage, throttled: boolean, init: OctezSessionInit): Promise<void> {
  switch (message.tag) {
    case 'Disconnect':
      await peer.connection.close('the peer sent Disconnect')
      return
    case 'Bootstrap':
      // Octez answers with the points it knows (`P2p_pool.list_known_points`), at most 100.
      peer.connection.trySend({ tag: 'Advertise', points: init.points.advertise(peer) })
      return
    case 'Advertise':
      init.points.learn(message.points, peer)
      return
    case 'Swap_request':
    case 'Swap_ack':
      // tzp2p does not swap connections on this wire (as `--disable-p2p-swap`); the point is noted.
      init.points.learn([message.point], peer)
      return
  }
  if (ANNOUNCEMENTS.has(message.tag)) {
    // Current_branch / Current_head answer our request for them when one waits (it is checked
    // there, as the sync client's answer on libp2p); otherwise they are announcements.
    if ((message.tag === 'Current_branch' || message.tag === 'Current_head') && peer.deliver(message) === 'delivered') return
    await init.gossip()?.handleMessage(peer, message)
    return
  }
  if (ANSWERS.has(message.tag)) {
    if (peer.deliver(message) === 'unrequested') {
      init.report(peer.ref, 'unrequested-data', `octez wire: ${message.tag} that was not requested`)
    }
    return
  }
  if (message.tag === 'Get_protocol_branch') {
    await answerProtocolBranch(peer, message, init)
    return
  }
  if (isSyncRequest(message.tag)) {
    // Octez drops Get_protocols beyond its rate; other requests were only delayed.
    if (message.tag === 'Get_protocols' && throttled) return
    const answers = await init.sync()?.answer(peer, [message as SyncRequest], { throttle: false }) ?? []
    for (const envelope of answers) peer.connection.trySendEnvelope(envelope)
  }
}

/** Protocol_branch: the locator of the blocks of one protocol level (Octez `compute_protocol_locator`). */
async function answerProtocolBranch (peer: OctezPeer, message: Extract<P2pMessage, { tag: 'Get_protocol_branch' }>, init: OctezSessionInit): Promise<void> {
  const chain = init.chain()
  if (chain === undefined || !bytesEqual(message.chainId, chain.genesis.chainId)) return
  const locator = await protocolBranch(chain, message.protoLevel, { senderId: peerIdBytes(init.tezosPeerId), receiverId: peerIdBytes(peer.tezosPeerId) })
  if (locator !== undefined) peer.connection.trySend({ tag: 'Protocol_branch', chainId: message.chainId, protoLevel: message.protoLevel, locator })
}

/** From the last block of `protoLevel` on our chain down to its first block, or undefined if we have none. */
export async function protocolBranch (chain: ChainReader, protoLevel: number, seed: LocatorSeed): Promise<BlockLocator | undefined> {
  const levels = chain.protocolLevels
  const i = levels.findIndex(l => l.protoLevel === protoLevel)
  if (i < 0) return undefined
  const head = chain.head
  const headLevel = head.header.shell.level
  const first = levels[i].firstLevel
  const last = i + 1 < levels.length ? levels[i + 1].firstLevel - 1 : headLevel
  if (last < first || first > headLevel) return undefined
  const top = last >= headLevel ? head : await chain.getAncestor(head.hash, headLevel - last)
  const bottom = await chain.getAncestor(head.hash, headLevel - first)
  if (top === undefined || bottom === undefined) return undefined
  return await computeLocator({
    headHash: top.hash,
    headHeader: top.header,
    seed,
    caboose: bottom.hash,
    getAncestor: async (hash, distance) => {
      const a = await chain.getAncestor(hash, distance)
      return a !== undefined && a.header.shell.level >= first ? a.hash : undefined
    }
  })
}
