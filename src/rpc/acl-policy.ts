import { lookup } from 'node:dns/promises'
import { normaliseIpAddress } from '../net/point.ts'
import { isHostName, splitHostPort } from '../net/host-port.ts'
import { blacklist, whitelist, type AclPolicy } from './acl-rules.ts'

/**
 * Which access policy each RPC listener applies, as Octez chooses it (`RPC_server.Acl` in
 * `src/lib_rpc_http/RPC_server.ml`, `rpc.acl` in `src/bin_node/node_config_file.ml`): the first
 * `rpc.acl` entry whose address is the listen address (and whose port is the listen port, or that
 * names no port) gives the policy; without one, a loopback listener allows everything and any
 * other gets the secure default. Addresses are compared as IPs, names resolved once at start, and
 * `0.0.0.0` / `::` are addresses like any other (they match only entries written for them).
 */

/**
 * Octez's `secure` whitelist restricted to the routes tzp2p serves: public chain and protocol
 * reads, head monitoring, the greylist keys, the node's own id, and injection. Peer, point and
 * connection lists, bans, greylist clearing, disconnection, `/metrics` and the status page (it
 * shows peers' addresses) stay on loopback unless a policy opens them.
 */
export const OCTEZ_SECURE_RULES: readonly string[] = [
  'GET /chains/*/blocks/*',
  'GET /chains/*/blocks/*/context/**',
  'GET /chains/*/blocks/*/hash',
  'GET /chains/*/blocks/*/header',
  'GET /chains/*/blocks/*/operation_hashes',
  'GET /chains/*/blocks/*/operations',
  'GET /chains/*/chain_id',
  'GET /chains/*/mempool/pending_operations',
  'GET /monitor/**',
  'GET /network/greylist/ips',
  'GET /network/greylist/peers',
  'GET /network/self',
  'GET /protocols',
  'GET /protocols/*',
  'POST /injection/operation'
]

/** Public reads of tzp2p's own that Octez's list has no entry for. */
export const TZP2P_SECURE_RULES: readonly string[] = [
  'GET /chains/*/protocols',
  'GET /health',
  'GET /health/ready'
]

export const SECURE_POLICY: AclPolicy = whitelist([...OCTEZ_SECURE_RULES, ...TZP2P_SECURE_RULES])
export const ALLOW_ALL_POLICY: AclPolicy = blacklist([])

/** An `rpc.acl` address: `host[:port]`, `[ipv6][:port]`; no port means every port. */
export interface AclAddress {
  /** As written. */
  text: string
  hostKind: 'ip4' | 'ip6' | 'dns'
  /** Canonical IP text, or the lower-case name. */
  host: string
  port?: number
}

export interface RpcAclEntry {
  address: AclAddress
  policy: AclPolicy
}

export class InvalidAclAddressError extends Error {
  override readonly name = 'InvalidAclAddressError'
  readonly text: string
  readonly reason: string
  constructor (text: string, reason: string) {
    super(`invalid RPC access address ${JSON.stringify(text)}: ${reason}`)
    this.text = text
    this.reason = reason
  }
}

export function parseAclAddress (text: string): AclAddress {
  if (text.length === 0) throw new InvalidAclAddressError(text, 'empty address')
  if (/\s/.test(text)) throw new InvalidAclAddressError(text, 'contains white space')
  const { host, portText } = splitHostPort(text, reason => new InvalidAclAddressError(text, reason))
  let port: number | undefined
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) throw new InvalidAclAddressError(text, `port ${JSON.stringify(portText)} is not a number from 0 to 65535`)
    port = Number(portText)
  }
  const ip = normaliseIpAddress(host)
  const name = host.toLowerCase()
  if (ip === undefined && !isHostName(name)) {
    throw new InvalidAclAddressError(text, `${JSON.stringify(host)} is neither an IP address nor a host name`)
  }
  return { text, hostKind: ip?.kind ?? 'dns', host: ip?.address ?? name, ...(port !== undefined ? { port } : {}) }
}

