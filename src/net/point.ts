import { isIPv4, isIPv6 } from 'node:net'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { b58Decode } from '../crypto/index.ts'
import { splitHostPort } from './host-port.ts'

/**
 * Peer addresses ("points" in Octez, `src/lib_base/p2p_point.ml`): what `--peer`, bootstrap names,
 * DNS records, Nack and peer exchange lists carry. A point is a host (IP literal or DNS name) and a
 * TCP port, optionally pinned to the Tezos peer id expected behind it (Octez's `host:port#id…`,
 * checked after the handshake) and to a libp2p PeerId (`/p2p/…` in a multiaddr, checked by Noise).
 * This module is the one parser and printer of points; their wire codec is `wire/point.ts`.
 */

/** Octez's default P2P port, used when an address gives none. */
export const DEFAULT_P2P_PORT = 9732

export type HostKind = 'ip4' | 'ip6' | 'dns' | 'dns4' | 'dns6'

export interface PointAddress {
  hostKind: HostKind
  /** Dotted IPv4, RFC 5952 IPv6 without brackets, or a lower-case DNS name. */
  host: string
  port: number
  /** Tezos peer id (`id…`) the remote must prove after the handshake. */
  expectedPeerId?: string
  /** libp2p PeerId (base58/CID string) taken from a `/p2p/…` component. */
  libp2pPeerId?: string
}

const ACCEPTED_FORMS =
  'accepted forms: a multiaddr (/ip4/1.2.3.4/tcp/9732, /ip6/::1/tcp/9732, /dns4/host/tcp/9732, /dns/host/tcp/9732, ' +
  'optionally ending with /p2p/<libp2p peer id>), or host:port, [ipv6]:port, host or ipv6 (port 9732 by default), ' +
  'each optionally followed by #<tezos peer id> (id…)'

const OCTEZ_FORM = 'accepted forms: a.b.c.d:port or [ipv6]:port, port 0–65535 (Octez P2p_point.Id)'

/** Text that is not a peer address. The message explains the forms the parser accepts. */
export class InvalidPointError extends Error {
  override readonly name = 'InvalidPointError'
  readonly text: string
  readonly reason: string

  constructor (text: string, reason: string, acceptedForms: string = ACCEPTED_FORMS) {
    super(`invalid peer address ${JSON.stringify(text)}: ${reason} (${acceptedForms})`)
    this.text = text
    this.reason = reason
  }
}

export interface ParsePointOptions {
  /** Port for forms that give none (Octez's 9732 unless told). */
  defaultPort?: number
}

/**
 * Parses a `--peer`/bootstrap address: a multiaddr, or Octez's `host[:port][#peer_id]` with IPv6 in
 * brackets when a port follows (a bare IPv6 literal, having several colons, takes the default port).
 */
export function parsePoint (text: string, options: ParsePointOptions = {}): PointAddress {
  const defaultPort = options.defaultPort ?? DEFAULT_P2P_PORT
  if (text.length === 0) throw new InvalidPointError(text, 'empty address')
  if (text.length > 1024) throw new InvalidPointError(text.slice(0, 64) + '…', 'longer than 1024 characters')
  if (/\s/.test(text)) throw new InvalidPointError(text, 'contains white space')
  const hash = text.indexOf('#')
  const address = hash < 0 ? text : text.slice(0, hash)
  const expectedPeerId = hash < 0 ? undefined : checkTezosPeerId(text, text.slice(hash + 1))
  const point = address.startsWith('/') ? parseMultiaddrText(text, address) : parseHostPort(text, address, defaultPort)
  if (expectedPeerId !== undefined) point.expectedPeerId = expectedPeerId
  return point
}

function checkTezosPeerId (text: string, id: string): string {
  try {
    b58Decode('peerId', id)
  } catch (e) {
    throw new InvalidPointError(text, `after "#" comes a Tezos peer id (id…, 30 characters): ${(e as Error).message}`)
  }
  return id
}

function parseHostPort (text: string, address: string, defaultPort: number): PointAddress {
  const { host, portText, bracketed } = splitHostPort(address, reason => new InvalidPointError(text, reason))
  if (bracketed && !isIPv6(host)) throw new InvalidPointError(text, `${JSON.stringify(host)} is not an IPv6 address`)
  if (!bracketed && host.includes(':') && !isIPv6(host)) {
    throw new InvalidPointError(text, `${JSON.stringify(host)} is not an IPv6 address (write [ipv6]:port to give a port)`)
  }
  const port = portText === undefined ? defaultPort : parsePort(text, portText)
  return hostPoint(text, host, port)
}

