import { test } from 'node:test'
import assert from 'node:assert/strict'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import {
  InvalidPointError, formatPoint, fromOctezPointString, ipPoint, normaliseIpAddress, parsePoint, pointFromKey, pointFromMultiaddr,
  pointKey, pointToMultiaddr, toOctezPointString
} from '../../src/net/point.ts'
import { multiaddr } from '@multiformats/multiaddr'

const TEZOS_ID = vectors.identities[0].peer_id
const LIBP2P_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

test('host:port forms, with Octez default port 9732', () => {
  assert.deepEqual(parsePoint('1.2.3.4:9733'), { hostKind: 'ip4', host: '1.2.3.4', port: 9733 })
  assert.deepEqual(parsePoint('1.2.3.4'), { hostKind: 'ip4', host: '1.2.3.4', port: 9732 })
  assert.deepEqual(parsePoint('[::1]:19732'), { hostKind: 'ip6', host: '::1', port: 19732 })
  assert.deepEqual(parsePoint('[2001:DB8:0::1]'), { hostKind: 'ip6', host: '2001:db8::1', port: 9732 })
  assert.deepEqual(parsePoint('2001:db8::1'), { hostKind: 'ip6', host: '2001:db8::1', port: 9732 })
  assert.deepEqual(parsePoint('Boot.TZInit.org'), { hostKind: 'dns', host: 'boot.tzinit.org', port: 9732 })
  assert.deepEqual(parsePoint('ghostnet.stakenow.de:9733'), { hostKind: 'dns', host: 'ghostnet.stakenow.de', port: 9733 })
  assert.deepEqual(parsePoint('localhost:1'), { hostKind: 'dns', host: 'localhost', port: 1 })
  assert.deepEqual(parsePoint('node:5', { defaultPort: 1 }), { hostKind: 'dns', host: 'node', port: 5 })
  assert.deepEqual(parsePoint('node', { defaultPort: 1 }), { hostKind: 'dns', host: 'node', port: 1 })
  // IPv4-mapped IPv6 is the IPv4 host.
  assert.deepEqual(parsePoint('[::ffff:10.0.0.1]:9732'), { hostKind: 'ip4', host: '10.0.0.1', port: 9732 })
})

test('#peer_id pins the Tezos peer id, validated as base58check', () => {
  assert.deepEqual(parsePoint(`1.2.3.4:9732#${TEZOS_ID}`), { hostKind: 'ip4', host: '1.2.3.4', port: 9732, expectedPeerId: TEZOS_ID })
  assert.deepEqual(parsePoint(`boot.example.net#${TEZOS_ID}`), { hostKind: 'dns', host: 'boot.example.net', port: 9732, expectedPeerId: TEZOS_ID })
  const badChecksum = TEZOS_ID.slice(0, -1) + (TEZOS_ID.endsWith('a') ? 'b' : 'a')
  assert.throws(() => parsePoint(`1.2.3.4#${badChecksum}`), (e: Error) => e instanceof InvalidPointError && /Tezos peer id/.test(e.message))
  assert.throws(() => parsePoint('1.2.3.4#'), InvalidPointError)
  // A block hash is valid base58check but not a peer id.
  assert.throws(() => parsePoint('1.2.3.4#BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2'), InvalidPointError)
})

test('multiaddr forms', () => {
  assert.deepEqual(parsePoint('/ip4/1.2.3.4/tcp/9732'), { hostKind: 'ip4', host: '1.2.3.4', port: 9732 })
  assert.deepEqual(parsePoint(`/ip6/0:0::0001/tcp/1/p2p/${LIBP2P_ID}`), { hostKind: 'ip6', host: '::1', port: 1, libp2pPeerId: LIBP2P_ID })
  assert.deepEqual(parsePoint('/dns4/Boot.Example.net/tcp/9732'), { hostKind: 'dns4', host: 'boot.example.net', port: 9732 })
  assert.deepEqual(parsePoint('/dns6/boot.example.net/tcp/9732'), { hostKind: 'dns6', host: 'boot.example.net', port: 9732 })
  assert.deepEqual(parsePoint(`/dns/boot.example.net/tcp/9732#${TEZOS_ID}`),
    { hostKind: 'dns', host: 'boot.example.net', port: 9732, expectedPeerId: TEZOS_ID })
})

