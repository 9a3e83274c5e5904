import { CODE_IP4, CODE_IP6, CODE_P2P } from '@multiformats/multiaddr'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { BanList } from './bans.ts'
import type { Greylist } from './greylist.ts'

/** The IP literal of a multiaddr's first ip4/ip6 component, if it has one (DNS names have none). */
export function ipOfMultiaddr (ma: Multiaddr): string | undefined {
  for (const c of ma.getComponents()) {
    if ((c.code === CODE_IP4 || c.code === CODE_IP6) && c.value !== undefined) return c.value
  }
  return undefined
}

/** The `/p2p/<id>` component of a multiaddr, as a string. */
function peerIdStringOf (ma: Multiaddr): string | undefined {
  const c = ma.getComponents().find(c => c.code === CODE_P2P)
  return c?.value
}

export interface AccessControl {
  greylist: Greylist
  banList: BanList
}

/**
 * True if this IP or peer is refused: banned or greylisted (Octez `banned_addr` / `banned_peer`).
 * Exposed so the handshake applies the same rule to the Tezos peer id once it is known.
 */
export function isRefused (acl: AccessControl, key: string | PeerId | undefined): boolean {
  if (key === undefined) return false
  // Every connection passes here several times; with empty lists there is nothing to parse.
  return (acl.banList.size > 0 && acl.banList.isBanned(key)) ||
    (acl.greylist.mayContainEntries && acl.greylist.isGreylisted(key))
}

/**
 * A libp2p `ConnectionGater` that enforces the greylist and the ban list at every stage libp2p
 * offers: before dialling (address and peer), when a socket is accepted (remote IP) and once the
 * encrypted session reveals the remote libp2p PeerId. Octez checks `banned_addr` on accept and
 * on connect; refusing at the socket keeps a greylisted host from costing a Noise handshake.
 */
export function createConnectionGater (acl: AccessControl): ConnectionGater {
  const refusedAddr = (ma: Multiaddr): boolean =>
    (acl.banList.size > 0 || acl.greylist.mayContainEntries) &&
    (isRefused(acl, ipOfMultiaddr(ma)) || isRefused(acl, peerIdStringOf(ma)))
  return {
    denyDialPeer: (peerId: PeerId) => isRefused(acl, peerId),
    denyDialMultiaddr: (ma: Multiaddr) => refusedAddr(ma),
    denyInboundConnection: (maConn: MultiaddrConnection) => refusedAddr(maConn.remoteAddr),
    denyOutboundConnection: (peerId: PeerId, maConn: MultiaddrConnection) =>
      isRefused(acl, peerId) || refusedAddr(maConn.remoteAddr),
    denyInboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) =>
      isRefused(acl, peerId) || refusedAddr(maConn.remoteAddr),
    denyOutboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) =>
      isRefused(acl, peerId) || refusedAddr(maConn.remoteAddr),
    // Gossiped addresses of a refused host are not worth storing or dialling later.
    filterMultiaddrForPeer: (peer: PeerId, ma: Multiaddr) => !isRefused(acl, peer) && !refusedAddr(ma)
  }
}
