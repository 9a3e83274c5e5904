import { z } from 'zod'
import { b58Decode, type Base58Kind } from '../crypto/index.ts'
import { DEFAULT_P2P_PORT, parsePoint } from '../net/point.ts'
import { decodePublicKey, decodePublicKeyHash } from '../protocol/demo/keys.ts'
import { MAX_CONNECTION_MESSAGE_BYTES, MIN_CONNECTION_MESSAGE_BYTES } from '../handshake/channel.ts'
import { parseHostPort, type ParseHostPortOptions } from './addresses.ts'
import { parseAclRule } from '../rpc/acl-rules.ts'
import { parseAclAddress } from '../rpc/acl-policy.ts'

/**
 * The value types of the config file, as zod schemas over JSON values. Each checks the value
 * completely (a peer address parses, a hash has the right prefix and checksum) so that an error
 * points at the exact key; converting to runtime types happens in `load.ts`.
 */

export const DEFAULT_RPC_PORT = 8732
export const DEFAULT_METRICS_PORT = 9932
export const DEFAULT_DNS_PORT = 53

/** A chain name must fit in a connection message with everything else it carries. */
export const MAX_CHAIN_NAME_BYTES = MAX_CONNECTION_MESSAGE_BYTES - MIN_CONNECTION_MESSAGE_BYTES

/** A string checked by `check`, which returns why it is wrong or undefined. */
function checkedString (check: (s: string) => string | undefined): z.ZodType<string> {
  return z.string().superRefine((s, ctx) => {
    const reason = check(s)
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason })
  })
}

function reasonOf (f: () => unknown): string | undefined {
  try {
    f()
    return undefined
  } catch (e) {
    return (e as { reason?: string }).reason ?? cleanDecodeMessage((e as Error).message)
  }
}

/** A base58 `DecodeError` message without its codec prefix and the repeated input. */
function cleanDecodeMessage (message: string): string {
  return message.replace(/^\w+ at offset \d+: /, '').replace(/^invalid base58check string ".*": /, 'bad base58check: ')
}

const B58_NAMES: Partial<Record<Base58Kind, string>> = {
  blockHash: 'block hash (B…)',
  protocolHash: 'protocol hash (P…)'
}

