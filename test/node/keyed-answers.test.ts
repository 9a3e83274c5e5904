import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { KeyedAnswers } from '../../src/node/keyed-answers.ts'
import type { P2pMessage } from '../../src/wire/p2p-message.ts'

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const request = (...blocks: number[]): P2pMessage => ({ tag: 'Get_operations_for_blocks', keys: blocks.map(b => ({ blockHash: hash(b), validationPass: 0 })) })
const answer = (block: number): P2pMessage => ({ tag: 'Operations_for_blocks', blockHash: hash(block), validationPass: 0, path: [], operations: [] })

describe('answers matched by key on a channel without a per-request end', () => {
  it('ends a request when all its keys are answered, whatever the order, and tells late from unrequested answers', async () => {
    const channel = new KeyedAnswers()
    const first = channel.request([request(1, 2)], async () => {}, AbortSignal.timeout(30_000))
    const second = channel.request([request(3)], async () => {}, AbortSignal.timeout(30_000))
    assert.equal(channel.pending, 2)
    assert.equal(channel.deliver(answer(3)), 'delivered')
    assert.equal(channel.deliver(answer(2)), 'delivered')
    assert.equal(channel.deliver(answer(2)), 'unrequested', 'a key is answered once')
    assert.equal(channel.deliver(answer(1)), 'delivered')
    assert.deepEqual((await first).map(a => a.tag === 'Operations_for_blocks' ? a.blockHash[0] : -1), [2, 1])
    assert.equal((await second).length, 1)
    assert.equal(channel.pending, 0)
    assert.equal(channel.deliver(answer(9)), 'unrequested')
  })

  it('returns what arrived when the deadline passes; a later answer for that key is late, not a fault', async () => {
    const channel = new KeyedAnswers()
    const deadline = new AbortController()
    const pending = channel.request([request(1, 2)], async () => {}, deadline.signal)
    assert.equal(channel.deliver(answer(1)), 'delivered')
    deadline.abort()
    assert.equal((await pending).length, 1)
    assert.equal(channel.deliver(answer(2)), 'late')
    assert.equal(channel.deliver(answer(2)), 'unrequested', 'late once only')
  })

  it('ends every waiting request when the channel closes', async () => {
    const channel = new KeyedAnswers()
    const pending = channel.request([request(1)], async () => {}, AbortSignal.timeout(30_000))
    channel.close()
    assert.deepEqual(await pending, [])
    // Requests made after the close do not wait either.
    assert.deepEqual(await channel.request([request(2)], async () => {}, AbortSignal.timeout(30_000)), [])
  })

  it('a request whose write fails ends with that error and leaves nothing waiting', async () => {
    const channel = new KeyedAnswers()
    await assert.rejects(channel.request([request(1)], () => Promise.reject(new Error('stream reset')), AbortSignal.timeout(30_000)), /stream reset/)
    assert.equal(channel.pending, 0)
  })
})
