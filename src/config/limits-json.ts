import { z } from 'zod'
import { DEFAULT_P2P_LIMITS, InvalidLimitsError, validateP2pLimits, type P2pLimits, type TableBound } from '../peers/limits.ts'

/**
 * The `p2p.limits` object of the node's config file (Octez's names, as in
 * `src/lib_node_config/config_file.ml`; durations in seconds), read into and written from `P2pLimits`.
 */

const SECOND = 1000
const seconds = z.number().finite().positive()
const uint16 = z.number().int().min(0).max(65535)
const uint8 = z.number().int().min(0).max(255)
const bound = z.tuple([uint16, uint16])

/**
 * Keys Octez accepts that have no effect in tzp2p: bandwidth limits, read/write queue sizes and the
 * chunk size belong to Octez's own socket scheduler; on libp2p, yamux's flow control plays that role.
 * They are accepted (so an Octez config file loads) and reported through `onIgnoredKey`.
 */
export const OCTEZ_LIMITS_WITHOUT_EFFECT = [
  'max-download-speed', 'max-upload-speed', 'read-buffer-size', 'read-queue-size', 'write-queue-size',
  'incoming-app-message-queue-size', 'incoming-message-queue-size', 'outgoing-message-queue-size', 'binary-chunks-size'
] as const

const limitsJsonSchema = z.strictObject({
  // Octez's JSON default for an absent `connection-timeout` is the authentication timeout (5 s), not
  // the 10 s of `P2p_limits.default`; tzp2p uses 10 s in both cases so the value never depends on
  // whether a `limits` object happens to exist.
  'connection-timeout': seconds.optional(),
  'authentication-timeout': seconds.optional(),
  'greylist-timeout': seconds.optional(),
  'maintenance-idle-time': seconds.nullable().optional(),
  'min-connections': uint16.optional(),
  'expected-connections': uint16.optional(),
  'max-connections': uint16.optional(),
  backlog: uint8.optional(),
  'max-incoming-connections': uint8.optional(),
  max_known_points: bound.nullable().optional(),
  max_known_peer_ids: bound.nullable().optional(),
  peer_greylist_size: uint16.optional(),
  ip_greylist_size_in_kilobytes: uint16.optional(),
  ip_greylist_cleanup_delay: seconds.optional(),
  'swap-linger': seconds.nullable().optional(),
  'time-between-looking-for-peers': seconds.optional(),
  'reserved-outbound-connections': uint16.nullable().optional(),
  'inbound-connections-per-ip-per-second': z.number().finite().positive().nullable().optional(),
  ...Object.fromEntries(OCTEZ_LIMITS_WITHOUT_EFFECT.map(k => [k, z.unknown().optional()]))
})

const ms = (s: number): number => Math.round(s * SECOND)
const msOrNull = (s: number | null): number | null => s === null ? null : ms(s)
const toBound = (b: [number, number] | null): TableBound | null => b === null ? null : { max: b[0], target: b[1] }

export interface ParseLimitsOptions {
  /** Values for keys the JSON leaves out (default: Octez's defaults). */
  base?: P2pLimits
  onIgnoredKey?: (key: string) => void
}

/**
 * Reads a `p2p.limits` JSON object (Octez names, durations in seconds) over `base`, then validates
 * the result. Unknown keys are refused (a typo must not silently keep a default).
 */
