import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Requester, RequestCancelledError, RequestTimeoutError } from '../../src/gossip/requester.ts'
import { InvalidAnswerError } from '../../src/sync/checks.ts'

/** A transport over a table of what each peer holds; records every request. */
function network (holdings: Record<string, string[]>, options: { lie?: string } = {}) {
  const requests: Array<{ peer: string, keys: string[] }> = []
  let concurrent = 0
  let maxConcurrent = 0
  const request = async (peer: string, keys: string[]): Promise<Map<string, string>> => {
    requests.push({ peer, keys: [...keys] })
    concurrent++
    maxConcurrent = Math.max(maxConcurrent, concurrent)
    await new Promise(resolve => setImmediate(resolve))
    concurrent--
    if (peer === options.lie) throw new InvalidAnswerError(peer, 'a wrong answer')
    return new Map(keys.filter(k => holdings[peer]?.includes(k)).map(k => [k, `${k}@${peer}`]))
  }
  return { requests, request, max: () => maxConcurrent }
}

const keys = (n: number, prefix = 'k'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('requester', () => {
  it('asks at most 10 keys per request and spreads the requests over the peers', async () => {
    const all = keys(45)
    const net = network({ a: all, b: all, c: all })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a', 'b', 'c'] })
    const got = await Promise.all(all.map(async k => await r.fetch(k)))
    assert.deepEqual(got.map(g => g.value.split('@')[0]), all)
    assert.ok(net.requests.every(q => q.keys.length <= 10 && q.keys.length > 0))
    assert.equal(net.requests.reduce((n, q) => n + q.keys.length, 0), 45, 'each key asked once')
    assert.deepEqual(new Set(net.requests.map(q => q.peer)), new Set(['a', 'b', 'c']))
  })

  it('never has the same key in flight twice: a second fetch waits for the first', async () => {
    const net = network({ a: ['x'] })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a'] })
    const [one, two] = await Promise.all([r.fetch('x'), r.fetch('x')])
    assert.equal(one.value, 'x@a')
    assert.equal(two.value, 'x@a')
    assert.equal(net.requests.length, 1)
  })

  it('keeps at most maxInFlightPerPeer requests in flight to a peer', async () => {
    const all = keys(200)
    const net = network({ a: all })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a'], maxInFlightPerPeer: 3 })
    await Promise.all(all.map(async k => await r.fetch(k)))
    assert.ok(net.max() <= 3, `at most 3 at once, saw ${net.max()}`)
    assert.equal(net.requests.length, 20)
  })

  it('asks another peer at once for a key a peer did not answer, preferred peers first', async () => {
    const net = network({ a: [], b: ['x'], c: ['x'] })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a', 'b', 'c'] })
    const got = await r.fetch('x', { preferred: ['a'] })
    assert.equal(net.requests[0].peer, 'a')
    assert.notEqual(got.peer, 'a')
    assert.equal(net.requests.length, 2)
  })

  it('never asks an excluded peer', async () => {
    const net = network({ a: ['x'], b: ['x'] })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a', 'b'] })
    const got = await r.fetch('x', { exclude: ['a'] })
    assert.equal(got.peer, 'b')
    assert.deepEqual(net.requests.map(q => q.peer), ['b'])
  })

  it('reports a wrong answer and retries the key elsewhere', async () => {
    const net = network({ a: ['x'], b: ['x'] }, { lie: 'a' })
    const faults: Array<[string, string]> = []
    const r = new Requester<string, string>({
      name: 'test', keyId: k => k, request: net.request, peers: () => ['a', 'b'],
      onRequestError: (peer, err) => { faults.push([peer, err.name]) }
    })
    const got = await r.fetch('x', { preferred: ['a'] })
    assert.deepEqual(faults, [['a', 'InvalidAnswerError']])
    assert.equal(got.peer, 'b')
  })

  it('once every peer was asked, re-asks after a delay growing ×1.5', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const net = network({ a: [] })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a'], initialDelayMs: 1000, timeoutMs: 60_000 })
    const pending = r.fetch('x')
    pending.catch(() => {})
    const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve)) }
    await settle()
    assert.equal(net.requests.length, 1)
    t.mock.timers.tick(999); await settle()
    assert.equal(net.requests.length, 1)
    t.mock.timers.tick(1); await settle()
    assert.equal(net.requests.length, 2)
    t.mock.timers.tick(1499); await settle()
    assert.equal(net.requests.length, 2)
    t.mock.timers.tick(1); await settle()
    assert.equal(net.requests.length, 3)
    t.mock.timers.tick(2250); await settle()
    assert.equal(net.requests.length, 4)
    r.stop()
    await assert.rejects(pending, RequestCancelledError)
  })

  it('fails a key nobody answers by its deadline', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const net = network({ a: [] })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => ['a'], timeoutMs: 5000 })
    const pending = r.fetch('x')
    pending.catch(() => {})
    t.mock.timers.tick(5000)
    await assert.rejects(pending, (err: Error) => err instanceof RequestTimeoutError && /x: no peer answered within 5000 ms/.test(err.message))
    assert.equal(r.pending, 0)
  })

  it('waits for a peer when there is none, and goes on when one connects', async () => {
    const peers: string[] = []
    const net = network({ a: ['x'] })
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: net.request, peers: () => peers })
    const pending = r.fetch('x')
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(net.requests.length, 0)
    peers.push('a')
    r.peersChanged()
    assert.equal((await pending).peer, 'a')
    r.stop()
  })

  it('hedges a key in flight to another peer that can answer at once: the first answer settles it', async () => {
    // a holds its answer until released; b answers at once (as a peer answers from what it pushed).
    const release = Promise.withResolvers<void>()
    const asked: string[] = []
    const request = async (peer: string, keys: string[]): Promise<Map<string, string>> => {
      asked.push(peer)
      if (peer === 'a') await release.promise
      return new Map(keys.map(k => [k, `${k}@${peer}`]))
    }
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request, peers: () => ['a', 'b'] })
    const fetched = r.fetch('x', { preferred: ['a'] })
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(asked, ['a'])
    assert.equal(r.hedge('y', 'b'), false, 'a key not pending is not hedged')
    assert.equal(r.hedge('x', 'a'), false, 'nor asked of a peer already asked')
    assert.equal(r.hedge('x', 'b'), true)
    assert.equal((await fetched).peer, 'b')
    release.resolve()
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(asked, ['a', 'b'], 'one request each')
    assert.equal(r.pending, 0)
  })

  it('a hedge that gets no answer leaves the request in flight to settle the key', async () => {
    const release = Promise.withResolvers<void>()
    const asked: string[] = []
    const request = async (peer: string, keys: string[]): Promise<Map<string, string>> => {
      asked.push(peer)
      if (peer === 'b') return new Map()
      await release.promise
      return new Map(keys.map(k => [k, `${k}@${peer}`]))
    }
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request, peers: () => ['a', 'b'] })
    const fetched = r.fetch('x', { preferred: ['a'] })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(r.hedge('x', 'b'), true)
    await new Promise(resolve => setImmediate(resolve))
    release.resolve()
    assert.equal((await fetched).peer, 'a')
    assert.deepEqual(asked, ['a', 'b'], 'no retry was started by the empty hedge')
  })

  it('refuses fetches after stop', async () => {
    const r = new Requester<string, string>({ name: 'test', keyId: k => k, request: () => Promise.resolve(new Map()), peers: () => [] })
    r.stop()
    await assert.rejects(r.fetch('x'), RequestCancelledError)
  })
})
