import { z } from 'zod'

/**
 * Connection limits of the P2P layer, with Octez's defaults (`P2p_limits.default`) and Octez's JSON
 * names (the `p2p.limits` object of the node's config file), plus the few settings tzp2p adds for
 * what Octez does not do (an inbound share cap and a per-IP inbound rate).
 *
 * Durations are milliseconds in TypeScript and seconds in JSON, as Octez writes them.
 */
export interface P2pLimits {
  /** `connection-timeout`: time allowed to open the TCP connection of a dial. */
  connectionTimeoutMs: number
  /** `authentication-timeout`: time allowed for the Tezos handshake once connected. */
  authenticationTimeoutMs: number
  /** `greylist-timeout`: Octez uses it only as the default of `ip_greylist_cleanup_delay`. */
  greylistTimeoutMs: number
  /** `maintenance-idle-time`: period of the maintenance loop; null disables maintenance. */
  maintenanceIdleTimeMs: number | null
  /** `min-connections`: below this, maintenance runs at once. */
  minConnections: number
  /** `expected-connections`: the number maintenance aims for. */
  expectedConnections: number
  /** `max-connections`: at or above this, maintenance prunes at once. */
  maxConnections: number
  /** `backlog`: listen(2) backlog. */
  backlog: number
  /** `max-incoming-connections`: simultaneous inbound connections still in the handshake. */
  maxIncomingConnections: number
  /** `max_known_points`: size of the point table and the size a GC brings it back to; null = unbounded. */
  maxKnownPoints: TableBound | null
  /** `max_known_peer_ids`: the same for the peer table. */
  maxKnownPeerIds: TableBound | null
  /** `peer_greylist_size`: greylisted peer ids kept. */
  peerGreylistSize: number
  /** `ip_greylist_size_in_kilobytes`: Octez's IP greylist Bloom filter size. */
  ipGreylistSizeInKilobytes: number
  /** `ip_greylist_cleanup_delay`: how long an IP stays greylisted. */
  ipGreylistCleanupDelayMs: number
  /** `swap-linger`: minimum time between two accepted swaps; null disables swapping. */
  swapLingerMs: number | null
  /**
   * `time-between-looking-for-peers` (tzp2p key; a constant of 5 s in Octez's `p2p.ml`): how long
   * maintenance waits for new points after asking connected peers for more, before trying again.
   */
  timeBetweenLookingForPeersMs: number
  /**
   * `reserved-outbound-connections` (tzp2p): connection slots that only our own dials may fill;
   * null means "as many as `min-connections`". See `inboundConnectionCap`.
   */
  reservedOutboundConnections: number | null
  /**
   * `inbound-connections-per-ip-per-second` (tzp2p): inbound connections accepted per second from
   * one IP; null disables the check. See `InboundRateLimiter`.
   */
  inboundConnectionsPerIpPerSecond: number | null
}

/** A table bound, as Octez's `(max, gc target)` pair. */
export interface TableBound {
  max: number
  target: number
}

const SECOND = 1000

export const DEFAULT_P2P_LIMITS: Readonly<P2pLimits> = Object.freeze({
  connectionTimeoutMs: 10 * SECOND,
  authenticationTimeoutMs: 5 * SECOND,
  greylistTimeoutMs: 86_400 * SECOND,
  maintenanceIdleTimeMs: 120 * SECOND,
  minConnections: 10,
  expectedConnections: 50,
  maxConnections: 100,
  backlog: 20,
  maxIncomingConnections: 20,
  maxKnownPoints: Object.freeze({ max: 400, target: 300 }),
  maxKnownPeerIds: Object.freeze({ max: 400, target: 300 }),
  peerGreylistSize: 1023,
  ipGreylistSizeInKilobytes: 2048,
  ipGreylistCleanupDelayMs: 86_400 * SECOND,
  swapLingerMs: 30 * SECOND,
  timeBetweenLookingForPeersMs: 5 * SECOND,
  reservedOutboundConnections: null,
  // js-libp2p's connection manager uses the same default for its per-host inbound threshold.
  inboundConnectionsPerIpPerSecond: 5
})

/** Octez's default P2P port, used when an address gives none. */
export const DEFAULT_P2P_PORT = 9732

