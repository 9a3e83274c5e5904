import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ipOfMultiaddr, tcpPortOfMultiaddr, withCopiedValues } from '../../src/net/multiaddr.ts'

describe('withCopiedValues', () => {
  it('gives an equal multiaddr for a connection address with a /p2p component, as libp2p builds it', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const original = multiaddr('/ip4/127.0.0.1/tcp/9732').encapsulate(`/p2p/${peer.toString()}`)
    const copied = withCopiedValues(original)
    assert.notEqual(copied, original)
    assert.ok(copied.equals(original))
    assert.equal(copied.toString(), original.toString())
    assert.deepEqual(copied.bytes, original.bytes)
    assert.deepEqual(copied.getComponents(), original.getComponents())
    assert.equal(copied.getComponents().at(-1)?.value, peer.toString())
    assert.equal(ipOfMultiaddr(copied), '127.0.0.1')
    assert.equal(tcpPortOfMultiaddr(copied), 9732)
  })

  it('keeps IPv6, DNS and valueless components as they were', () => {
    for (const text of ['/ip6/2001:db8::8a2e:370:7334/tcp/9732', '/dns4/bootstrap.example.org/tcp/9732', '/ip4/10.0.0.1/tcp/1/tls', '/dns/ÿnïcode.example/tcp/9']) {
      const original = multiaddr(text)
      const copied = withCopiedValues(original)
      assert.equal(copied.toString(), original.toString(), text)
      assert.ok(copied.equals(original), text)
    }
  })
})
