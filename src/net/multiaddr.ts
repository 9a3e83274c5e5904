import { CODE_IP4, CODE_IP6, CODE_TCP } from '@multiformats/multiaddr'
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
