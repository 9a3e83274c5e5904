import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KnownHashTable } from '../../src/gossip/known-hashes.ts'

test('each peer knows only the hashes marked for it', () => {
  const table = new KnownHashTable(8)
  const a = table.join()
  const b = table.join()
  a.set('h1', true)
  b.set('h2', true)
  assert.equal(a.has('h1'), true)
  assert.equal(a.has('h2'), false)
  assert.equal(b.has('h1'), false)
  assert.equal(b.has('h2'), true)
  // A hash is stored once, however many peers know it.
  b.set('h1', true)
  assert.equal(b.has('h1'), true)
  assert.equal(table.size, 2)
})

test('the table forgets its oldest hashes past its capacity, for every peer', () => {
  const table = new KnownHashTable(3)
  const a = table.join()
  const b = table.join()
  for (const k of ['h1', 'h2', 'h3']) a.set(k, true)
  b.set('h3', true)
  b.set('h4', true)
  assert.equal(table.size, 3)
  assert.equal(a.has('h1'), false)
  assert.equal(a.has('h2'), true)
  assert.equal(a.has('h3'), true)
  assert.equal(b.has('h3'), true)
  // The row h1 had is reused for h4 with none of h1's bits.
  assert.equal(a.has('h4'), false)
  assert.equal(b.has('h4'), true)
})

test('a peer that leaves knows nothing more, and the next one given its column starts empty', () => {
  const table = new KnownHashTable(4)
  const a = table.join()
  const b = table.join()
  a.set('h1', true)
  b.set('h1', true)
  a.leave()
  assert.equal(a.has('h1'), false)
  a.set('h2', true)
  assert.equal(a.has('h2'), false)
  assert.equal(table.peers, 1)
  const c = table.join()
  assert.equal(c.has('h1'), false)
  assert.equal(b.has('h1'), true)
  a.leave()
  assert.equal(table.peers, 2)
})

test('more peers than a row word holds keep their bits as the rows widen', () => {
  const table = new KnownHashTable(16)
  const peers = []
  // Each peer marks its hash as it joins: columns 0..31 are written before the table widens to
  // 64 columns, then 32..63 before it widens to 128.
  for (let i = 0; i < 100; i++) {
    const p = table.join()
    if (i % 3 === 0) p.set(`h${i % 16}`, true)
    peers.push(p)
  }
  peers.forEach((p, i) => {
    for (let k = 0; k < 16; k++) assert.equal(p.has(`h${k}`), i % 3 === 0 && i % 16 === k, `peer ${i}, h${k}`)
  })
  assert.equal(table.peers, 100)
})

test('a capacity that is not a positive integer is refused', () => {
  assert.throws(() => new KnownHashTable(0), RangeError)
  assert.throws(() => new KnownHashTable(1.5), RangeError)
})