/** Why `s` is not a base58check string of `kind`, or undefined. */
export function b58Problem (kind: Base58Kind, s: string): string | undefined {
  try {
    b58Decode(kind, s)
    return undefined
  } catch (e) {
    return `not a ${B58_NAMES[kind] ?? kind}: ${cleanDecodeMessage((e as Error).message)}`
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Seconds since the epoch of an RFC 3339 date, or undefined if it is not one. */
export function parseRfc3339 (s: string): number | undefined {
  const m = RFC3339.exec(s)
  if (m === null) return undefined
  const [, , month, day, hour, minute, second] = m.map(Number)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined
  const ms = Date.parse(s.replace(' ', 'T'))
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

export const bool = z.boolean()
export const uint8 = z.number().int().min(0).max(255)
export const uint16 = z.number().int().min(0).max(65535)
export const positiveUint16 = z.number().int().min(1).max(65535)
export const positiveUint8 = z.number().int().min(1).max(255)
export const seconds = z.number().finite().positive()
export const nonEmptyString = z.string().min(1)
export const stringList = z.array(z.string())
/** Octez keys that tzp2p accepts so an Octez file loads, but that change nothing here. */
export const anything = z.unknown()

export const peerAddress = checkedString(s => reasonOf(() => parsePoint(s)))
export const peerAddressList = z.array(peerAddress)

export function hostPortString (options: ParseHostPortOptions): z.ZodType<string> {
  return checkedString(s => reasonOf(() => parseHostPort(s, options)))
}

export const p2pListenAddress = hostPortString({ defaultPort: DEFAULT_P2P_PORT, allowPortZero: true, allowMultiaddr: true })
/** Octez's wire listens on an IP and port (no multiaddr: it is not libp2p). */
export const octezListenAddress = hostPortString({ defaultPort: DEFAULT_P2P_PORT, allowPortZero: true })
/** An Octez-wire peer: host (IP or DNS name) and port, 9732 by default. */
export const octezPeerList = z.array(hostPortString({ defaultPort: DEFAULT_P2P_PORT, allowNames: true }))
export const rpcListenAddress = hostPortString({ defaultPort: DEFAULT_RPC_PORT, allowPortZero: true, allowNames: true })
export const metricsListenAddress = hostPortString({ defaultPort: DEFAULT_METRICS_PORT, allowPortZero: true, allowNames: true })
export const dnsResolverAddress = hostPortString({ defaultPort: DEFAULT_DNS_PORT })
export const dnsResolverList = z.array(dnsResolverAddress)

/** `rpc.acl` (Octez's shape): the address an entry applies to, and its rules. */
export const rpcAclAddress = checkedString(s => reasonOf(() => parseAclAddress(s)))
export const rpcAclRules = z.array(checkedString(s => reasonOf(() => parseAclRule(s))))

export const blockHash = checkedString(s => b58Problem('blockHash', s))
export const protocolHash = checkedString(s => b58Problem('protocolHash', s))

/** RFC 3339 (`2025-01-01T00:00:00Z`) or whole seconds since the epoch. */
export const timestamp = z.union([
  checkedString(s => parseRfc3339(s) === undefined ? 'not an RFC 3339 date' : undefined),
  z.number().int().min(0).max(253402300799)
])

export const chainName = checkedString(s => {
  const bytes = new TextEncoder().encode(s).length
  if (bytes === 0) return 'empty'
  return bytes > MAX_CHAIN_NAME_BYTES ? `${bytes} bytes is longer than ${MAX_CHAIN_NAME_BYTES}` : undefined
})

export const powDifficulty = z.number().finite().min(0).max(256)

export const ed25519PublicKey = checkedString(s => reasonOf(() => decodePublicKey(s)))
export const ed25519PublicKeyHash = checkedString(s => reasonOf(() => decodePublicKeyHash(s)))
/** A demo v3 activation commitment's blinded public key hash (`btz1…`). */
export const blindedPublicKeyHash = checkedString(s => b58Problem('blindedPublicKeyHash', s))

const INT64_MAX = (1n << 63n) - 1n
/** A balance: digits in a string (Octez writes mutez as strings) or a safe integer. */
export const balance = z.union([
  checkedString(s => !/^[0-9]{1,19}$/.test(s) ? 'not a whole number of units' : BigInt(s) > INT64_MAX ? 'larger than 2^63 - 1' : undefined),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
])

/** pino's levels plus Octez's `notice` and `warning`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'notice', 'warn', 'warning', 'error', 'fatal', 'silent'] as const
export type LogLevelName = typeof LOG_LEVELS[number]
export const logLevel = z.enum(LOG_LEVELS)

/** Installed demo versions, the genesis one first (1, or 3 for a chain that runs v3 from genesis); numbers or their text (flags). */
export const demoVersions = z.array(z.coerce.number().int().min(1).max(3)).min(1).superRefine((list, ctx) => {
  if (list[0] !== 1 && list[0] !== 3) ctx.addIssue({ code: 'custom', message: 'must start with 1 or 3: the first version runs from genesis' })
  if (new Set(list).size !== list.length) ctx.addIssue({ code: 'custom', message: 'lists a version twice' })
})

/** `"<protocol>@<level>"` or `{ "level": n, "protocol": "…" }`; the protocol is `demo-v<N>` or a protocol hash. */
const activationProtocol = checkedString(s => /^demo-v\d+$/.test(s) ? undefined : b58Problem('protocolHash', s)?.replace(/^not a /, 'neither demo-v<N> nor a '))
export const activation = z.union([
  z.strictObject({ level: z.number().int().min(1).max(0x7fffffff), protocol: activationProtocol }),
  checkedString(s => {
    const m = /^([^@]+)@(\d+)$/.exec(s)
    if (m === null) return 'expected <protocol>@<level>, e.g. demo-v2@20'
    if (!(Number(m[2]) >= 1 && Number(m[2]) <= 0x7fffffff)) return `level ${m[2]} must be from 1 to 2147483647`
    const p = activationProtocol.safeParse(m[1])
    return p.success ? undefined : p.error.issues[0].message
  })
])
export const activations = z.array(activation)

export const PROTOCOL_NAMES = ['demo', 'accept-all', 'shell'] as const
export type ProtocolName = typeof PROTOCOL_NAMES[number]
export const protocolName = z.enum(PROTOCOL_NAMES)

/** Octez's `(max, gc target)` pair of a table bound. */
export const boundPair = z.tuple([uint16, uint16])

export { OCTEZ_LIMITS_WITHOUT_EFFECT as OCTEZ_LIMIT_KEYS_WITHOUT_EFFECT } from './limits-json.ts'

export const backoffFactor = z.number().finite().min(1)
export const bakeInterval = z.number().finite().min(0.1).max(86400)
export const prettyLog = z.union([z.boolean(), z.literal('auto')])
