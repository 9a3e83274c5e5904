import type { PeerRef } from '../misbehaviour/index.ts'
import type { NetworkVersion } from '../wire/connection-message.ts'
import type { ConnectionMetadata } from '../wire/metadata.ts'
import type { P2pMessage, P2pMessageTag } from '../wire/p2p-message.ts'

/**
 * A peer as gossip, sync, the chain validator, the requester and the mempool see it, whatever the
 * wire it is on: its Tezos peer id, its wire, the versions and metadata of its handshake, and two
 * operations. Each wire implements it once (libp2p streams in `src/node/libp2p-peer.ts`, Octez's
 * raw TCP connection in `src/node/octez-peer.ts`); nothing above it knows which wire a peer is on.
 */
export type PeerWire = 'libp2p' | 'octez'

export const PEER_WIRES: readonly PeerWire[] = ['libp2p', 'octez']

/** What a request expects back: the answer kind, how many per request message, and the bound on one. */
export interface AnswerKind {
  answer: P2pMessageTag
  /** Most answer envelopes per request message (one per key). */
  maxAnswers: number
  /** Bound on one answer envelope, length prefix included. */
  maxAnswerBytes: number
}

export interface NetworkPeer {
  /** Tezos peer id, b58check `id…`. */
  readonly tezosPeerId: string
  readonly wire: PeerWire
  /** The connection this peer record belongs to (unique across wires). */
  readonly connectionId: string
  /** Chain name and the versions selected in the handshake. */
  readonly version: NetworkVersion
  /** What the peer announced in its metadata chunk (`disable_mempool`, `private_node`). */
  readonly metadata: ConnectionMetadata
  /** IP of the remote end of the socket, when known. */
  readonly remoteIp?: string
  /** The peer as the peer policy knows it (`report`). */
  readonly ref: PeerRef
  /**
   * Writes one message to the peer (an announcement, or on a wire without streams an answer).
   * Resolves once the message is handed to the wire; rejects when it cannot be.
   */
  send: (message: P2pMessage) => Promise<void>
  /**
   * Sends request messages of one kind and resolves with the answers that arrived before the peer
   * was done or `signal` fired. Keys the peer does not know are simply not answered. Rejects with
   * an error carrying a `misbehaviour` when the peer answered wrongly.
   */
  request: (requests: readonly P2pMessage[], kind: AnswerKind, signal: AbortSignal) => Promise<P2pMessage[]>
  /**
   * Wires whose announcement channel also carries requests and answers (libp2p, `protocols/gossip.md`
   * §4.5): the peer announced block `hash` (so it holds the block's operations), or operations in
   * its mempool; writes an encoded answer envelope on the announcement channel; hands over an
   * answer that arrived there.
   */
  noteAnnounced?: (hash: Uint8Array) => void
  noteAnnouncedOperations?: (hashes: readonly Uint8Array[]) => void
  sendEnvelope?: (envelope: Uint8Array) => Promise<void>
  deliver?: (answer: P2pMessage) => 'delivered' | 'late' | 'unrequested'
  /**
   * Wires with the block-operation push (libp2p gossip 1.1.0, `protocols/gossip.md` §4.6): whether
   * the peer can be asked to push; keeps block operations it pushed for the fetch they spare;
   * whether it pushed a block's operations not yet taken.
   */
  readonly pushCapable?: boolean
  keepPushed?: (answer: P2pMessage, size: number) => void
  hasPushed?: (blockHash: Uint8Array) => boolean
}

/** The connected peers of every wire, as the layers above the wires look them up. */
export interface PeerDirectory {
  /** By Tezos peer id. */
  get: (tezosPeerId: string) => NetworkPeer | undefined
  /** By connection id (the libp2p connection id, or an Octez connection's own id). */
  ofConnection: (connectionId: string) => NetworkPeer | undefined
  list: () => NetworkPeer[]
}
