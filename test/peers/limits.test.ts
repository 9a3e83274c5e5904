import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_P2P_LIMITS, DEFAULT_RECONNECTION_CONFIG, InvalidConnectionsError, InvalidLimitsError,
  inboundConnectionCap, limitsFromConnections, maintenanceBounds, validateP2pLimits, type P2pLimits
} from '../../src/peers/limits.ts'

test('defaults are Octez P2p_limits.default and Point_reconnection_config.default', () => {
  const d = DEFAULT_P2P_LIMITS
  assert.equal(d.minConnections, 10)
  assert.equal(d.expectedConnections, 50)
  assert.equal(d.maxConnections, 100)
  assert.equal(d.maintenanceIdleTimeMs, 120_000)
  assert.equal(d.swapLingerMs, 30_000)
  assert.equal(d.authenticationTimeoutMs, 5_000)
  assert.equal(d.connectionTimeoutMs, 10_000)
  assert.equal(d.maxIncomingConnections, 20)
  assert.equal(d.backlog, 20)
  assert.deepEqual(d.maxKnownPoints, { max: 400, target: 300 })
  assert.deepEqual(d.maxKnownPeerIds, { max: 400, target: 300 })
  assert.equal(d.peerGreylistSize, 1023)
  assert.equal(d.ipGreylistSizeInKilobytes, 2048)
  assert.equal(d.ipGreylistCleanupDelayMs, 86_400_000)
  assert.equal(d.greylistTimeoutMs, 86_400_000)
  assert.deepEqual({ ...DEFAULT_RECONNECTION_CONFIG }, { initialDelayMs: 1000, factor: 1.2, increaseCapMs: 172_800_000, disconnectionDelayMs: 60_000 })
  validateP2pLimits(d)
})

test('maintenance bounds of the defaults are 23/36/68/84 (Octez make_maintenance_bounds)', () => {
  assert.deepEqual(maintenanceBounds(DEFAULT_P2P_LIMITS), { minThreshold: 23, minTarget: 36, maxTarget: 68, maxThreshold: 84 })
})

test('maintenance bounds use integer thirds of the gaps', () => {
  // min 2 / expected 4 / max 6: gaps of 2 give steps of 0, so thresholds equal the limits.
  assert.deepEqual(maintenanceBounds({ minConnections: 2, expectedConnections: 4, maxConnections: 6 }),
    { minThreshold: 2, minTarget: 2, maxTarget: 6, maxThreshold: 6 })
  // --connections 20 → 10/20/30: steps 3 and 3.
  assert.deepEqual(maintenanceBounds({ minConnections: 10, expectedConnections: 20, maxConnections: 30 }),
    { minThreshold: 13, minTarget: 16, maxTarget: 24, maxThreshold: 27 })
  // Property: min ≤ minThreshold ≤ minTarget ≤ expected ≤ maxTarget ≤ maxThreshold ≤ max for all valid inputs.
  for (let min = 0; min <= 12; min++) {
    for (let expected = min; expected <= 20; expected++) {
      for (let max = Math.max(expected, 1); max <= 30; max++) {
        const b = maintenanceBounds({ minConnections: min, expectedConnections: expected, maxConnections: max })
        assert.ok(min <= b.minThreshold && b.minThreshold <= b.minTarget && b.minTarget <= expected &&
          expected <= b.maxTarget && b.maxTarget <= b.maxThreshold && b.maxThreshold <= max, JSON.stringify({ min, expected, max, b }))
      }
    }
  }
})

