import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_P2P_LIMITS, InvalidLimitsError } from '../../src/peers/limits.ts'
import { p2pLimitsFromJson, p2pLimitsToJson } from '../../src/config/limits-json.ts'

test('p2p.limits JSON uses Octez names and seconds, round trips, and rejects bad values by key', () => {
  const json = {
    'min-connections': 2,
    'expected-connections': 4,
    'max-connections': 6,
    'maintenance-idle-time': 1.5,
    'swap-linger': null,
    max_known_points: [100, 50],
    'greylist-timeout': 60
  }
  const limits = p2pLimitsFromJson(json)
  assert.equal(limits.minConnections, 2)
  assert.equal(limits.maxConnections, 6)
  assert.equal(limits.maintenanceIdleTimeMs, 1500)
  assert.equal(limits.swapLingerMs, null)
  assert.deepEqual(limits.maxKnownPoints, { max: 100, target: 50 })
  // The IP greylist delay follows greylist-timeout when not given, as in Octez.
  assert.equal(limits.ipGreylistCleanupDelayMs, 60_000)
  assert.equal(limits.connectionTimeoutMs, 10_000)
  const again = p2pLimitsFromJson(p2pLimitsToJson(limits))
  assert.deepEqual(again, limits)
  assert.deepEqual(p2pLimitsFromJson({}), { ...DEFAULT_P2P_LIMITS })

  assert.throws(() => p2pLimitsFromJson({ 'min-conections': 3 }),
    (e: Error) => e instanceof InvalidLimitsError && e.key === 'min-conections' && /unknown key/.test(e.message))
  assert.throws(() => p2pLimitsFromJson({ 'max-connections': 70000 }), (e: Error) => e instanceof InvalidLimitsError && e.key === 'max-connections')
  assert.throws(() => p2pLimitsFromJson({ 'connection-timeout': -1 }), (e: Error) => e instanceof InvalidLimitsError && e.key === 'connection-timeout')
  assert.throws(() => p2pLimitsFromJson({ 'min-connections': 60 }), (e: Error) => e instanceof InvalidLimitsError && e.key === 'min-connections')
  assert.throws(() => p2pLimitsFromJson('nope'), InvalidLimitsError)

  // Octez keys without effect on libp2p load and are reported.
  const ignored: string[] = []
  p2pLimitsFromJson({ 'max-download-speed': 100, 'read-buffer-size': 4096 }, { onIgnoredKey: k => ignored.push(k) })
  assert.deepEqual(ignored.sort(), ['max-download-speed', 'read-buffer-size'])
})
