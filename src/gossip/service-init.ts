import type { StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { NetworkPeer, PeerDirectory } from '../peer/index.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import type { BlockLocator } from '../wire/locator.ts'
import type { Mempool as WireMempool } from '../wire/mempool.ts'
import type { GossipAnswer } from './push.ts'

/**
 * The gossip service's contract with the node: what it is given (`GossipInit`, the libp2p
 * components) and what it reports (`head` and `branch` announcements, which the chain validator
 * in src/sync/ takes). Kept apart from the service (service.ts) so that its users read the
 * contract without the protocol's workings.
 */

export interface HeadAnnouncement {
  peer: NetworkPeer
  hash: Uint8Array
  header: BlockHeader
  mempool: WireMempool
}

export interface BranchAnnouncement {
  peer: NetworkPeer
  headHash: Uint8Array
  locator: BlockLocator
}

export interface GossipEvents {
  head: [HeadAnnouncement]
  branch: [BranchAnnouncement]
}

export interface GossipInit {
  chain: ChainReader
  /** Our own Tezos peer id (`id…`): the sender half of locator seeds. */
  tezosPeerId: string
  /** Connected peers of every wire (the libp2p handler finds its peer here). */
  peers: PeerDirectory
  /**
   * We announced `disable_mempool` (`--disable-mempool`): a peer that sends us a non-empty mempool
   * anyway is disconnected and greylisted, as Octez does (`src/lib_shell/p2p_reader.ml`).
   */
  disableMempool?: boolean
  /** Operation hashes of our mempool, in order (Current_head's known_valid). */
  mempoolHashes: () => Uint8Array[]
  /** The peer policy: a peer that broke the protocol, flooded or announced a known-invalid block is reported there. */
  report: ReportPeer
  /**
   * Answers a request that came on a gossip stream (gossip.md §4.5) as the sync responder does,
   * with its per-peer rates: the answer envelopes. Absent: such requests are not answered.
   */
  answer?: GossipAnswer
  logger: Logger
  now?: () => number
  /** Clock drift beyond which a head is a future block (seconds, default 1). */
  maxClockDrift?: number
  newHeadRequestTimeoutMs?: number
}

export interface GossipComponents {
  registrar: {
    handle: (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
}
