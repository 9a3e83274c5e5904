import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@libp2p/interface'
import { Greylist, InvalidGreylistKeyError } from '../../src/peers/greylist.ts'
import { BanList } from '../../src/peers/bans.ts'
import { ipOfMultiaddr } from '../../src/net/multiaddr.ts'
import { createConnectionGater } from '../../src/peers/gater.ts'

/** A clock the test moves by hand, so expiry is checked without waiting. */
function manualClock (start = 1_000_000): { now: () => number, advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: ms => { t += ms } }
}

describe('greylist', () => {
  it('greylists IPs and peer ids until their TTL passes', async () => {
    const clock = manualClock()
    const g = new Greylist({ ipTtlMs: 1000, peerTtlMs: 5000, now: clock.now })
    const libp2pPeer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    g.greylist({ ip: '192.0.2.7', peers: [libp2pPeer, 'idtdVEDBSoi2auJJ9CmUaNnK4FSNk6'] }, 'NotEnoughProofOfWorkError')
    assert.ok(g.isGreylisted('192.0.2.7'))
    assert.ok(g.isGreylisted(libp2pPeer))
    assert.ok(g.isGreylisted(libp2pPeer.toString()))
    assert.ok(g.isGreylisted('idtdVEDBSoi2auJJ9CmUaNnK4FSNk6'))
    assert.ok(!g.isGreylisted('192.0.2.8'))
    assert.equal(g.size, 3)
    const entries = g.list()
    assert.deepEqual(entries.map(e => [e.kind, e.reason]), [
      ['ip', 'NotEnoughProofOfWorkError'], ['peer', 'NotEnoughProofOfWorkError'], ['peer', 'NotEnoughProofOfWorkError']
    ])
    assert.equal(entries[0].until - entries[0].since, 1000)

    clock.advance(1000)
    assert.ok(!g.isGreylisted('192.0.2.7'), 'the IP expired')
    assert.ok(g.isGreylisted(libp2pPeer), 'peers have their own TTL')
    clock.advance(4000)
    assert.ok(!g.isGreylisted('idtdVEDBSoi2auJJ9CmUaNnK4FSNk6'))
    assert.equal(g.size, 0)
  })

  it('treats every spelling of one address as the same key', () => {
    const g = new Greylist()
    g.greylistIp('::ffff:10.1.2.3', 'test')
    assert.ok(g.isGreylisted('10.1.2.3'))
    g.greylistIp('2001:DB8:0:0:0:0:0:1', 'test')
    assert.ok(g.isGreylisted('2001:db8::1'))
    assert.ok(g.isGreylisted('[2001:db8::1]'))
    assert.throws(() => { g.greylistIp('example.org', 'test') }, InvalidGreylistKeyError)
  })

  it('is bounded: the oldest entries go first, and a refresh moves an entry to the back', () => {
    const clock = manualClock()
    const g = new Greylist({ maxIps: 3, maxPeers: 2, now: clock.now })
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) { g.greylistIp(ip, 'x'); clock.advance(1) }
    g.greylistIp('10.0.0.1', 'again') // refreshed: now the newest
    g.greylistIp('10.0.0.4', 'x') // evicts the oldest, 10.0.0.2
    assert.deepEqual(g.list().map(e => e.key), ['10.0.0.3', '10.0.0.1', '10.0.0.4'])
    for (const p of ['ida', 'idb', 'idc']) g.greylistPeer(p, 'x')
    assert.ok(!g.isGreylisted('ida'))
    assert.ok(g.isGreylisted('idb') && g.isGreylisted('idc'))
  })

  it('can be lifted entry by entry or all at once', () => {
    const g = new Greylist()
    g.greylist({ ip: '10.0.0.9', peers: ['idx'] }, 'x')
    assert.ok(g.remove('10.0.0.9'))
    assert.ok(!g.isGreylisted('10.0.0.9'))
    assert.ok(g.isGreylisted('idx'))
    g.clear()
    assert.equal(g.size, 0)
    assert.deepEqual(g.list(), [])
  })

  it('reports every change and restores persisted entries with their own expiry', () => {
    const clock = manualClock()
    const changes: string[] = []
    const g = new Greylist({ ipTtlMs: 1000, now: clock.now, onChange: c => { changes.push(c.type === 'add' ? `add ${c.entry.key} ${c.entry.until}` : c.type === 'remove' ? `remove ${c.key}` : 'clear') } })
    g.greylist({ ip: '::ffff:10.0.0.1', peers: ['idq'] }, 'x')
    g.remove('idq')
    g.clear()
    assert.deepEqual(changes, ['add 10.0.0.1 1001000', 'add idq 1001000', 'remove idq', 'clear'])

    const restored = new Greylist({ now: clock.now })
    restored.restore([
      { kind: 'ip', key: '10.0.0.2', until: clock.now() + 500, reason: 'MalformedHandshakeError' },
      { kind: 'peer', key: 'idr', until: clock.now() - 1 },
      { kind: 'peer', key: 'ids', until: clock.now() + 10 }
    ])
    assert.ok(restored.isGreylisted('10.0.0.2'))
    assert.ok(!restored.isGreylisted('idr'), 'already expired when restored')
    assert.ok(restored.isGreylisted('ids'))
    clock.advance(10)
    assert.ok(!restored.isGreylisted('ids'))
    assert.deepEqual(restored.list().map(e => [e.key, e.reason]), [['10.0.0.2', 'MalformedHandshakeError']])
  })

  it('refuses nonsense sizes and TTLs', () => {
    assert.throws(() => new Greylist({ ipTtlMs: 0 }), RangeError)
    assert.throws(() => new Greylist({ maxPeers: 0 }), RangeError)
  })
})