test('inconsistent limits name the offending key', () => {
  assert.throws(() => maintenanceBounds({ minConnections: 60, expectedConnections: 50, maxConnections: 100 }),
    (e: Error) => e instanceof InvalidLimitsError && e.key === 'min-connections' && /min-connections \(60\) is greater than expected-connections \(50\)/.test(e.message))
  assert.throws(() => maintenanceBounds({ minConnections: 1, expectedConnections: 50, maxConnections: 40 }),
    (e: Error) => e instanceof InvalidLimitsError && e.key === 'expected-connections')
  assert.throws(() => validateP2pLimits({ ...DEFAULT_P2P_LIMITS, maxKnownPoints: { max: 300, target: 400 } }),
    (e: Error) => e instanceof InvalidLimitsError && e.key === 'max_known_points' && /GC target \(400\) is greater than the table size \(300\)/.test(e.message))
  assert.throws(() => validateP2pLimits({ ...DEFAULT_P2P_LIMITS, maxKnownPeerIds: { max: 90, target: 80 } }),
    (e: Error) => e instanceof InvalidLimitsError && e.key === 'max_known_peer_ids' && /lower than max-connections/.test(e.message))
  assert.throws(() => validateP2pLimits({ ...DEFAULT_P2P_LIMITS, connectionTimeoutMs: 0 }),
    (e: Error) => e instanceof InvalidLimitsError && e.key === 'connection-timeout')
  // Every problem is reported, not just the first.
  assert.throws(() => validateP2pLimits({ ...DEFAULT_P2P_LIMITS, minConnections: 70, expectedConnections: 60, maxConnections: 50 }),
    (e: Error) => e instanceof InvalidLimitsError && e.problems.length === 2 && e.problems[0].key === 'min-connections' && e.problems[1].key === 'expected-connections')
})

test('--connections N maps as Octez: N/2, N, 3N/2, tables 8N and 6N, threshold max(N/4, 2)', () => {
  const cases: Array<[number, number, number, number, number, number]> = [
    // n, min, expected, max, table, threshold
    [1, 1, 1, 1, 8, 2],
    [2, 1, 2, 3, 16, 2],
    [7, 3, 7, 10, 56, 2],
    [10, 5, 10, 15, 80, 2],
    [50, 25, 50, 75, 400, 12],
    [100, 50, 100, 150, 800, 25]
  ]
  for (const [n, min, expected, max, table, threshold] of cases) {
    const { limits, synchronisationThreshold } = limitsFromConnections(n)
    assert.deepEqual([limits.minConnections, limits.expectedConnections, limits.maxConnections], [min, expected, max], `N=${n}`)
    assert.deepEqual(limits.maxKnownPoints, { max: table, target: Math.floor(table / 4) * 3 })
    assert.deepEqual(limits.maxKnownPeerIds, limits.maxKnownPoints)
    assert.equal(synchronisationThreshold, threshold)
    validateP2pLimits(limits)
  }
  // N = 7: 8N = 56, 56/4*3 = 42 (integer division first, as Octez).
  assert.deepEqual(limitsFromConnections(7).limits.maxKnownPoints, { max: 56, target: 42 })
  // An explicit peer table size or synchronisation threshold wins.
  const explicit = limitsFromConnections(10, DEFAULT_P2P_LIMITS, { peerTableSize: 101, synchronisationThreshold: 7 })
  assert.deepEqual(explicit.limits.maxKnownPoints, { max: 101, target: 75 })
  assert.equal(explicit.synchronisationThreshold, 7)
  // Other limits are kept from the base.
  assert.equal(limitsFromConnections(10).limits.swapLingerMs, 30_000)
})

test('--connections refuses 0, fractions and more than 100 unless allowed', () => {
  assert.throws(() => limitsFromConnections(0), InvalidConnectionsError)
  assert.throws(() => limitsFromConnections(2.5), InvalidConnectionsError)
  assert.throws(() => limitsFromConnections(101), (e: Error) => e instanceof InvalidConnectionsError && /limited to 100/.test(e.message))
  assert.equal(limitsFromConnections(101, DEFAULT_P2P_LIMITS, { allowAbove100: true }).limits.maxConnections, 151)
})

test('the inbound cap keeps the reserved outbound slots free', () => {
  // Defaults: maintenance accepts up to 84; 10 slots (min-connections) stay for our own dials.
  assert.equal(inboundConnectionCap(DEFAULT_P2P_LIMITS), 74)
  assert.equal(inboundConnectionCap({ ...DEFAULT_P2P_LIMITS, reservedOutboundConnections: 30 }), 54)
  const small: P2pLimits = { ...DEFAULT_P2P_LIMITS, minConnections: 2, expectedConnections: 4, maxConnections: 6 }
  assert.equal(inboundConnectionCap(small), 4)
  assert.equal(inboundConnectionCap({ ...small, reservedOutboundConnections: 6 }), 0)
})