function parsePort (text: string, portText: string): number {
  if (!/^[0-9]{1,5}$/.test(portText)) throw new InvalidPointError(text, `port ${JSON.stringify(portText)} is not a number`)
  const port = Number(portText)
  if (port < 1 || port > 65535) throw new InvalidPointError(text, `port ${port} is outside 1–65535`)
  return port
}

function hostPoint (text: string, host: string, port: number, dnsKind: 'dns' | 'dns4' | 'dns6' = 'dns'): PointAddress {
  const ip = normaliseIpAddress(host)
  if (ip !== undefined) return { hostKind: ip.kind, host: ip.address, port }
  if (host.includes('%')) throw new InvalidPointError(text, 'IPv6 zone indices (%…) are not supported')
  const name = host.toLowerCase().replace(/\.$/, '')
  if (!isDnsName(name)) throw new InvalidPointError(text, `${JSON.stringify(host)} is neither an IP address nor a DNS name`)
  return { hostKind: dnsKind, host: name, port }
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/

/** RFC 1123 host names (underscores allowed, as in `_dnsaddr` names); a numeric last label is not a name. */
function isDnsName (name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  if (!labels.every(l => LABEL.test(l))) return false
  return !/^[0-9]+$/.test(labels[labels.length - 1])
}

function parseMultiaddrText (text: string, address: string): PointAddress {
  let ma: Multiaddr
  try {
    ma = multiaddr(address)
  } catch (e) {
    throw new InvalidPointError(text, `not a valid multiaddr: ${(e as Error).message}`)
  }
  return pointFromComponents(text, ma)
}

/** The point a multiaddr names; it must be `/<ip4|ip6|dns|dns4|dns6>/…/tcp/<port>[/p2p/<id>]`. */
export function pointFromMultiaddr (ma: Multiaddr): PointAddress {
  return pointFromComponents(ma.toString(), ma)
}

function pointFromComponents (text: string, ma: Multiaddr): PointAddress {
  const parts = ma.getComponents()
  const [host, tcp, p2p, ...rest] = parts
  if (host === undefined || !['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(host.name) || host.value === undefined) {
    throw new InvalidPointError(text, 'a multiaddr must start with /ip4, /ip6, /dns, /dns4 or /dns6')
  }
  if (tcp?.name !== 'tcp' || tcp.value === undefined) throw new InvalidPointError(text, 'a multiaddr must give a /tcp/<port> after the host')
  if (rest.length > 0 || (p2p !== undefined && p2p.name !== 'p2p')) {
    throw new InvalidPointError(text, 'only /p2p/<peer id> may follow /tcp/<port>')
  }
  const port = parsePort(text, tcp.value)
  const point = host.name === 'ip4' || host.name === 'ip6'
    ? hostPoint(text, host.value, port)
    : hostPoint(text, host.value, port, host.name as 'dns' | 'dns4' | 'dns6')
  if (p2p?.value !== undefined) {
    try {
      point.libp2pPeerId = peerIdFromString(p2p.value).toString()
    } catch (e) {
      throw new InvalidPointError(text, `/p2p/ must carry a libp2p peer id: ${(e as Error).message}`)
    }
  }
  return point
}

/**
 * The multiaddr to dial. `/dns/…` names are resolved by libp2p's dialer; with `withPeerId`
 * (default) a known libp2p PeerId is appended so Noise checks it.
 */
export function pointToMultiaddr (point: PointAddress, options: { withPeerId?: boolean } = {}): Multiaddr {
  const base = `/${point.hostKind}/${point.host}/tcp/${point.port}`
  const withPeerId = options.withPeerId ?? true
  return multiaddr(withPeerId && point.libp2pPeerId !== undefined ? `${base}/p2p/${point.libp2pPeerId}` : base)
}

/**
 * The key a point is known by: its canonical multiaddr without peer ids, e.g.
 * `/ip4/1.2.3.4/tcp/9732`. Two spellings of one address (`[::ffff:1.2.3.4]:9732`, `1.2.3.4`) give one key.
 */
export function pointKey (point: Pick<PointAddress, 'hostKind' | 'host' | 'port'>): string {
  return `/${point.hostKind}/${point.host}/tcp/${point.port}`
}

/** The point a key names (inverse of `pointKey`). */
export function pointFromKey (key: string): PointAddress {
  return pointFromMultiaddr(multiaddr(key))
}

/** True for points whose host is an IP literal (the only ones Octez point strings can carry). */
export function isIpPoint (point: Pick<PointAddress, 'hostKind'>): boolean {
  return point.hostKind === 'ip4' || point.hostKind === 'ip6'
}

/**
 * Octez's point text `a.b.c.d:port` / `[ipv6]:port` (`P2p_point.Id.to_string`), used in Nack lists
 * and Octez-compatible Advertise messages. DNS names have no Octez form.
 */
export function toOctezPointString (point: Pick<PointAddress, 'hostKind' | 'host' | 'port'>): string {
  if (point.hostKind === 'ip4') return `${point.host}:${point.port}`
  if (point.hostKind === 'ip6') return `[${point.host}]:${point.port}`
  throw new InvalidPointError(pointKey(point), 'only IP addresses have an Octez point form; resolve the name first')
}

const OCTEZ_PORT = /^(?:0|[1-9][0-9]{0,4})$/

/**
 * Reads Octez's point text (`P2p_point.Id.of_string`): `a.b.c.d:port` or `[ipv6]:port` with an
 * explicit decimal port of 0–65535, nothing else. IPv4-mapped IPv6 gives the IPv4 host.
 */
export function fromOctezPointString (text: string): PointAddress {
  const fail = (reason: string): InvalidPointError => new InvalidPointError(text, reason, OCTEZ_FORM)
  let host: string
  let port: string
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || text[close + 1] !== ':') throw fail('expected [ipv6]:port')
    host = text.slice(1, close)
    port = text.slice(close + 2)
    if (!isIPv6(host)) throw fail(`${JSON.stringify(host)} is not an IPv6 address`)
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) throw fail('missing :port')
    host = text.slice(0, colon)
    port = text.slice(colon + 1)
    if (!isIPv4(host)) throw fail(`${JSON.stringify(host)} is not an IPv4 address (IPv6 needs brackets)`)
  }
  if (!OCTEZ_PORT.test(port) || Number(port) > 65535) throw fail(`bad port ${JSON.stringify(port)}`)
  const ip = normaliseIpAddress(host)
  if (ip === undefined) throw fail(`${JSON.stringify(host)} is not an IP address`)
  return { hostKind: ip.kind, host: ip.address, port: Number(port) }
}

