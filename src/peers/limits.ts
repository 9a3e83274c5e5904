/**
 * Connection limits of the P2P layer, with Octez's defaults (`P2p_limits.default` in
 * `src/lib_p2p_services/p2p_limits.ml`), plus the few settings tzp2p adds for what Octez does not
 * do (an inbound share cap and a per-IP inbound rate), their validation and what they imply
 * (maintenance bounds, the inbound cap, `--connections N`). Each field's doc names its JSON key in
 * the node's config file; `config/limits-json.ts` reads and writes that `p2p.limits` object.
 *
 * Durations are milliseconds here and seconds in JSON, as Octez writes them.
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