/**
 * Octez's `Point_reconnection_config`: after a failed dial the point waits `delay`, and the next
 * delay is `delay × factor`, capped; after a connection that ran, the point waits
 * `disconnection-delay` and the delay starts again from `initial-delay`.
 */
export interface ReconnectionConfig {
  initialDelayMs: number
  factor: number
  increaseCapMs: number
  disconnectionDelayMs: number
}

export const DEFAULT_RECONNECTION_CONFIG: Readonly<ReconnectionConfig> = Object.freeze({
  initialDelayMs: 1 * SECOND,
  factor: 1.2,
  increaseCapMs: 172_800 * SECOND,
  disconnectionDelayMs: 60 * SECOND
})

/** One problem found in a limits object, named by its JSON key. */
export interface LimitsProblem {
  key: string
  message: string
}

/** Inconsistent or malformed limits. `problems` lists every one found; the message names them all. */
export class InvalidLimitsError extends Error {
  override readonly name = 'InvalidLimitsError'
  readonly problems: readonly LimitsProblem[]
  /** JSON key of the first problem, e.g. `min-connections`. */
  readonly key: string

  constructor (problems: readonly LimitsProblem[]) {
    super(`invalid p2p limits: ${problems.map(p => `p2p.limits.${p.key}: ${p.message}`).join('; ')}`)
    this.problems = problems
    this.key = problems[0]?.key ?? ''
  }
}

/**
 * Checks the relations Octez's config validation checks (min ≤ expected ≤ max, GC target ≤ table
 * size, max connections ≤ GC target) and that every number is in range. Throws one
 * `InvalidLimitsError` naming every offending key.
 */
export function validateP2pLimits (limits: P2pLimits): void {
  const problems: LimitsProblem[] = []
  const need = (ok: boolean, key: string, message: string): void => { if (!ok) problems.push({ key, message }) }
  const count = (v: number, key: string, min = 0): void =>
    need(Number.isInteger(v) && v >= min && v <= 65535, key, `must be an integer from ${min} to 65535, got ${v}`)
  const duration = (v: number | null, key: string): void => {
    if (v !== null) need(Number.isFinite(v) && v > 0, key, `must be a positive duration, got ${v / SECOND} s`)
  }
  count(limits.minConnections, 'min-connections')
  count(limits.expectedConnections, 'expected-connections')
  count(limits.maxConnections, 'max-connections', 1)
  count(limits.backlog, 'backlog', 1)
  count(limits.maxIncomingConnections, 'max-incoming-connections', 1)
  count(limits.peerGreylistSize, 'peer_greylist_size', 1)
  count(limits.ipGreylistSizeInKilobytes, 'ip_greylist_size_in_kilobytes', 1)
  duration(limits.connectionTimeoutMs, 'connection-timeout')
  duration(limits.authenticationTimeoutMs, 'authentication-timeout')
  duration(limits.greylistTimeoutMs, 'greylist-timeout')
  duration(limits.maintenanceIdleTimeMs, 'maintenance-idle-time')
  duration(limits.ipGreylistCleanupDelayMs, 'ip_greylist_cleanup_delay')
  duration(limits.swapLingerMs, 'swap-linger')
  duration(limits.timeBetweenLookingForPeersMs, 'time-between-looking-for-peers')
  need(limits.minConnections <= limits.expectedConnections, 'min-connections',
    `min-connections (${limits.minConnections}) is greater than expected-connections (${limits.expectedConnections})`)
  need(limits.expectedConnections <= limits.maxConnections, 'expected-connections',
    `expected-connections (${limits.expectedConnections}) is greater than max-connections (${limits.maxConnections})`)
  for (const [key, bound] of [['max_known_points', limits.maxKnownPoints], ['max_known_peer_ids', limits.maxKnownPeerIds]] as const) {
    if (bound === null) continue
    count(bound.max, key, 1)
    count(bound.target, key)
    need(bound.target <= bound.max, key, `the GC target (${bound.target}) is greater than the table size (${bound.max})`)
    need(limits.maxConnections <= bound.target, key,
      `the GC target (${bound.target}) is lower than max-connections (${limits.maxConnections}); connected peers could not all be kept`)
  }
  if (limits.reservedOutboundConnections !== null) {
    count(limits.reservedOutboundConnections, 'reserved-outbound-connections')
    need(limits.reservedOutboundConnections <= limits.maxConnections, 'reserved-outbound-connections',
      `reserved-outbound-connections (${limits.reservedOutboundConnections}) is greater than max-connections (${limits.maxConnections})`)
  }
  if (limits.inboundConnectionsPerIpPerSecond !== null) {
    need(Number.isFinite(limits.inboundConnectionsPerIpPerSecond) && limits.inboundConnectionsPerIpPerSecond > 0,
      'inbound-connections-per-ip-per-second', `must be a positive number, got ${limits.inboundConnectionsPerIpPerSecond}`)
  }
  if (problems.length > 0) throw new InvalidLimitsError(problems)
}

