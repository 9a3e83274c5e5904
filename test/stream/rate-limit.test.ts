/**
 * Per-peer token buckets (src/stream/rate-limit.ts), on a clock the test moves: each kind has its
 * own bucket per peer, tokens come back at the kind's rate, a run of refusals reaching twice the
 * burst marks flooding once, and a forgotten peer starts again with a full bucket.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RateLimiter } from '../../src/stream/rate-limit.ts'

describe('RateLimiter', () => {
  it('keeps a bucket per peer and kind, refilled at the kind\'s rate', () => {
    let now = 1_000
    const limiter = new RateLimiter({ headers: { rate: 2, burst: 3 }, operations: { rate: 10, burst: 1 } }, () => now)
    for (let i = 0; i < 3; i++) assert.equal(limiter.admit('alice', 'headers'), 'granted')
    assert.equal(limiter.admit('alice', 'headers'), 'dropped', 'the burst is spent')
    assert.equal(limiter.admit('bob', 'headers'), 'granted', 'another peer has its own bucket')
    assert.equal(limiter.admit('alice', 'operations'), 'granted', 'another kind has its own bucket')
    assert.equal(limiter.admit('alice', 'operations'), 'dropped')
    assert.equal(limiter.take('alice', 'unlimited'), true, 'a kind without a limit is free')
    now += 500
    assert.equal(limiter.admit('alice', 'headers'), 'granted', 'one token back after half a second at 2/s')
    assert.equal(limiter.admit('alice', 'headers'), 'dropped')
    assert.equal(limiter.admit('alice', 'headers', 0.5), 'dropped', 'what is left is under the cost')
  })

  it('marks flooding once, when refusals reach twice the burst, and forgets a peer', () => {
    const limiter = new RateLimiter({ sync: { rate: 1, burst: 2 } }, () => 0)
    assert.equal(limiter.admit('carol', 'sync', 2), 'granted')
    const refusals = [1, 2, 3, 4, 5].map(() => limiter.admit('carol', 'sync'))
    assert.deepEqual(refusals, ['dropped', 'dropped', 'dropped', 'flooding', 'dropped'])
    limiter.forget('carol')
    assert.equal(limiter.admit('carol', 'sync', 2), 'granted', 'a forgotten peer starts with a full bucket')
  })

  it('refuses a spec without a positive rate or a burst of at least one', () => {
    assert.throws(() => new RateLimiter({ bad: { rate: 0, burst: 1 } }), RangeError)
    assert.throws(() => new RateLimiter({ bad: { rate: 1, burst: 0.5 } }), RangeError)
  })
})
