import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerRef } from '../misbehaviour/index.ts'
import type { ConnectionMetadata } from '../wire/metadata.ts'
import type { NetworkVersion } from '../wire/connection-message.ts'

/** A peer that completed the Tezos handshake (Ack both ways) on one libp2p connection. */
export interface AuthenticatedPeer {
  /** Tezos peer id, b58check `id…`. */
  tezosPeerId: string
  /** The remote's X25519 public key from its connection message. */
  publicKey: Uint8Array
  libp2pPeerId: PeerId
  connectionId: string
  /** `outbound`: we dialled. */
  direction: 'inbound' | 'outbound'
  remoteAddress: Multiaddr
  /** IP of the remote end of the socket, when the transport has one. */
  remoteIp?: string
  /** Port the remote says it listens on (its connection message); 0 = none. */
  advertisedPort: number
  metadata: ConnectionMetadata
  /** Chain name and the versions selected for this connection. */
  version: NetworkVersion
  /** Milliseconds since the epoch. */
  authenticatedAt: number
}

/** The peer as the peer policy knows it (`report`): its ids and IP, whatever the wire. */
export function peerRefOf (peer: AuthenticatedPeer): PeerRef {
  return { tezosPeerId: peer.tezosPeerId, libp2pPeerId: peer.libp2pPeerId, ...(peer.remoteIp === undefined ? {} : { ip: peer.remoteIp }) }
}

/**
 * The authenticated connections of a node, indexed by connection id (what stream guards ask), by
 * Tezos peer id (what Already_connected asks) and by libp2p PeerId (what peer-store tags follow).
 */
export class AuthenticatedPeers {
  private readonly byConnection = new Map<string, AuthenticatedPeer>()
  private readonly byTezosPeer = new Map<string, AuthenticatedPeer>()

  add (peer: AuthenticatedPeer): void {
    this.byConnection.set(peer.connectionId, peer)
    this.byTezosPeer.set(peer.tezosPeerId, peer)
  }

  /** Forgets a connection; returns its record if it was authenticated. */
  removeConnection (connectionId: string): AuthenticatedPeer | undefined {
    const peer = this.byConnection.get(connectionId)
    if (peer === undefined) return undefined
    this.byConnection.delete(connectionId)
    if (this.byTezosPeer.get(peer.tezosPeerId) === peer) this.byTezosPeer.delete(peer.tezosPeerId)
    return peer
  }

  isAuthenticated (connection: Pick<Connection, 'id'>): boolean {
    return this.byConnection.has(connection.id)
  }

  ofConnection (connection: Pick<Connection, 'id'>): AuthenticatedPeer | undefined {
    return this.byConnection.get(connection.id)
  }

  /** By Tezos peer id (`id…`) or libp2p PeerId. */
  get (peer: string | PeerId): AuthenticatedPeer | undefined {
    if (typeof peer === 'string') return this.byTezosPeer.get(peer) ?? this.list().find(p => p.libp2pPeerId.toString() === peer)
    return this.list().find(p => p.libp2pPeerId.equals(peer))
  }

  hasTezosPeer (tezosPeerId: string): boolean {
    return this.byTezosPeer.has(tezosPeerId)
  }

  /** Whether any authenticated connection remains with this libp2p peer. */
  hasLibp2pPeer (peerId: PeerId): boolean {
    for (const p of this.byConnection.values()) if (p.libp2pPeerId.equals(peerId)) return true
    return false
  }

  list (): AuthenticatedPeer[] {
    return [...this.byConnection.values()]
  }

  get size (): number {
    return this.byConnection.size
  }

  clear (): void {
    this.byConnection.clear()
    this.byTezosPeer.clear()
  }
}