/** The four thresholds of Octez's maintenance (`P2p_maintenance.bounds`). */
export interface MaintenanceBounds {
  /** Below this, maintenance dials. */
  minThreshold: number
  /** Dialling aims for at least this many connections… */
  minTarget: number
  /** …and at most this many; pruning comes back down to it. */
  maxTarget: number
  /** Above this, maintenance prunes. */
  maxThreshold: number
}

/**
 * Octez's `make_maintenance_bounds`: thirds of the gaps between min, expected and max, with integer
 * division. The defaults 10/50/100 give 23/36/68/84.
 */
export function maintenanceBounds (limits: Pick<P2pLimits, 'minConnections' | 'expectedConnections' | 'maxConnections'>): MaintenanceBounds {
  const { minConnections: min, expectedConnections: expected, maxConnections: max } = limits
  const problems: LimitsProblem[] = []
  for (const [key, v] of [['min-connections', min], ['expected-connections', expected], ['max-connections', max]] as const) {
    if (!Number.isInteger(v) || v < 0) problems.push({ key, message: `must be a non-negative integer, got ${v}` })
  }
  if (min > expected) problems.push({ key: 'min-connections', message: `min-connections (${min}) is greater than expected-connections (${expected})` })
  if (expected > max) problems.push({ key: 'expected-connections', message: `expected-connections (${expected}) is greater than max-connections (${max})` })
  if (problems.length > 0) throw new InvalidLimitsError(problems)
  const stepMin = Math.floor((expected - min) / 3)
  const stepMax = Math.floor((max - expected) / 3)
  return {
    minThreshold: min + stepMin,
    minTarget: min + 2 * stepMin,
    maxTarget: max - 2 * stepMax,
    maxThreshold: max - stepMax
  }
}

/**
 * How many inbound connections may be open at once. Octez has no such cap, so a node whose slots
 * are all taken by peers that dialled it never chooses a single peer itself — the eclipse setting
 * Bitcoin Core prevents by keeping a fixed number of outbound slots apart (about 10 of its 125),
 * and go-libp2p's resource manager by limiting inbound connections separately from outbound ones.
 * tzp2p does the same: inbound connections may fill the slots up to the point where maintenance
 * stops accepting (`maxThreshold`) minus the reserved outbound slots (by default `min-connections`,
 * so the urgent minimum can always be reached by our own dials).
 *
 * The default reservation never exceeds half of `maxThreshold`: every connection is inbound at one
 * end, so nodes that all reserved every slot (min = max) could never connect to each other. An
 * explicit `reserved-outbound-connections` is taken as it is.
 */
export function inboundConnectionCap (limits: P2pLimits): number {
  const { maxThreshold } = maintenanceBounds(limits)
  const reserved = limits.reservedOutboundConnections ?? Math.min(limits.minConnections, Math.floor(maxThreshold / 2))
  return Math.max(0, maxThreshold - reserved)
}

export class InvalidConnectionsError extends RangeError {
  override readonly name = 'InvalidConnectionsError'
}

export interface ConnectionsOptions {
  /** Octez's `--disable-config-validation`: allows more than 100 connections. */
  allowAbove100?: boolean
  /** Octez's `--peer-table-size`; when absent `--connections N` sets it to 8N. */
  peerTableSize?: number
  /** An explicit `--synchronisation-threshold` wins over the one derived from N. */
  synchronisationThreshold?: number
}

export interface ConnectionsSettings {
  limits: P2pLimits
  /** The shell's synchronisation threshold that `--connections` implies. */
  synchronisationThreshold: number
}

