import { CODE_P2P } from '@multiformats/multiaddr'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ipOfMultiaddr, tcpPortOfMultiaddr } from '../net/multiaddr.ts'
import type { BanList } from './bans.ts'
import type { Greylist } from './greylist.ts'
import type { InboundRateLimiter } from './inbound-rate.ts'

/** The `/p2p/<id>` component of a multiaddr, as a string. */
function peerIdStringOf (ma: Multiaddr): string | undefined {
  const c = ma.getComponents().find(c => c.code === CODE_P2P)
  return c?.value
}

/**
 * Trusted points and peers (`--peer`, bootstrap list, DNS bootstrap) are always allowed: the
 * greylist never applies to them (a trusted peer that misbehaves is the operator's to ban, and
 * greylisting it would cut a node off from the very peers it was told to rely on). Bans still
 * apply: a ban is the operator's own decision.
 */
export interface TrustPolicy {
  /** The point `ip:port` is trusted (checked on dials, where the port is the listening one). */
  isTrustedAddress: (ip: string, port: number) => boolean
  /** A libp2p PeerId or Tezos peer id known to be trusted. */
  isTrustedPeer: (peerId: string) => boolean
  /**
   * Some trusted point lives at this IP. An inbound socket shows only the remote IP and an
   * ephemeral port, so a greylisted IP that hosts a trusted point is let through to the next stage,
   * where the libp2p PeerId tells a trusted peer from the rest.
   */
  hostsTrustedPoint: (ip: string) => boolean
}

export interface AccessControl {
  greylist: Greylist
  banList: BanList
  trust?: TrustPolicy
  /** Per-IP inbound connection rate (a host that churns connections is refused at the socket). */
  inboundRate?: InboundRateLimiter
}

function greylisted (acl: AccessControl, key: string | PeerId | undefined): boolean {
  return key !== undefined && acl.greylist.mayContainEntries && acl.greylist.isGreylisted(key)
}

function banned (acl: AccessControl, key: string | PeerId | undefined): boolean {
  return key !== undefined && acl.banList.size > 0 && acl.banList.isBanned(key)
}

function trustedPeer (acl: AccessControl, key: string | PeerId | undefined): boolean {
  return key !== undefined && acl.trust !== undefined && acl.trust.isTrustedPeer(key.toString())
}

/**
 * True if this IP or peer is refused: banned, or greylisted and not trusted (Octez `banned_addr` /
 * `banned_peer`). Exposed so createNode gives the handshake's admission hook the same rule for the
 * Tezos peer id, once the handshake reveals it.
 */
export function isRefused (acl: AccessControl, key: string | PeerId | undefined): boolean {
  if (key === undefined) return false
  // Every connection passes here several times; with empty lists there is nothing to parse.
  return banned(acl, key) || (greylisted(acl, key) && !trustedPeer(acl, key))
}

/**
 * A libp2p `ConnectionGater` that enforces the ban list, the greylist and the per-IP inbound rate at
 * every stage libp2p offers: before dialling (address and peer), when a socket is accepted (remote
 * IP) and once the encrypted session reveals the remote libp2p PeerId. Octez checks `banned_addr`
 * on accept and on connect; refusing at the socket keeps a greylisted host from costing a Noise
 * handshake.
 */
export function createConnectionGater (acl: AccessControl): ConnectionGater {
  const listsEmpty = (): boolean => acl.banList.size === 0 && !acl.greylist.mayContainEntries
  /** A dial target or an outbound connection: `ip:port` is the remote's listening point. */
  const refusedTarget = (ma: Multiaddr, peer?: PeerId): boolean => {
    if (listsEmpty()) return false
    const ip = ipOfMultiaddr(ma)
    const id = peer?.toString() ?? peerIdStringOf(ma)
    if (banned(acl, ip) || banned(acl, id)) return true
    if (!greylisted(acl, ip) && !greylisted(acl, id)) return false
    const port = tcpPortOfMultiaddr(ma)
    const trustedPoint = ip !== undefined && port !== undefined && acl.trust?.isTrustedAddress(ip, port) === true
    return !trustedPoint && !trustedPeer(acl, id)
  }
  /** An inbound connection once Noise has authenticated the remote PeerId. */
  const refusedInboundPeer = (peer: PeerId, maConn: MultiaddrConnection): boolean => {
    if (listsEmpty()) return false
    const ip = ipOfMultiaddr(maConn.remoteAddr)
    if (banned(acl, ip) || banned(acl, peer)) return true
    return (greylisted(acl, ip) || greylisted(acl, peer)) && !trustedPeer(acl, peer)
  }
  return {
    denyDialPeer: (peerId: PeerId) => isRefused(acl, peerId),
    denyDialMultiaddr: (ma: Multiaddr) => refusedTarget(ma),
    denyInboundConnection: (maConn: MultiaddrConnection) => {
      const ip = ipOfMultiaddr(maConn.remoteAddr)
      if (ip === undefined) return false
      if (banned(acl, ip)) return true
      if (acl.inboundRate !== undefined && !acl.inboundRate.allow(ip)) return true
      return greylisted(acl, ip) && acl.trust?.hostsTrustedPoint(ip) !== true
    },
    denyOutboundConnection: (peerId: PeerId, maConn: MultiaddrConnection) => refusedTarget(maConn.remoteAddr, peerId),
    denyInboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) => refusedInboundPeer(peerId, maConn),
    denyOutboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) => refusedTarget(maConn.remoteAddr, peerId),
    // Gossiped addresses of a refused host are not worth storing or dialling later.
    filterMultiaddrForPeer: (peer: PeerId, ma: Multiaddr) => !isRefused(acl, peer) && !refusedTarget(ma, peer)
  }
}
