import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { PeerDiscovery, type PointSource } from '../../src/peers/exchange/discovery.ts'
import { PointBook } from '../../src/peers/point-book.ts'

test('a Nack\'s points enter the book in Octez syntax; malformed ones and port 0 are skipped', () => {
  const book = new PointBook()
  const heard: Array<[string, PointSource]> = []
  const discovery = new PeerDiscovery({
    book,
    privateMode: false,
    disablePeerDiscovery: false,
    minDnsRefreshIntervalMs: 1000,
    askable: () => [],
    exchange: () => { throw new Error('a Nack asks no peer') },
    onDiscovered: (point, source) => { heard.push([point.key, source]) },
    logger: pino({ level: 'silent' })
  })
  discovery.fromNack(['10.0.0.1:9732', '[2001:db8::1]:9733', '10.0.0.2:0', 'boot.example.net:9732', '10.0.0.3', '[::ffff:10.0.0.4]:1'])
  assert.deepEqual(heard, [
    ['/ip4/10.0.0.1/tcp/9732', 'nack'],
    ['/ip6/2001:db8::1/tcp/9733', 'nack'],
    ['/ip4/10.0.0.4/tcp/1', 'nack']
  ])
  assert.equal(book.get('/ip4/10.0.0.2/tcp/0'), undefined)
})
