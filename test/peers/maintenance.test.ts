import { test } from 'node:test'
import assert from 'node:assert/strict'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { Maintenance, type MaintenanceDeps, type MaintenanceReport } from '../../src/peers/maintenance.ts'
import { maintenanceBounds } from '../../src/peers/limits.ts'
import { PointBook, type PointInfo } from '../../src/peers/point-book.ts'
import { parsePoint, pointKey } from '../../src/net/point.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * The maintenance rules over a simulated network: points are reachable or not, dials "connect"
 * synchronously, and the loop's decisions (what it dials, in which order, what it prunes, when it
 * asks for more) are observed through its dependencies.
 */

const PEER = vectors.identities[0].peer_id
const addr = (i: number): ReturnType<typeof parsePoint> => parsePoint(`10.0.0.${i}:9732`)
const key = (i: number): string => pointKey(addr(i))

interface World {
  book: PointBook
  deps: MaintenanceDeps
  reports: MaintenanceReport[]
  dialled: string[]
  connected: Set<string>
  trusted: Set<string>
  reachable: Set<string>
  asked: number
  swaps: number
  nextReport: () => Promise<MaintenanceReport>
}

function world (limits: { min: number, expected: number, max: number }, extra: Partial<MaintenanceDeps> = {}, now?: () => number): World {
  const book = new PointBook({ now })
  const w: World = {
    book,
    reports: [],
    dialled: [],
    connected: new Set(),
    trusted: new Set(),
    reachable: new Set(),
    asked: 0,
    swaps: 0,
    nextReport: async () => await new Promise(resolve => { waiters.push(resolve) }),
    deps: undefined as unknown as MaintenanceDeps
  }
  const waiters: Array<(r: MaintenanceReport) => void> = []
  w.deps = {
    bounds: maintenanceBounds({ minConnections: limits.min, expectedConnections: limits.expected, maxConnections: limits.max }),
    pointBook: book,
    activeConnections: () => w.connected.size,
    connect: (p: PointInfo) => {
      w.dialled.push(p.key)
      book.setRequested(p.key)
      if (!w.reachable.has(p.key)) { book.setDisconnected(p.key); return Promise.resolve(false) }
      book.setAccepted(p.key, PEER)
      book.setRunning(p.key, PEER)
      w.connected.add(p.key)
      return Promise.resolve(true)
    },
    pruneCandidates: () => [...w.connected].filter(k => !w.trusted.has(k)),
    disconnect: k => { w.connected.delete(k); book.setDisconnected(k); return Promise.resolve() },
    askForMoreContacts: () => { w.asked++; return Promise.resolve() },
    trySwap: () => { w.swaps++; return Promise.resolve(true) },
    privateMode: false,
    idleTimeMs: 60_000,
    timeBetweenLookingForPeersMs: 20,
    onRun: r => { w.reports.push(r); waiters.splice(0).forEach(f => { f(r) }) },
    ...extra
  }
  return w
}

test('below min-threshold it dials up to max-target, preferring points that never failed, then the oldest miss', async () => {
  // 2/4/8 → bounds 2/2/6/7: dial when fewer than 2, at most 6 at once.
  let t = 1_000_000
  const w = world({ min: 2, expected: 4, max: 8 }, {}, () => t)
  const book = w.book
  for (let i = 1; i <= 12; i++) book.register(addr(i))
  // Points 1..4 failed long ago (4 the oldest); 5..12 never failed.
  for (const [i, at] of [[1, 400], [2, 300], [3, 200], [4, 100]]) {
    t = at
    book.setRequested(key(i))
    book.setDisconnected(key(i))
  }
  t = 1_000_000
  for (let i = 1; i <= 12; i++) w.reachable.add(key(i))
  const m = new Maintenance(w.deps)
  m.start()
  const report = await w.nextReport()
  await m.stop()
  assert.equal(report.trigger, 'start')
  assert.deepEqual(w.deps.bounds, { minThreshold: 2, minTarget: 2, maxTarget: 6, maxThreshold: 7 })
  assert.equal(report.dialled, 6, 'max-target - n candidates at once')
  const neverFailed = new Set([5, 6, 7, 8, 9, 10, 11, 12].map(key))
  assert.ok(w.dialled.every(k => neverFailed.has(k)), 'never-failed points first')
  assert.equal(report.after, 6)
  assert.equal(w.swaps, 1, 'within bounds afterwards: one swap proposal')
})

test('among failed points the oldest miss goes first; a point still in its back-off is skipped', async () => {
  let t = 1_000_000
  const w = world({ min: 2, expected: 4, max: 5 }, {}, () => t)
  const book = w.book
  for (const [i, at] of [[1, 500], [2, 100], [3, 300], [4, t - 10]]) {
    t = at
    book.register(addr(i))
    book.setRequested(key(i))
    book.setDisconnected(key(i))
  }
  t = 1_000_000
  for (let i = 1; i <= 4; i++) w.reachable.add(key(i))
  // bounds 2/2/5/5 → up to 5 at once; point 4 failed 10 ms ago and waits 1 s.
  const m = new Maintenance(w.deps)
  m.start()
  await w.nextReport()
  await m.stop()
  assert.deepEqual(w.dialled.slice(0, 3), [key(2), key(3), key(1)])
  assert.ok(!w.dialled.includes(key(4)))
})