test('bad addresses give InvalidPointError explaining the accepted forms', () => {
  const bad = [
    '', ' 1.2.3.4', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:x', '1.2.3.4:97320', '[::1', '[::1]x', '[1.2.3.4]:9732',
    '::1:99999x', 'fe80::1%eth0', '-bad-.example', 'a..b', '1.2.3', '300.1.1.1', 'bad_name!',
    '/ip4/1.2.3.4', '/ip4/1.2.3.4/udp/9732', '/ip4/1.2.3.4/tcp/1/ws', '/p2p/' + LIBP2P_ID, '/ip4/300.1.1.1/tcp/1',
    '/ip4/1.2.3.4/tcp/1/p2p/notapeer', '/ip4/1.2.3.4/tcp/0', '/dnsaddr/bootstrap.libp2p.io', '/dns/bad_name!/tcp/1',
    'x'.repeat(2000)
  ]
  for (const text of bad) {
    assert.throws(() => parsePoint(text), (e: Error) => e instanceof InvalidPointError && /accepted forms/.test(e.message), text)
  }
})

test('multiaddr conversion both ways; the key drops peer ids and canonicalises', () => {
  const p = parsePoint(`[::ffff:1.2.3.4]:9732#${TEZOS_ID}`)
  assert.equal(pointKey(p), '/ip4/1.2.3.4/tcp/9732')
  assert.equal(pointKey(parsePoint('1.2.3.4')), pointKey(p))
  const withId = parsePoint(`/ip4/1.2.3.4/tcp/9732/p2p/${LIBP2P_ID}`)
  assert.equal(pointToMultiaddr(withId).toString(), `/ip4/1.2.3.4/tcp/9732/p2p/${LIBP2P_ID}`)
  assert.equal(pointToMultiaddr(withId, { withPeerId: false }).toString(), '/ip4/1.2.3.4/tcp/9732')
  assert.equal(pointToMultiaddr(parsePoint('boot.example.net')).toString(), '/dns/boot.example.net/tcp/9732')
  assert.deepEqual(pointFromMultiaddr(multiaddr('/ip6/2001:db8::7/tcp/5')), { hostKind: 'ip6', host: '2001:db8::7', port: 5 })
  assert.deepEqual(pointFromKey('/dns4/a.b/tcp/3'), { hostKind: 'dns4', host: 'a.b', port: 3 })
  assert.equal(formatPoint(p), `1.2.3.4:9732#${TEZOS_ID}`)
  assert.equal(formatPoint(parsePoint('[::1]:5')), '[::1]:5')
})

test('Octez point strings: the Advertise vector parses and formats back byte for byte', () => {
  // The points of the Advertise vector in test/fixtures/octez-public.json.
  for (const text of ['[fe80::e828:209d:20e:c0ae]:375', '234.123.124.91:9876', '123.123.124.21:9876']) {
    assert.equal(toOctezPointString(fromOctezPointString(text)), text)
  }
  assert.equal(toOctezPointString(parsePoint('/ip6/::ffff:1.2.3.4/tcp/7')), '1.2.3.4:7')
  assert.throws(() => toOctezPointString(parsePoint('boot.example.net')), InvalidPointError)
  for (const text of ['1.2.3.4', 'host:1', '/ip4/1.2.3.4/tcp/1', `1.2.3.4:1#${TEZOS_ID}`, '[::1]']) {
    assert.throws(() => fromOctezPointString(text), InvalidPointError, text)
  }
})

test('Octez point strings follow Octez syntax (P2p_point.Id): IP literal, brackets for IPv6, explicit port 0–65535', () => {
  assert.deepEqual(fromOctezPointString('213.239.201.79:9732'), { hostKind: 'ip4', host: '213.239.201.79', port: 9732 })
  assert.deepEqual(fromOctezPointString('[fe80::e828:209d:20e:c0ae]:375'), { hostKind: 'ip6', host: 'fe80::e828:209d:20e:c0ae', port: 375 })
  assert.deepEqual(fromOctezPointString('[2001:DB8:0:0:0:0:0:1]:1'), { hostKind: 'ip6', host: '2001:db8::1', port: 1 })
  assert.deepEqual(fromOctezPointString('[::ffff:10.0.0.1]:80'), { hostKind: 'ip4', host: '10.0.0.1', port: 80 })
  for (const bad of ['1.2.3.4', '1.2.3.4:', '1.2.3.4:65536', '1.2.3.4:01', '::1:80', '[::1]80', '[::1]:x', 'host:80', '1.2.3.256:1', '[zz::1]:1']) {
    assert.throws(() => fromOctezPointString(bad), InvalidPointError, bad)
  }
  assert.equal(toOctezPointString(ipPoint('10.0.0.1', 9732)), '10.0.0.1:9732')
  assert.equal(toOctezPointString(ipPoint('2001:db8:0::1', 1)), '[2001:db8::1]:1')
  assert.equal(toOctezPointString(ipPoint('::ffff:10.0.0.1', 2)), '10.0.0.1:2')
  assert.throws(() => ipPoint('example.com', 1), InvalidPointError)
  assert.throws(() => ipPoint('10.0.0.1', -1), InvalidPointError)
  for (const p of ['[fe80::e828:209d:20e:c0ae]:375', '234.123.124.91:9876', '[::1]:0']) assert.equal(toOctezPointString(fromOctezPointString(p)), p)
})

test('IP normalisation', () => {
  assert.deepEqual(normaliseIpAddress('::FFFF:192.168.0.1'), { kind: 'ip4', address: '192.168.0.1' })
  assert.deepEqual(normaliseIpAddress('[2001:0db8:0000::0001]'), { kind: 'ip6', address: '2001:db8::1' })
  assert.deepEqual(normaliseIpAddress('10.0.0.1'), { kind: 'ip4', address: '10.0.0.1' })
  assert.equal(normaliseIpAddress('example.com'), undefined)
  assert.equal(normaliseIpAddress('fe80::1%eth0'), undefined)
})
