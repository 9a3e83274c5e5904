import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { PushTiming } from '../../src/gossip/push.ts'

/**
 * What bench:gossip reports of pushes (`protocols/gossip.md` §4.6): which peer first announced each
 * new block, and after another peer's announcement, when the push and the fetch's answer came.
 */
describe('push timing', () => {
  it('counts first announcements by sender and, after another peer, the push and the fetch answer', () => {
    const timing = new PushTiming()
    timing.announced('a', true)
    timing.announced('b', false)
    timing.announced('b', true)
    timing.pushed('b')
    timing.answered('b')
    timing.answered('b')
    timing.pushed('a')
    assert.equal(timing.stats.firstFromPusher, 1)
    assert.equal(timing.stats.firstFromOther, 1)
    assert.equal(timing.stats.pushAfterOther, 1)
    assert.equal(timing.stats.answerAfterOther, 1)
    assert.equal(timing.stats.pushBeforeAnswer, 1)
    assert.ok(timing.stats.pushAfterOtherMs >= 0 && timing.stats.answerAfterOtherMs >= timing.stats.pushAfterOtherMs)
  })
})