describe('connection gater', () => {
  it('denies dials and connections of greylisted or banned IPs and peers, and allows the rest', async () => {
    const greylist = new Greylist()
    const banList = new BanList()
    const gater = createConnectionGater({ greylist, banList })
    const bad = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const banned = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const good = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    greylist.greylist({ ip: '198.51.100.1', peers: [bad] }, 'test')
    banList.banIp('203.0.113.5')
    banList.banPeer(banned)

    // The gater reads only the connection's remote address.
    const conn = (addr: string): MultiaddrConnection => ({ remoteAddr: multiaddr(addr) }) as MultiaddrConnection
    assert.equal(ipOfMultiaddr(multiaddr('/ip4/198.51.100.1/tcp/9732')), '198.51.100.1')
    assert.equal(ipOfMultiaddr(multiaddr('/dns4/example.org/tcp/9732')), undefined)

    assert.equal(await gater.denyDialMultiaddr?.(multiaddr('/ip4/198.51.100.1/tcp/9732')), true)
    assert.equal(await gater.denyDialMultiaddr?.(multiaddr('/ip4/203.0.113.5/tcp/9732')), true)
    assert.equal(await gater.denyDialMultiaddr?.(multiaddr(`/ip4/192.0.2.1/tcp/9732/p2p/${bad.toString()}`)), true)
    assert.equal(await gater.denyDialMultiaddr?.(multiaddr('/ip4/192.0.2.1/tcp/9732')), false)
    assert.equal(await gater.denyDialMultiaddr?.(multiaddr('/dns4/example.org/tcp/9732')), false)
    assert.equal(await gater.denyDialPeer?.(bad), true)
    assert.equal(await gater.denyDialPeer?.(banned), true)
    assert.equal(await gater.denyDialPeer?.(good), false)
    assert.equal(await gater.denyInboundConnection?.(conn('/ip4/198.51.100.1/tcp/40000')), true)
    assert.equal(await gater.denyInboundConnection?.(conn('/ip6/::ffff:198.51.100.1/tcp/40000')), true)
    assert.equal(await gater.denyInboundConnection?.(conn('/ip4/192.0.2.1/tcp/40000')), false)
    assert.equal(await gater.denyInboundEncryptedConnection?.(bad, conn('/ip4/192.0.2.1/tcp/40000')), true)
    assert.equal(await gater.denyInboundEncryptedConnection?.(good, conn('/ip4/192.0.2.1/tcp/40000')), false)
    assert.equal(await gater.denyOutboundConnection?.(good, conn('/ip4/203.0.113.5/tcp/9732')), true)
    assert.equal(await gater.denyOutboundEncryptedConnection?.(banned, conn('/ip4/192.0.2.1/tcp/9732')), true)
    assert.equal(await gater.filterMultiaddrForPeer?.(good, multiaddr('/ip4/198.51.100.1/tcp/9732')), false)
    assert.equal(await gater.filterMultiaddrForPeer?.(good, multiaddr('/ip4/192.0.2.1/tcp/9732')), true)
  })
})
