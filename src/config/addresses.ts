import { multiaddr } from '@multiformats/multiaddr'
import { normaliseIpAddress } from '../net/point.ts'
import { isHostName, splitHostPort } from '../net/host-port.ts'

/**
 * Addresses the node listens on or talks to that are not peers: the P2P listen address, RPC and
 * metrics listen addresses, DNS resolvers. Octez writes them `host:port` (`[ipv6]:port`), with a
 * default port when only the host is given; the P2P listen address may also be a libp2p multiaddr.
 */
export interface HostPort {
  /** `ip4`/`ip6` for IP literals, `dns` for a host name (only where names are allowed). */
  hostKind: 'ip4' | 'ip6' | 'dns'
  /** Canonical IP text (IPv6 without brackets) or the lower-case name. */
  host: string
  /** 0 asks the system for a free port (where listening). */
  port: number
}

/** Text that is not a `host[:port]` address; `reason` says why. */
export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError'
  readonly text: string
  readonly reason: string
  constructor (text: string, reason: string) {
    super(`invalid address ${JSON.stringify(text)}: ${reason}`)
    this.text = text
    this.reason = reason
  }
}

export interface ParseHostPortOptions {
  defaultPort: number
  /** Accept host names (RPC: `localhost:8732`); IP literals only otherwise. */
  allowNames?: boolean
  /** Accept port 0 (listening on a port the system picks). */
  allowPortZero?: boolean
  /** Accept `/ip4/…/tcp/…` and `/ip6/…/tcp/…` multiaddrs. */
  allowMultiaddr?: boolean
}


export function parseHostPort (text: string, options: ParseHostPortOptions): HostPort {
  if (text.length === 0) throw new InvalidAddressError(text, 'empty address')
  if (text.length > 300) throw new InvalidAddressError(text.slice(0, 40) + '…', 'longer than 300 characters')
  if (/\s/.test(text)) throw new InvalidAddressError(text, 'contains white space')
  if (text.startsWith('/')) {
    if (options.allowMultiaddr !== true) throw new InvalidAddressError(text, 'a multiaddr is not accepted here; write host:port')
    return fromMultiaddr(text, options)
  }
  // A bare IPv6 literal takes the default port.
  const { host, portText } = splitHostPort(text, reason => new InvalidAddressError(text, reason))
  return { ...checkHost(text, host, options), port: portText === undefined ? options.defaultPort : checkPort(text, portText, options) }
}

function checkHost (text: string, host: string, options: ParseHostPortOptions): Pick<HostPort, 'host' | 'hostKind'> {
  if (host === '') throw new InvalidAddressError(text, 'no host before ":" (write 0.0.0.0:port or [::]:port for every interface)')
  const ip = normaliseIpAddress(host)
  if (ip !== undefined) return { host: ip.address, hostKind: ip.kind }
  const name = host.toLowerCase()
  if (options.allowNames === true && isHostName(name)) return { host: name, hostKind: 'dns' }
  throw new InvalidAddressError(text, options.allowNames === true
    ? `${JSON.stringify(host)} is neither an IP address nor a host name`
    : `${JSON.stringify(host)} is not an IP address`)
}

function checkPort (text: string, portText: string, options: ParseHostPortOptions): number {
  if (!/^[0-9]{1,5}$/.test(portText)) throw new InvalidAddressError(text, `port ${JSON.stringify(portText)} is not a number`)
  const port = Number(portText)
  const min = options.allowPortZero === true ? 0 : 1
  if (port < min || port > 65535) throw new InvalidAddressError(text, `port ${port} is outside ${min}–65535`)
  return port
}

function fromMultiaddr (text: string, options: ParseHostPortOptions): HostPort {
  let components
  try {
    components = multiaddr(text).getComponents()
  } catch (e) {
    throw new InvalidAddressError(text, `not a valid multiaddr: ${(e as Error).message}`)
  }
  const [ip, tcp, ...rest] = components
  if ((ip?.name !== 'ip4' && ip?.name !== 'ip6') || ip.value === undefined || tcp?.name !== 'tcp' || tcp.value === undefined || rest.length > 0) {
    throw new InvalidAddressError(text, 'a listen multiaddr is /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>')
  }
  return { ...checkHost(text, ip.value, options), port: checkPort(text, tcp.value, options) }
}

/** `1.2.3.4:9732`, `[::1]:9732`, `localhost:8732`: the form Octez writes and `parseHostPort` reads. */
export function formatHostPort (a: HostPort): string {
  return `${a.hostKind === 'ip6' ? `[${a.host}]` : a.host}:${a.port}`
}

/** The TCP multiaddr of an IP address (`/ip4/0.0.0.0/tcp/9732`), as libp2p listens on it. */
export function hostPortToMultiaddr (a: HostPort): string {
  if (a.hostKind === 'dns') throw new InvalidAddressError(formatHostPort(a), 'a listen address must be an IP address')
  return `/${a.hostKind}/${a.host}/tcp/${a.port}`
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback (a: HostPort): boolean {
  if (a.hostKind === 'ip4') return a.host.startsWith('127.')
  if (a.hostKind === 'ip6') return a.host === '::1'
  return a.host === 'localhost'
}
