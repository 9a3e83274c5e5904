import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { Deadline } from '../../src/stream/deadline.ts'

test('a deadline aborts its signal with a TimeoutError when it passes', async () => {
  const deadline = new Deadline(20)
  assert.equal(deadline.signal.aborted, false)
  await once(deadline.signal, 'abort')
  assert.equal((deadline.signal.reason as DOMException).name, 'TimeoutError')
})

test('a cleared deadline never aborts its signal', async () => {
  const cleared = new Deadline(20)
  cleared.clear()
  // A second deadline of the same length, made after: once it has fired, the first would have.
  const later = new Deadline(20)
  await once(later.signal, 'abort')
  assert.equal(cleared.signal.aborted, false)
})
