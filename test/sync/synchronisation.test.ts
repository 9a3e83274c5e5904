import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { SynchronisationHeuristic } from '../../src/sync/synchronisation.ts'
import { RateLimiter } from '../../src/stream/rate-limit.ts'

describe('bootstrapped heuristic (Octez synchronisation_heuristic)', () => {
  const now = 1_700_000_000_000
  const clock = (): number => now

  it('is bootstrapped at once with a threshold of 0', () => {
    assert.equal(new SynchronisationHeuristic({ threshold: 0, now: clock }).bootstrapped, true)
  })

  it('needs `threshold` distinct peers with a block no older than the latency', () => {
    const h = new SynchronisationHeuristic({ threshold: 2, latencySeconds: 50, now: clock })
    assert.equal(h.update('a', now / 1000 - 10), false)
    assert.equal(h.update('a', now / 1000 - 5), false, 'the same peer twice counts once')
    assert.deepEqual(h.status(), { synchronised: false })
    assert.equal(h.update('b', now / 1000 - 49), true)
    assert.deepEqual(h.status(), { synchronised: true, chainStuck: false })
    assert.equal(h.bootstrapped, true)
  })

  it('is not synchronised while the threshold-th best peer is behind the latency', () => {
    const h = new SynchronisationHeuristic({ threshold: 2, latencySeconds: 50, now: clock })
    h.update('a', now / 1000)
    h.update('b', now / 1000 - 500)
    assert.deepEqual(h.status(), { synchronised: false })
    assert.equal(h.bootstrapped, false)
  })

  it('calls a chain stuck when the peers all sit on one old block, and counts that as synchronised', () => {
    const h = new SynchronisationHeuristic({ threshold: 3, latencySeconds: 50, now: clock })
    for (const p of ['a', 'b', 'c']) h.update(p, 1_600_000_000)
    assert.deepEqual(h.status(), { synchronised: true, chainStuck: true })
    assert.equal(h.bootstrapped, true)
  })

  it('stays bootstrapped once it was', () => {
    const h = new SynchronisationHeuristic({ threshold: 1, latencySeconds: 50, now: clock })
    h.update('a', now / 1000)
    h.forget('a')
    assert.deepEqual(h.status(), { synchronised: false })
    assert.equal(h.bootstrapped, true)
  })
})

describe('per-peer rate limits (token buckets)', () => {
  it('grants a burst, then the rate, per peer and per kind', () => {
    let t = 0
    const limits = new RateLimiter({ Get_current_branch: { rate: 0.25, burst: 2 } }, () => t)
    assert.equal(limits.take('a', 'Get_current_branch'), true)
    assert.equal(limits.take('a', 'Get_current_branch'), true)
    assert.equal(limits.take('a', 'Get_current_branch'), false)
    assert.equal(limits.take('b', 'Get_current_branch'), true, 'another peer has its own bucket')
    assert.equal(limits.take('a', 'Other'), true, 'unlimited kinds pass')
    t += 3999
    assert.equal(limits.take('a', 'Get_current_branch'), false)
    t += 1
    assert.equal(limits.take('a', 'Get_current_branch'), true, 'one more every 4 s')
  })
})
