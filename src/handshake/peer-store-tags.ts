import type { PeerId, PeerStore } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { AuthenticatedPeer, AuthenticatedPeers } from './authenticated-peers.ts'

/**
 * Peer-store tag carried by the libp2p peers with an authenticated connection while the node has
 * more connections than `tagAboveConnections` (see `AuthenticatedPeerTags`).
 */
export const AUTHENTICATED_TAG = 'tzp2p-authenticated'
/** Peer-store metadata key holding the peer's Tezos peer id (UTF-8 `id…`), written with the tag. */
export const TEZOS_PEER_ID_METADATA = 'tzp2p-peer-id'
/** The tag's value: libp2p's pruner closes the connections of the peers with the lowest sums first. */
const AUTHENTICATED_TAG_VALUE = 100

/**
 * The peer-store tag of authenticated peers, written only when it can matter.
 *
 * The tag is what libp2p's connection pruner reads: when libp2p holds more connections than its
 * own limit it closes those of the peers with the lowest tag values first, and the tag keeps
 * authenticated peers off that list. The pruner acts only above libp2p's limit, which the node sets
 * well above `maxConnections` (tzp2p refuses authenticated connections beyond that with a Nack
 * first), so a tag only matters once connections pile up past `maxConnections`. Writing it for
 * every connection cost two peer-store writes, each with a `peer:update` event, at each end of each
 * connection (docs/profiles.md, "bench:handshake: one Noise message per turn, tags when they
 * count"). So: all authenticated peers are tagged at once when the open connections first exceed
 * `tagAbove`, each new one while they stay above half of it, and a tagged peer is untagged when
 * its last authenticated connection closes.
 */
export class AuthenticatedPeerTags {
  private readonly peerStore: PeerStore
  private readonly peers: AuthenticatedPeers
  private readonly tagAbove: number
  private readonly log: Logger
  /** libp2p connections open (from `connection:open` to `connection:close`). */
  private openConnections = 0
  /** Whether newly authenticated peers are tagged. */
  private tagging = false
  /** Tagged libp2p peers, by PeerId string. */
  private readonly tagged = new Set<string>()

  constructor (peerStore: PeerStore, peers: AuthenticatedPeers, tagAbove: number, log: Logger) {
    this.peerStore = peerStore
    this.peers = peers
    this.tagAbove = tagAbove
    this.log = log
  }

  connectionOpened (): void {
    this.openConnections++
    if (!this.tagging && this.openConnections > this.tagAbove) {
      this.tagging = true
      for (const peer of this.peers.list()) void this.tag(peer)
    }
  }

  connectionClosed (): void {
    this.openConnections = Math.max(0, this.openConnections - 1)
    if (this.tagging && this.openConnections <= this.tagAbove / 2) this.tagging = false
  }

  authenticated (peer: AuthenticatedPeer): void {
    if (this.tagging) void this.tag(peer)
  }

  /** A connection of this peer closed; the tag goes once no authenticated connection of it remains. */
  disconnected (peerId: PeerId): void {
    if (this.tagged.size === 0 || this.peers.hasLibp2pPeer(peerId)) return
    if (this.tagged.delete(peerId.toString())) void this.untag(peerId)
  }

  clear (): void {
    this.openConnections = 0
    this.tagging = false
    this.tagged.clear()
  }

  private async tag (peer: AuthenticatedPeer): Promise<void> {
    const key = peer.libp2pPeerId.toString()
    if (this.tagged.has(key)) return
    this.tagged.add(key)
    try {
      await this.peerStore.merge(peer.libp2pPeerId, {
        tags: { [AUTHENTICATED_TAG]: { value: AUTHENTICATED_TAG_VALUE } },
        metadata: { [TEZOS_PEER_ID_METADATA]: new TextEncoder().encode(peer.tezosPeerId) }
      })
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'could not tag an authenticated peer')
    }
  }

  private async untag (peerId: PeerId): Promise<void> {
    try {
      await this.peerStore.merge(peerId, { tags: { [AUTHENTICATED_TAG]: undefined } })
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'could not untag a disconnected peer')
    }
  }
}
