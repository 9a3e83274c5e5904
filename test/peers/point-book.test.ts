import { test } from 'node:test'
import assert from 'node:assert/strict'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { PointBook, PointStateError, lastMiss, type PointBookEvent } from '../../src/peers/point-book.ts'
import { parsePoint, pointKey, type PointAddress } from '../../src/net/point.ts'
import { DEFAULT_RECONNECTION_CONFIG } from '../../src/peers/limits.ts'
import { seededRandom } from '../helpers/seeded-random.ts'

const ID_A = vectors.identities[0].peer_id
const ID_B = vectors.identities[1].peer_id
const LIBP2P_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function clock (start = 1_700_000_000_000): { now: () => number, advance: (ms: number) => void, set: (t: number) => void } {
  let t = start
  return { now: () => t, advance: ms => { t += ms }, set: v => { t = v } }
}

const pt = (i: number, port = 9732): PointAddress => parsePoint(`10.0.${Math.floor(i / 256)}.${i % 256}:${port}`)
const key = (i: number): string => pointKey(pt(i))

test('reconnection back-off: 1 s, then ×1.2 per failure, capped at 2 days', () => {
  const c = clock()
  const book = new PointBook({ now: c.now })
  book.register(pt(1))
  const waits: number[] = []
  for (let i = 0; i < 80; i++) {
    book.setRequested(key(1))
    assert.equal(book.setDisconnected(key(1)), true)
    const info = book.get(key(1))
    assert.ok(info?.reconnection !== undefined)
    assert.equal(info.lastFailedConnection, c.now())
    waits.push(info.reconnection.endTime - c.now())
    assert.equal(book.inBackOff(key(1)), true)
    c.set(info.reconnection.endTime)
    assert.equal(book.inBackOff(key(1)), true, 'still in back-off at the end time itself (Octez compares with <=)')
    c.advance(1)
    assert.equal(book.inBackOff(key(1)), false)
  }
  const expected = [1000, 1200, 1440, 1728, 2073.6, 2488.32]
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(waits[i] - expected[i]) < 0.01, `wait ${i}: ${waits[i]}`)
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i] >= waits[i - 1] && waits[i] <= DEFAULT_RECONNECTION_CONFIG.increaseCapMs)
  assert.equal(waits[waits.length - 1], 172_800_000, 'the cap is reached after enough failures')
})

test('after a connection that ran, the point waits the disconnection delay and the back-off resets', () => {
  const c = clock()
  const book = new PointBook({ now: c.now })
  book.register(pt(1))
  for (let i = 0; i < 10; i++) { book.setRequested(key(1)); book.setDisconnected(key(1)); c.advance(1_000_000) }
  assert.ok((book.get(key(1))?.reconnection?.delayMs ?? 0) > 5000)
  book.setRequested(key(1))
  book.setAccepted(key(1), ID_A)
  book.setRunning(key(1), ID_A)
  assert.equal(book.get(key(1))?.state, 'running')
  c.advance(5000)
  book.setDisconnected(key(1))
  const info = book.get(key(1))
  assert.deepEqual(info?.reconnection, { delayMs: 1000, endTime: c.now() + 60_000 })
  assert.deepEqual(info?.lastDisconnection, { peerId: ID_A, at: c.now() })
  assert.equal(info?.currentPeerId, undefined)
  // The next failure waits the initial delay again.
  c.advance(60_001)
  book.setRequested(key(1))
  book.setDisconnected(key(1))
  assert.equal((book.get(key(1))?.reconnection?.endTime ?? 0) - c.now(), 1000)
  // A connection refused after the handshake records a rejection.
  c.advance(2000)
  book.setRequested(key(1))
  book.setAccepted(key(1), ID_B)
  book.setDisconnected(key(1))
  assert.deepEqual(book.get(key(1))?.lastRejectedConnection, { peerId: ID_B, at: c.now() })
  assert.equal(lastMiss(book.get(key(1))!), c.now())
})