/**
 * The point of an IP literal (any spelling: mapped IPv4, uncompressed IPv6) and a port, e.g. a
 * connection's remote IP with the port it advertised.
 */
export function ipPoint (address: string, port: number): PointAddress {
  const text = `${address} port ${port}`
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidPointError(text, `bad port ${port}`, OCTEZ_FORM)
  const ip = normaliseIpAddress(address)
  if (ip === undefined) throw new InvalidPointError(text, `${JSON.stringify(address)} is not an IP address`, OCTEZ_FORM)
  return { hostKind: ip.kind, host: ip.address, port }
}

/** Human-readable `host:port[#id]`, IPv6 in brackets. */
export function formatPoint (point: PointAddress): string {
  const host = point.hostKind === 'ip6' ? `[${point.host}]` : point.host
  return `${host}:${point.port}${point.expectedPeerId !== undefined ? `#${point.expectedPeerId}` : ''}`
}

export interface IpAddress {
  kind: 'ip4' | 'ip6'
  address: string
}

/**
 * Canonical form of an IP literal: IPv4 as is, IPv6 compressed and lower-case (through the
 * multiaddr codec), IPv4-mapped IPv6 (`::ffff:1.2.3.4`) unwrapped to IPv4 as Octez prints it.
 * Returns undefined for anything that is not an IP literal.
 */
export function normaliseIpAddress (text: string): IpAddress | undefined {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  if (isIPv4(s)) return { kind: 'ip4', address: s }
  if (!isIPv6(s) || s.includes('%')) return undefined
  const ma = multiaddr(`/ip6/${s}`)
  const bytes = ma.bytes.subarray(1, 17) // after the one-byte protocol code of ip6 (0x29)
  const mapped = bytes.subarray(0, 10).every(b => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  if (mapped) return { kind: 'ip4', address: `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}` }
  const value = ma.getComponents()[0].value
  return { kind: 'ip6', address: value ?? s.toLowerCase() }
}
