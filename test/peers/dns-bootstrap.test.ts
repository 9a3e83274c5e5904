import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import dns2 from 'dns2'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { DnsBootstrap, DnsBootstrapError, applyDnsChange, type DnsBootstrapOptions, type DnsChange } from '../../src/peers/dns-bootstrap.ts'
import { PointBook } from '../../src/peers/point-book.ts'
import { InvalidPointError } from '../../src/net/point.ts'

const { UDPServer, Packet } = dns2
/** RFC 1035 §4.1.1 response codes (dns2 has them at run time, its type declarations do not). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 }
const ID_A = vectors.identities[0].peer_id
const ID_B = vectors.identities[1].peer_id
const LIBP2P_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

interface Zone { A?: string[], AAAA?: string[], TXT?: string[][], servfail?: boolean }

/** A real DNS server on loopback (UDP), answering from a zone the tests change at will. */
const zone = new Map<string, Zone>()
let queries = 0
const server = new UDPServer((request, send) => {
  queries++
  const response = Packet.createResponseFromRequest(request)
  const [question] = request.questions
  const entry = zone.get(question.name.toLowerCase())
  if (entry === undefined) {
    response.header.rcode = RCODE.NXDOMAIN
  } else if (entry.servfail === true) {
    response.header.rcode = RCODE.SERVFAIL
  } else if (question.type === Packet.TYPE.A) {
    for (const address of entry.A ?? []) response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, address }))
  } else if (question.type === Packet.TYPE.AAAA) {
    for (const address of entry.AAAA ?? []) response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, address }))
  } else if (question.type === Packet.TYPE.TXT) {
    for (const data of entry.TXT ?? []) response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, data }))
  }
  void send(response)
})
let dnsServer = ''

before(async () => {
  await server.listen(0, '127.0.0.1')
  dnsServer = `127.0.0.1:${server.address().port}`
})
after(() => { server.close() })

/** Records what a DnsBootstrap reports, and lets a test wait for a change it expects. */
class Reports {
  readonly changes: DnsChange[] = []
  readonly errors: DnsBootstrapError[] = []
  private readonly waiters: Array<{ pred: (c: DnsChange) => boolean, resolve: (c: DnsChange) => void }> = []

  change (c: DnsChange): void {
    this.changes.push(c)
    for (const w of this.waiters) if (w.pred(c)) w.resolve(c)
  }

  async waitForChange (pred: (c: DnsChange) => boolean): Promise<DnsChange> {
    const found = this.changes.find(pred)
    if (found !== undefined) return found
    return await new Promise(resolve => { this.waiters.push({ pred, resolve }) })
  }
}

function bootstrap (names: string[], extra: Partial<DnsBootstrapOptions> = {}): { b: DnsBootstrap, reports: Reports } {
  const reports = new Reports()
  const b = new DnsBootstrap({
    names,
    servers: [dnsServer],
    timeoutMs: 300,
    tries: 1,
    intervalMs: null,
    onChange: c => { reports.change(c) },
    onError: e => { reports.errors.push(e) },
    ...extra
  })
  return { b, reports }
}

test('A, AAAA and TXT records become trusted points on the name\'s port, pinned as the name says', { timeout: 20_000 }, async () => {
  zone.set('boot.tzp2p.test', {
    A: ['192.0.2.1', '192.0.2.2'],
    AAAA: ['2001:db8::1'],
    TXT: [
      ['v=spf1 -all'],
      [`tzp2p=/ip4/198.51.100.7/tcp/9733/p2p/${LIBP2P_ID}`],
      // A long record split into character-strings is joined back.
      ['dnsaddr=/dns4/other.tzp2p.test', `/tcp/19732#${ID_B}`],
      ['tzp2p=not-a-multiaddr']
    ]
  })
  const { b, reports } = bootstrap([`boot.tzp2p.test:19000#${ID_A}`, '203.0.113.9'])
  try {
    const change = await b.start()
    const byKey = new Map(change.points.map(p => [p.key, p]))
    assert.deepEqual([...byKey.keys()].sort(), [
      '/dns4/other.tzp2p.test/tcp/19732',
      '/ip4/192.0.2.1/tcp/19000',
      '/ip4/192.0.2.2/tcp/19000',
      '/ip4/198.51.100.7/tcp/9733',
      '/ip4/203.0.113.9/tcp/9732',
      '/ip6/2001:db8::1/tcp/19000'
    ])
    assert.equal(byKey.get('/ip4/192.0.2.1/tcp/19000')?.address.expectedPeerId, ID_A)
    assert.equal(byKey.get('/ip6/2001:db8::1/tcp/19000')?.via, 'AAAA')
    assert.equal(byKey.get('/ip4/198.51.100.7/tcp/9733')?.address.libp2pPeerId, LIBP2P_ID)
    assert.equal(byKey.get('/ip4/198.51.100.7/tcp/9733')?.address.expectedPeerId, undefined, 'TXT points carry their own pins')
    assert.equal(byKey.get('/dns4/other.tzp2p.test/tcp/19732')?.address.expectedPeerId, ID_B)
    assert.equal(byKey.get('/ip4/203.0.113.9/tcp/9732')?.via, 'literal')
    assert.equal(reports.changes.length, 1)
    assert.deepEqual(reports.errors.map(e => [e.code, e.recordType]), [['EBADRECORD', 'TXT']])

    const book = new PointBook()
    applyDnsChange(book, change)
    assert.equal(book.size, 6)
    assert.ok(book.all().every(p => p.trusted))
    assert.equal(book.get('/ip4/192.0.2.2/tcp/19000')?.expectedPeerId, ID_A)
  } finally {
    await b.stop()
  }
})