test('state transitions are checked; a duplicate close is harmless', () => {
  const book = new PointBook()
  book.register(pt(1))
  assert.equal(book.setDisconnected(key(1)), false)
  assert.equal(book.setDisconnected('/ip4/9.9.9.9/tcp/1'), false)
  book.setRunning(key(1), ID_A) // an inbound connection from a point we knew
  assert.throws(() => book.setRunning(key(1), ID_A), PointStateError)
  assert.throws(() => book.setRequested(key(1)), PointStateError)
  assert.throws(() => book.setAccepted(key(1), ID_A), PointStateError)
  assert.throws(() => book.setRequested('/ip4/9.9.9.9/tcp/1'), PointStateError)
  book.setDisconnected(key(1))
  book.setAccepted(key(1), ID_A)
  assert.throws(() => book.setRunning(key(1), ID_B), PointStateError)
})

test('candidates: no recorded miss first, then the oldest miss; skipped: connected, in back-off, banned, failed during the pass', () => {
  const c = clock()
  const banned = new Set<string>([key(7)])
  const book = new PointBook({ now: c.now, random: seededRandom(1), isBanned: p => banned.has(p.key) })
  for (let i = 1; i <= 8; i++) book.register(pt(i))
  // Misses at different times: 3 oldest, then 2, then 4.
  const fail = (i: number): void => { book.setRequested(key(i)); book.setDisconnected(key(i)) }
  fail(3); c.advance(10_000)
  fail(2); c.advance(10_000)
  fail(4); c.advance(10_000)
  // 5 is running; 6 failed just now (in back-off); 7 is banned.
  book.setRunning(key(5), ID_A)
  fail(6)
  const start = c.now()
  c.advance(1)
  const { candidates, seen } = book.selectCandidates({ startTime: start, max: 10 })
  const order = candidates.map(p => p.key)
  // 1 and 8 (never missed) come first in some order, then 3, 2, 4.
  assert.deepEqual(new Set(order.slice(0, 2)), new Set([key(1), key(8)]))
  assert.deepEqual(order.slice(2), [key(3), key(2), key(4)])
  assert.ok(!seen.has(key(7)), 'banned points are not marked seen: a later round may retry them')
  assert.ok(seen.has(key(5)) && seen.has(key(6)) && seen.has(key(1)))
  // max bounds the answer and keeps the best ones.
  const two = book.selectCandidates({ startTime: start, max: 2 }).candidates.map(p => p.key)
  assert.deepEqual(new Set(two), new Set([key(1), key(8)]))
  // Next round of the same pass: already seen points are not offered again.
  assert.deepEqual(book.selectCandidates({ startTime: start, max: 10, seen }).candidates, [])
  // A point that failed after the pass started is not retried in the pass, even out of back-off.
  fail(1)
  c.advance(10_000)
  const later = book.selectCandidates({ startTime: start, max: 10 }).candidates.map(p => p.key)
  assert.ok(!later.includes(key(1)))
  assert.ok(book.selectCandidates({ startTime: c.now(), max: 10 }).candidates.some(p => p.key === key(1)))
  banned.clear()
  assert.ok(book.selectCandidates({ startTime: c.now(), max: 10 }).candidates.some(p => p.key === key(7)))
})

test('ties among never-missed candidates are broken at random', () => {
  const orders = new Set<string>()
  for (let seed = 1; seed <= 20; seed++) {
    const book = new PointBook({ random: seededRandom(seed) })
    for (let i = 1; i <= 5; i++) book.register(pt(i))
    orders.add(book.selectCandidates({ startTime: Date.now(), max: 5 }).candidates.map(p => p.key).join(','))
  }
  assert.ok(orders.size > 1)
})

test('private mode: only trusted points are candidates; lists are neither taken in nor given', () => {
  const book = new PointBook({ privateMode: true })
  book.register(pt(1), { trusted: true })
  book.register(pt(2))
  assert.deepEqual(book.selectCandidates({ startTime: Date.now(), max: 10 }).candidates.map(p => p.key), [key(1)])
  assert.equal(book.registerAdvertised([pt(3), pt(4)]), 0)
  assert.equal(book.size, 2)
  book.setPrivate(key(1), false)
  assert.deepEqual(book.listKnownPoints(), [])
  assert.deepEqual(book.trustedToRedial().map(p => p.key), [key(1)])
})

