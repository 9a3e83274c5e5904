import { CODE_IP4, CODE_IP6, CODE_TCP, multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The IP literal of a multiaddr's first ip4/ip6 component, if it has one (DNS names have none). */
export function ipOfMultiaddr (ma: Multiaddr): string | undefined {
  for (const c of ma.getComponents()) {
    if ((c.code === CODE_IP4 || c.code === CODE_IP6) && c.value !== undefined) return c.value
  }
  return undefined
}

/** The TCP port of a multiaddr, if it has one. */
export function tcpPortOfMultiaddr (ma: Multiaddr): number | undefined {
  const c = ma.getComponents().find(c => c.code === CODE_TCP)
  return c?.value === undefined ? undefined : Number(c.value)
}

/**
 * The same multiaddr, each component value a fresh copy of itself.
 *
 * Why: `@multiformats/multiaddr` parses a string one character at a time (`stringToComponents`
 * appends each character to the value), so in V8 a value of 13 characters or more (a /p2p peer
 * id, an IPv6 address, a DNS name) is a tree of concatenated strings, one 32-byte node per
 * character: about 1.2 KiB for a /p2p id, held as long as the multiaddr is. libp2p builds every
 * connection's remote address that way (its `Connection` appends `/p2p/<peer>`), and a node keeps
 * it for the connection's life. A copy made by decoding the value's UTF-8 bytes is one flat string;
 * a value the round trip would change (a lone surrogate) is kept as it was.
 */
export function withCopiedValues (ma: Multiaddr): Multiaddr {
  return multiaddr(ma.getComponents().map(c => {
    if (c.value === undefined) return c
    const copy = Buffer.from(c.value, 'utf8').toString('utf8')
    return copy === c.value ? { ...c, value: copy } : c
  }))
}
