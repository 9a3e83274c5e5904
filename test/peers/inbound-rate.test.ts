import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_P2P_LIMITS } from '../../src/peers/limits.ts'
import { InboundRateLimiter } from '../../src/peers/inbound-rate.ts'

test('the per-IP inbound rate limiter allows N per window per IP and forgets old IPs', () => {
  let now = 1_000_000
  const limiter = new InboundRateLimiter({ perWindow: 2, windowMs: 1000, maxTrackedIps: 3, now: () => now })
  assert.equal(limiter.allow('1.1.1.1'), true)
  assert.equal(limiter.allow('1.1.1.1'), true)
  assert.equal(limiter.allow('1.1.1.1'), false)
  assert.equal(limiter.allow('2.2.2.2'), true, 'another IP has its own budget')
  now += 999
  assert.equal(limiter.allow('1.1.1.1'), false)
  now += 1
  assert.equal(limiter.allow('1.1.1.1'), true, 'the window slid past the first two')
  for (const ip of ['3.3.3.3', '4.4.4.4', '5.5.5.5']) limiter.allow(ip)
  assert.equal(limiter.trackedIps, 3)
  const fromDefaults = InboundRateLimiter.fromLimits(DEFAULT_P2P_LIMITS, () => now)
  assert.ok(fromDefaults !== undefined)
  for (let i = 0; i < 5; i++) assert.equal(fromDefaults.allow('9.9.9.9'), true)
  assert.equal(fromDefaults.allow('9.9.9.9'), false)
  assert.equal(InboundRateLimiter.fromLimits({ ...DEFAULT_P2P_LIMITS, inboundConnectionsPerIpPerSecond: null }), undefined)
  const slow = InboundRateLimiter.fromLimits({ ...DEFAULT_P2P_LIMITS, inboundConnectionsPerIpPerSecond: 0.5 }, () => now)
  assert.ok(slow !== undefined)
  assert.equal(slow.allow('8.8.8.8'), true)
  now += 1999
  assert.equal(slow.allow('8.8.8.8'), false)
  now += 1
  assert.equal(slow.allow('8.8.8.8'), true)
})