test('out of candidates it asks for more contacts, waits, and dials what arrives', async () => {
  const w = world({ min: 2, expected: 4, max: 6 })
  const m = new Maintenance(w.deps)
  m.start()
  // Nothing known: it asks peers (and DNS) for more.
  await waitFor(() => w.asked >= 2, { what: 'asked for more contacts twice', intervalMs: 5 })
  for (const i of [1, 2, 3]) { w.book.register(addr(i)); w.reachable.add(key(i)) }
  m.newContact()
  const report = await w.nextReport()
  await m.stop()
  assert.ok(report.askedForMore >= 2)
  assert.equal(report.after, 3)
  assert.deepEqual(new Set(w.dialled), new Set([key(1), key(2), key(3)]))
})

test('unreachable candidates are tried once per pass, then it asks for more instead of spinning', async () => {
  const w = world({ min: 1, expected: 2, max: 3 })
  for (const i of [1, 2]) w.book.register(addr(i)) // never reachable
  const m = new Maintenance(w.deps)
  m.start()
  await waitFor(() => w.asked >= 3, { what: 'asked for more contacts three times', intervalMs: 5 })
  await m.stop()
  // Each failure puts the point in back-off (1 s): within this test each was dialled once.
  assert.deepEqual(w.dialled.sort(), [key(1), key(2)].sort())
  assert.equal(w.connected.size, 0)
})

test('above max-threshold it prunes at random down to max-target, never a trusted peer', async () => {
  // 2/6/12 → bounds 3/4/8/10.
  for (let round = 0; round < 20; round++) {
    const w = world({ min: 2, expected: 6, max: 12 })
    for (let i = 1; i <= 12; i++) {
      w.book.register(addr(i), { trusted: i <= 3 })
      w.book.setRequested(key(i)); w.book.setAccepted(key(i), PEER); w.book.setRunning(key(i), PEER)
      w.connected.add(key(i))
      if (i <= 3) w.trusted.add(key(i))
    }
    const m = new Maintenance(w.deps)
    m.start()
    const report = await w.nextReport()
    await m.stop()
    assert.equal(report.pruned, 4)
    assert.equal(w.connected.size, 8)
    for (const k of w.trusted) assert.ok(w.connected.has(k), 'trusted peers are never pruned')
  }
})

test('pruning stops when only protected peers remain', async () => {
  // 1/2/3 → bounds 1/1/3/3; four trusted connections and nothing else to close.
  const w = world({ min: 1, expected: 2, max: 3 })
  for (let i = 1; i <= 4; i++) {
    w.book.register(addr(i), { trusted: true })
    w.book.setRequested(key(i)); w.book.setAccepted(key(i), PEER); w.book.setRunning(key(i), PEER)
    w.connected.add(key(i)); w.trusted.add(key(i))
  }
  const m = new Maintenance(w.deps)
  m.start()
  const report = await w.nextReport()
  await m.stop()
  assert.equal(report.pruned, 0)
  assert.equal(w.connected.size, 4)
})

test('trusted points that are down are redialled on every pass, even within bounds', async () => {
  const w = world({ min: 1, expected: 2, max: 4 })
  w.book.register(addr(1), { trusted: true })
  w.book.register(addr(2))
  for (const k of [key(1), key(2)]) w.reachable.add(k)
  // Already within bounds through an untrusted connection.
  w.book.setRequested(key(2)); w.book.setAccepted(key(2), PEER); w.book.setRunning(key(2), PEER); w.connected.add(key(2))
  const m = new Maintenance(w.deps)
  m.start()
  const report = await w.nextReport()
  assert.deepEqual(w.dialled, [key(1)])
  assert.equal(report.established, 1)
  // It goes down again; the next pass (an explicit request) brings it back once its back-off ended.
  w.connected.delete(key(1))
  w.book.setDisconnected(key(1))
  const again = w.nextReport()
  m.trigger('request')
  const second = await again
  await m.stop()
  assert.equal(second.trigger, 'request')
  // After a connection that ran, Octez waits the disconnection delay (60 s) before redialling.
  assert.deepEqual(w.dialled, [key(1)])
})

test('private mode never proposes swaps; a disabled loop (idle time null) never runs', async () => {
  const w = world({ min: 0, expected: 1, max: 2 }, { privateMode: true })
  const m = new Maintenance(w.deps)
  m.start()
  const report = await w.nextReport()
  await m.stop()
  assert.equal(report.swapped, false)
  assert.equal(w.swaps, 0)

  const off = world({ min: 2, expected: 4, max: 6 }, { idleTimeMs: null })
  off.book.register(addr(1)); off.reachable.add(key(1))
  const disabled = new Maintenance(off.deps)
  assert.equal(disabled.enabled, false)
  disabled.start()
  disabled.trigger('too-few')
  await new Promise(resolve => setTimeout(resolve, 30))
  await disabled.stop()
  assert.deepEqual(off.dialled, [])
  assert.equal(disabled.runs, 0)
})

test('triggers run a pass at once (coalesced while one runs); the idle timer runs one too', async () => {
  const w = world({ min: 0, expected: 1, max: 2 }, { idleTimeMs: 40 })
  const m = new Maintenance(w.deps)
  m.start()
  assert.equal((await w.nextReport()).trigger, 'start')
  assert.equal((await w.nextReport()).trigger, 'idle')
  const next = w.nextReport()
  m.trigger('too-few')
  assert.equal((await next).trigger, 'too-few')
  await m.stop()
  const runs = m.runs
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.equal(m.runs, runs, 'nothing runs after stop')
})