test('a name that does not exist is reported, never thrown; other names still resolve', { timeout: 20_000 }, async () => {
  zone.set('good.tzp2p.test', { A: ['192.0.2.10'] })
  const { b, reports } = bootstrap(['missing.tzp2p.test', 'good.tzp2p.test'])
  try {
    const change = await b.start()
    assert.deepEqual(change.points.map(p => p.key), ['/ip4/192.0.2.10/tcp/9732'])
    assert.deepEqual(reports.errors.map(e => [e.bootstrapName, e.code]), [['missing.tzp2p.test', 'ENOPOINTS']])
    assert.ok(reports.errors[0] instanceof DnsBootstrapError)
  } finally {
    await b.stop()
  }
})

test('periodic re-resolution picks up a changed record; trust follows in the point book', { timeout: 20_000 }, async () => {
  zone.set('moving.tzp2p.test', { A: ['192.0.2.20'] })
  const book = new PointBook()
  const { b, reports } = bootstrap(['moving.tzp2p.test'], { intervalMs: 50 })
  try {
    applyDnsChange(book, await b.start())
    assert.equal(book.get('/ip4/192.0.2.20/tcp/9732')?.trusted, true)
    assert.equal(b.scheduled, true)
    zone.set('moving.tzp2p.test', { A: ['192.0.2.21'] })
    const change = await reports.waitForChange(c => c.added.some(p => p.key === '/ip4/192.0.2.21/tcp/9732'))
    assert.deepEqual(change.removed.map(p => p.key), ['/ip4/192.0.2.20/tcp/9732'])
    applyDnsChange(book, change)
    assert.equal(book.get('/ip4/192.0.2.21/tcp/9732')?.trusted, true)
    assert.equal(book.get('/ip4/192.0.2.20/tcp/9732')?.trusted, false, 'the old address stays known but is no longer trusted')
  } finally {
    await b.stop()
  }
  assert.equal(b.scheduled, false, 'stop leaves no timer')
})

test('refresh on demand: shared while in flight, rate-limited unless forced', { timeout: 20_000 }, async () => {
  zone.set('demand.tzp2p.test', { A: ['192.0.2.30'] })
  const { b } = bootstrap(['demand.tzp2p.test'], { minRefreshIntervalMs: 3_600_000 })
  try {
    await b.start()
    zone.set('demand.tzp2p.test', { A: ['192.0.2.31'] })
    assert.equal(await b.refresh(), undefined, 'within the minimum interval the refresh is skipped')
    const before = queries
    const [one, two] = await Promise.all([b.refresh({ force: true }), b.refresh({ force: true })])
    assert.equal(one, two, 'concurrent refreshes share one resolution')
    assert.equal(queries - before, 3, 'one A, one AAAA, one TXT query')
    assert.deepEqual(one?.points.map(p => p.key), ['/ip4/192.0.2.31/tcp/9732'])
  } finally {
    await b.stop()
  }
})

test('when the DNS server fails, the error is reported and the previous points are kept', { timeout: 20_000 }, async () => {
  zone.set('flaky.tzp2p.test', { A: ['192.0.2.40'] })
  const { b, reports } = bootstrap(['flaky.tzp2p.test'])
  try {
    assert.deepEqual((await b.start()).points.map(p => p.key), ['/ip4/192.0.2.40/tcp/9732'])
    zone.set('flaky.tzp2p.test', { servfail: true })
    const change = await b.refresh({ force: true })
    assert.deepEqual(change?.points.map(p => p.key), ['/ip4/192.0.2.40/tcp/9732'])
    assert.deepEqual(change?.removed, [])
    assert.ok(reports.errors.length > 0 && reports.errors.every(e => e.code === 'ESERVFAIL'), JSON.stringify(reports.errors.map(e => e.code)))
  } finally {
    await b.stop()
  }
  // A server that never answers: every lookup times out, reported as ETIMEOUT.
  const silent = new UDPServer(() => {})
  await silent.listen(0, '127.0.0.1')
  const { b: lost, reports: lostReports } = bootstrap(['flaky.tzp2p.test'], { servers: [`127.0.0.1:${silent.address().port}`] })
  try {
    assert.deepEqual((await lost.start()).points, [])
    assert.ok(lostReports.errors.length > 0 && lostReports.errors.every(e => e.code === 'ETIMEOUT'), JSON.stringify(lostReports.errors.map(e => e.code)))
  } finally {
    await lost.stop()
    silent.close()
  }
})

test('stop cancels a lookup in flight and reports nothing after it', { timeout: 20_000 }, async () => {
  const silent = new UDPServer(() => {})
  await silent.listen(0, '127.0.0.1')
  const { b, reports } = bootstrap(['slow.tzp2p.test'], { servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 5000, intervalMs: 10 })
  try {
    const started = b.start()
    await b.stop()
    const change = await started
    assert.deepEqual(change.points, [])
    assert.deepEqual(reports.errors, [])
    assert.deepEqual(reports.changes, [])
    assert.equal(b.scheduled, false)
  } finally {
    silent.close()
  }
})

test('malformed bootstrap names are configuration errors', () => {
  assert.throws(() => new DnsBootstrap({ names: ['bad_name!:1'] }), InvalidPointError)
  assert.throws(() => new DnsBootstrap({ names: ['boot.example.net#idnotapeer'] }), InvalidPointError)
})