export function p2pLimitsFromJson (json: unknown, options: ParseLimitsOptions = {}): P2pLimits {
  const parsed = limitsJsonSchema.safeParse(json)
  if (!parsed.success) {
    throw new InvalidLimitsError(parsed.error.issues.map(issue => {
      const key = issue.path.length > 0
        ? String(issue.path[0])
        : issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(object)'
      return { key, message: issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message }
    }))
  }
  const j = parsed.data
  for (const key of OCTEZ_LIMITS_WITHOUT_EFFECT) if (key in j) options.onIgnoredKey?.(key)
  const base = options.base ?? DEFAULT_P2P_LIMITS
  const limits: P2pLimits = {
    connectionTimeoutMs: j['connection-timeout'] !== undefined ? ms(j['connection-timeout']) : base.connectionTimeoutMs,
    authenticationTimeoutMs: j['authentication-timeout'] !== undefined ? ms(j['authentication-timeout']) : base.authenticationTimeoutMs,
    greylistTimeoutMs: j['greylist-timeout'] !== undefined ? ms(j['greylist-timeout']) : base.greylistTimeoutMs,
    maintenanceIdleTimeMs: j['maintenance-idle-time'] !== undefined ? msOrNull(j['maintenance-idle-time']) : base.maintenanceIdleTimeMs,
    minConnections: j['min-connections'] ?? base.minConnections,
    expectedConnections: j['expected-connections'] ?? base.expectedConnections,
    maxConnections: j['max-connections'] ?? base.maxConnections,
    backlog: j.backlog ?? base.backlog,
    maxIncomingConnections: j['max-incoming-connections'] ?? base.maxIncomingConnections,
    maxKnownPoints: j.max_known_points !== undefined ? toBound(j.max_known_points) : base.maxKnownPoints,
    maxKnownPeerIds: j.max_known_peer_ids !== undefined ? toBound(j.max_known_peer_ids) : base.maxKnownPeerIds,
    peerGreylistSize: j.peer_greylist_size ?? base.peerGreylistSize,
    ipGreylistSizeInKilobytes: j.ip_greylist_size_in_kilobytes ?? base.ipGreylistSizeInKilobytes,
    // Octez: the IP greylist delay defaults to the greylist timeout.
    ipGreylistCleanupDelayMs: j.ip_greylist_cleanup_delay !== undefined
      ? ms(j.ip_greylist_cleanup_delay)
      : j['greylist-timeout'] !== undefined ? ms(j['greylist-timeout']) : base.ipGreylistCleanupDelayMs,
    swapLingerMs: j['swap-linger'] !== undefined ? msOrNull(j['swap-linger']) : base.swapLingerMs,
    timeBetweenLookingForPeersMs: j['time-between-looking-for-peers'] !== undefined ? ms(j['time-between-looking-for-peers']) : base.timeBetweenLookingForPeersMs,
    reservedOutboundConnections: j['reserved-outbound-connections'] !== undefined ? j['reserved-outbound-connections'] : base.reservedOutboundConnections,
    inboundConnectionsPerIpPerSecond: j['inbound-connections-per-ip-per-second'] !== undefined ? j['inbound-connections-per-ip-per-second'] : base.inboundConnectionsPerIpPerSecond
  }
  validateP2pLimits(limits)
  return limits
}

/** The JSON form of `limits` (Octez names, seconds), as `p2pLimitsFromJson` reads it. */
export function p2pLimitsToJson (limits: P2pLimits): Record<string, unknown> {
  const s = (v: number): number => v / SECOND
  const sOrNull = (v: number | null): number | null => v === null ? null : s(v)
  const pair = (b: TableBound | null): [number, number] | null => b === null ? null : [b.max, b.target]
  return {
    'connection-timeout': s(limits.connectionTimeoutMs),
    'authentication-timeout': s(limits.authenticationTimeoutMs),
    'greylist-timeout': s(limits.greylistTimeoutMs),
    'maintenance-idle-time': sOrNull(limits.maintenanceIdleTimeMs),
    'min-connections': limits.minConnections,
    'expected-connections': limits.expectedConnections,
    'max-connections': limits.maxConnections,
    backlog: limits.backlog,
    'max-incoming-connections': limits.maxIncomingConnections,
    max_known_points: pair(limits.maxKnownPoints),
    max_known_peer_ids: pair(limits.maxKnownPeerIds),
    peer_greylist_size: limits.peerGreylistSize,
    ip_greylist_size_in_kilobytes: limits.ipGreylistSizeInKilobytes,
    ip_greylist_cleanup_delay: s(limits.ipGreylistCleanupDelayMs),
    'swap-linger': sOrNull(limits.swapLingerMs),
    'time-between-looking-for-peers': s(limits.timeBetweenLookingForPeersMs),
    'reserved-outbound-connections': limits.reservedOutboundConnections,
    'inbound-connections-per-ip-per-second': limits.inboundConnectionsPerIpPerSecond
  }
}