test('peer discovery disabled: Advertise/Nack points are ignored and none are given', () => {
  const book = new PointBook({ disablePeerDiscovery: true })
  assert.equal(book.registerAdvertised([pt(3)]), 0)
  book.register(pt(1))
  assert.deepEqual(book.listKnownPoints(), [])
  const open = new PointBook()
  assert.equal(open.registerAdvertised([pt(3), pt(3), pt(4)]), 2)
})

test('GC when full removes disconnected untrusted points, oldest miss first, never-missed newest first', () => {
  const c = clock()
  const events: PointBookEvent[] = []
  const book = new PointBook({ now: c.now, maxKnownPoints: { max: 6, target: 3 } })
  book.subscribe(e => events.push(e))
  const fail = (i: number): void => { book.setRequested(key(i)); book.setDisconnected(key(i)) }
  book.register(pt(1), { trusted: true }); c.advance(1)
  book.register(pt(2)); c.advance(1)
  book.register(pt(3)); c.advance(1)
  book.register(pt(4)); c.advance(1)
  book.register(pt(5)); c.advance(1)
  book.register(pt(6)); c.advance(1)
  fail(1); fail(4); c.advance(1); fail(2) // misses: 1 (trusted) and 4 oldest, then 2
  book.setRunning(key(3), ID_A)
  c.advance(1)
  // Table full (6 ≥ 6): inserting 7 first brings it to 3 (removes 3), then adds 7.
  book.register(pt(7))
  assert.equal(book.size, 4)
  // Removable: 2, 4, 5, 6 (1 trusted, 3 running). Order: 4 (oldest miss), 2, then never-missed newest first: 6.
  const gc = events.find(e => e.type === 'gc')
  assert.deepEqual(gc, { type: 'gc', removed: [key(4), key(2), key(6)] })
  assert.deepEqual(book.all().map(p => p.key).sort(), [key(1), key(3), key(5), key(7)].sort())
  assert.ok(events.some(e => e.type === 'new-point' && e.point.key === key(7)))
})

test('GC cannot remove trusted or connected points; the table then grows past its bound', () => {
  const book = new PointBook({ maxKnownPoints: { max: 2, target: 1 } })
  book.register(pt(1), { trusted: true })
  book.register(pt(2))
  book.setRunning(key(2), ID_A)
  book.register(pt(3))
  assert.equal(book.size, 3)
})

test('list of known points for Nack/Advertise: Octez order, 30 best + 20 distinct random, filters', () => {
  const c = clock()
  const book = new PointBook({ now: c.now, random: seededRandom(7) })
  // Connected points: 1 connected long ago, 2 recently.
  book.register(pt(1)); book.setRunning(key(1), ID_A); c.advance(1000)
  book.register(pt(2)); book.setRunning(key(2), ID_B); c.advance(1000)
  // Disconnected and seen: 3 seen long ago, 4 seen recently.
  book.register(pt(3)); book.setRunning(key(3), ID_A); book.setDisconnected(key(3)); c.advance(1000)
  book.register(pt(4)); book.setRunning(key(4), ID_B); book.setDisconnected(key(4)); c.advance(1000)
  // Never seen: 5.
  book.register(pt(5))
  for (let i = 1; i <= 5; i++) book.setPrivate(key(i), false)
  assert.deepEqual(book.listKnownPoints({ ignorePrivate: true }).map(p => p.key), [key(1), key(2), key(4), key(3), key(5)])
  // ignorePrivate skips points not known to be public; a banned point is never listed.
  book.register(pt(6))
  assert.equal(book.listKnownPoints({ ignorePrivate: true }).length, 5)
  assert.equal(book.listKnownPoints().length, 6)
  const bannedBook = new PointBook({ isBanned: p => p.address.host === '10.0.0.1' })
  bannedBook.register(pt(1)); bannedBook.register(pt(2))
  assert.deepEqual(bannedBook.listKnownPoints().map(p => p.key), [key(2)])
  // ipOnly drops DNS points.
  book.register(parsePoint('boot.example.net'))
  assert.ok(book.listKnownPoints().some(p => p.address.hostKind === 'dns'))
  assert.ok(!book.listKnownPoints({ ipOnly: true }).some(p => p.address.hostKind === 'dns'))

  // With many points: the 30 best, then 20 distinct others.
  const big = new PointBook({ now: c.now, random: seededRandom(3), maxKnownPoints: null })
  for (let i = 1; i <= 200; i++) {
    big.register(pt(i))
    if (i <= 40) { big.setRunning(key(i), ID_A); c.advance(10) }
  }
  const listed = big.listKnownPoints()
  assert.equal(listed.length, 50)
  assert.equal(new Set(listed.map(p => p.key)).size, 50)
  assert.deepEqual(listed.slice(0, 30).map(p => p.key), Array.from({ length: 30 }, (_, i) => key(i + 1)), 'oldest connections first')
  assert.ok(listed.slice(30).every(p => !listed.slice(0, 30).includes(p)))
})