/**
 * Octez's `--connections N`: min/expected/max = N/2, N, 3N/2 (min = 1 when N = 1, so a one-peer
 * node still wants its peer), point and peer tables of 8N with a GC target of (8N/4)·3, and a
 * synchronisation threshold of max(N/4, 2). Octez refuses N > 100 unless config validation is off.
 */
export function limitsFromConnections (n: number, base: P2pLimits = DEFAULT_P2P_LIMITS, options: ConnectionsOptions = {}): ConnectionsSettings {
  if (!Number.isInteger(n) || n < 1) throw new InvalidConnectionsError(`--connections must be a positive integer, got ${n}`)
  if (n > 100 && options.allowAbove100 !== true) {
    throw new InvalidConnectionsError(`--connections is limited to 100 (got ${n}); more connections degrade the node, set the limits in the config file to go beyond`)
  }
  const tableSize = options.peerTableSize ?? 8 * n
  if (!Number.isInteger(tableSize) || tableSize < 1) throw new InvalidConnectionsError(`peer table size must be a positive integer, got ${tableSize}`)
  const table = { max: tableSize, target: Math.floor(tableSize / 4) * 3 }
  const minConnections = n === 1 ? 1 : Math.floor(n / 2)
  const limits: P2pLimits = {
    ...base,
    minConnections,
    expectedConnections: n,
    maxConnections: Math.floor((3 * n) / 2),
    maxKnownPoints: { ...table },
    maxKnownPeerIds: { ...table }
  }
  return { limits, synchronisationThreshold: options.synchronisationThreshold ?? Math.max(Math.floor(n / 4), 2) }
}

// --- JSON (the `p2p.limits` object) -------------------------------------------------------------

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

// --- per-IP inbound rate --------------------------------------------------------------------------

export interface InboundRateLimiterOptions {
  /** Connections allowed per IP within one `windowMs`. */
  perWindow: number
  windowMs?: number
  /** IPs tracked at once; the least recently seen is forgotten beyond it (a flood of addresses cannot grow memory). */
  maxTrackedIps?: number
  now?: () => number
}

/**
 * Per-IP inbound connection rate (a sliding window per address). Octez has no such check beyond
 * its greylist; js-libp2p's connection manager refuses more than a few inbound connections per
 * second from one host, and tzp2p does the same in its gater so a single host cannot churn
 * handshakes (each one costs a Noise handshake and a Tezos PoW check). Callers pass normalised
 * IPs; `allow` records the attempt when it returns true.
 */
export class InboundRateLimiter {
  private readonly perWindow: number
  private readonly windowMs: number
  private readonly maxTracked: number
  private readonly now: () => number
  /** IP → times of recent accepted connections, oldest first; Map order = least recently seen first. */
  private readonly recent = new Map<string, number[]>()

  constructor (options: InboundRateLimiterOptions) {
    if (!(Number.isInteger(options.perWindow) && options.perWindow > 0)) throw new RangeError(`perWindow must be a positive integer, got ${options.perWindow}`)
    this.perWindow = options.perWindow
    this.windowMs = options.windowMs ?? SECOND
    this.maxTracked = options.maxTrackedIps ?? 4096
    this.now = options.now ?? Date.now
  }

  /** The limiter `limits` asks for, or undefined when the check is disabled. */
  static fromLimits (limits: P2pLimits, now?: () => number): InboundRateLimiter | undefined {
    const rate = limits.inboundConnectionsPerIpPerSecond
    if (rate === null) return undefined
    // A fractional rate (0.5/s) becomes one connection per 2 s.
    return rate >= 1
      ? new InboundRateLimiter({ perWindow: Math.floor(rate), windowMs: SECOND, now })
      : new InboundRateLimiter({ perWindow: 1, windowMs: Math.round(SECOND / rate), now })
  }

  allow (ip: string): boolean {
    const now = this.now()
    const times = (this.recent.get(ip) ?? []).filter(t => now - t < this.windowMs)
    this.recent.delete(ip)
    if (times.length >= this.perWindow) {
      this.recent.set(ip, times)
      return false
    }
    times.push(now)
    this.recent.set(ip, times)
    while (this.recent.size > this.maxTracked) {
      const oldest = this.recent.keys().next().value
      if (oldest === undefined) break
      this.recent.delete(oldest)
    }
    return true
  }

  get trackedIps (): number {
    return this.recent.size
  }
}