export function isLoopbackIp (ip: string): boolean {
  const c = normaliseIpAddress(ip)
  return c !== undefined && (c.kind === 'ip4' ? c.address.startsWith('127.') : c.address === '::1')
}

/** Octez's `Acl.default`: everything on a loopback listener, the secure whitelist elsewhere. */
export function defaultPolicy (ip: string): AclPolicy {
  return isLoopbackIp(ip) ? ALLOW_ALL_POLICY : SECURE_POLICY
}

/** Where a listener's policy came from, to name it in answers and logs. */
export type PolicySource =
  | { kind: 'configured', entry: RpcAclEntry }
  | { kind: 'default-loopback' }
  | { kind: 'default-secure' }

export interface ListenerPolicy {
  /** `ip:port` of the listener. */
  listener: string
  policy: AclPolicy
  source: PolicySource
}

/** An entry with its address resolved to IPs (one for an IP literal). */
export interface ResolvedAclEntry {
  entry: RpcAclEntry
  ips: string[]
}

/** Octez's `find_policy`: the first entry at this IP whose port is this port or unset. */
export function findPolicy (entries: readonly ResolvedAclEntry[], ip: string, port: number): RpcAclEntry | undefined {
  const address = normaliseIpAddress(ip)?.address ?? ip
  return entries.find(e => e.ips.includes(address) && (e.entry.address.port === undefined || e.entry.address.port === port))?.entry
}

export type ResolveName = (name: string) => Promise<string[]>

/** Every address a name resolves to; a name that does not resolve matches nothing (as in Octez). */
export const resolveWithSystem: ResolveName = async name => {
  try {
    return (await lookup(name, { all: true })).map(a => a.address)
  } catch {
    return []
  }
}

/** Octez's `resolve_domain_names`: names become the IPs they resolve to, once, at start. */
export async function resolveAclEntries (entries: readonly RpcAclEntry[], resolveName: ResolveName = resolveWithSystem): Promise<ResolvedAclEntry[]> {
  return await Promise.all(entries.map(async entry => {
    const ips = entry.address.hostKind === 'dns' ? await resolveName(entry.address.host) : [entry.address.host]
    return { entry, ips: ips.map(ip => normaliseIpAddress(ip)?.address ?? ip) }
  }))
}

/** The policy of a listener bound to `ip:port`. */
export function policyForListener (entries: readonly ResolvedAclEntry[], ip: string, port: number): ListenerPolicy {
  const c = normaliseIpAddress(ip)
  const listener = c?.kind === 'ip6' ? `[${c.address}]:${port}` : `${c?.address ?? ip}:${port}`
  const entry = findPolicy(entries, ip, port)
  if (entry !== undefined) return { listener, policy: entry.policy, source: { kind: 'configured', entry } }
  return isLoopbackIp(ip)
    ? { listener, policy: ALLOW_ALL_POLICY, source: { kind: 'default-loopback' } }
    : { listener, policy: SECURE_POLICY, source: { kind: 'default-secure' } }
}

/** One line saying what a listener's policy is, for logs. */
export function describePolicy (p: ListenerPolicy): string {
  if (p.source.kind === 'default-loopback') return 'every RPC (the default on a loopback address)'
  if (p.source.kind === 'default-secure') return 'public reads and injection only (the default on a non-loopback address)'
  const { address, policy } = p.source.entry
  return policy.kind === 'whitelist'
    ? `only the ${policy.rules.length} rules of the whitelist for ${address.text} (rpc.acl)`
    : `every RPC but the ${policy.rules.length} rules of the blacklist for ${address.text} (rpc.acl)`
}

/**
 * Octez's `put_policy` (what `--allow-all-rpc` does): replaces the entry for the same address and
 * port, else appends one. Addresses are compared as parsed, not resolved.
 */
export function putPolicy<T extends { address: string }> (entries: readonly T[], entry: T): T[] {
  const key = (text: string): string => {
    const a = parseAclAddress(text)
    return `${a.host}|${a.port ?? ''}`
  }
  const k = key(entry.address)
  const i = entries.findIndex(e => key(e.address) === k)
  return i < 0 ? [...entries, entry] : entries.map((e, j) => j === i ? entry : e)
}