test('our own addresses are never registered', () => {
  const book = new PointBook()
  book.register(pt(1))
  book.markSelf(pt(1))
  assert.equal(book.get(key(1)), undefined)
  assert.equal(book.register(pt(1)), undefined)
  assert.equal(book.registerAdvertised([pt(1)]), 0)
})

test('pins: trusted registrations set them; advertised addresses never replace them', () => {
  const book = new PointBook()
  book.register({ ...pt(1), expectedPeerId: ID_A }, { trusted: true })
  book.register({ ...pt(1), expectedPeerId: ID_B, libp2pPeerId: LIBP2P_ID })
  assert.equal(book.get(key(1))?.expectedPeerId, ID_A)
  assert.equal(book.get(key(1))?.libp2pPeerId, undefined)
  assert.equal(book.get(key(1))?.trusted, true, 'registering without a trust flag keeps it')
  assert.equal(book.acceptsPeer(key(1), ID_A), true)
  assert.equal(book.acceptsPeer(key(1), ID_B), false)
  book.register(pt(1), { trusted: false })
  assert.equal(book.get(key(1))?.trusted, false)
  // A new point heard from a peer keeps the /p2p/ id it came with.
  book.registerAdvertised([{ ...pt(2), libp2pPeerId: LIBP2P_ID }])
  assert.equal(book.get(key(2))?.libp2pPeerId, LIBP2P_ID)
})

test('snapshot and restore keep history and pins, not state or trust', () => {
  const c = clock()
  const book = new PointBook({ now: c.now })
  book.register({ ...pt(1), expectedPeerId: ID_A }, { trusted: true })
  book.register(pt(2))
  book.setRequested(key(2)); book.setDisconnected(key(2)); c.advance(5)
  book.setRunning(key(1), ID_A); book.setPrivate(key(1), false)
  const records = book.snapshot()
  const restored = new PointBook({ now: c.now })
  restored.restore(records)
  const p1 = restored.get(key(1))
  assert.equal(p1?.state, 'disconnected')
  assert.equal(p1?.trusted, false)
  assert.equal(p1?.expectedPeerId, ID_A)
  assert.equal(p1?.knownPublic, true)
  assert.deepEqual(p1?.lastEstablishedConnection, { peerId: ID_A, at: c.now() })
  assert.deepEqual(restored.get(key(2))?.reconnection, book.get(key(2))?.reconnection)
  assert.equal(restored.get(key(2))?.lastFailedConnection, book.get(key(2))?.lastFailedConnection)
  assert.deepEqual(restored.snapshot(), records)
  // Restoring into a book where configuration already registered the point keeps its trust.
  const configured = new PointBook({ now: c.now })
  configured.register(pt(1), { trusted: true })
  configured.restore(records)
  assert.equal(configured.get(key(1))?.trusted, true)
  assert.equal(configured.get(key(1))?.expectedPeerId, ID_A)
})
