import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HashKeyPool, KnownHashes } from '../../src/gossip/known-hashes.ts'

test('known-hash caches keep their own bound and contents while sharing one key pool', () => {
  const pool = new HashKeyPool(4)
  const a = new KnownHashes(2, pool)
  const b = new KnownHashes(3, pool)
  for (const k of ['h1', 'h2', 'h3']) { a.set(k, true); b.set(k, true) }
  // Each cache evicts its oldest entry at its own capacity.
  assert.equal(a.size, 2)
  assert.equal(a.has('h1'), false)
  assert.equal(a.has('h3'), true)
  assert.equal(b.size, 3)
  assert.equal(b.has('h1'), true)
  // The pool holds each key once, whatever the number of caches.
  assert.equal(pool.size, 3)
  // Past the pool's bound, caches still answer by value for keys the pool has dropped.
  for (const k of ['h4', 'h5', 'h6']) a.set(k, true)
  assert.equal(pool.size, 4)
  assert.equal(b.has('h1'), true)
  assert.equal(a.has('h6'), true)
})

test('the pool returns its first copy of a key', () => {
  const pool = new HashKeyPool(8)
  const first = pool.intern('ab'.repeat(32))
  assert.equal(pool.intern('ab'.repeat(32)), first)
  assert.equal(pool.size, 1)
})
