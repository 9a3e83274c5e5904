import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { octezNonces } from '../../src/crypto/index.ts'
import { Writer } from '../../src/encoding/index.ts'
import {
  HandshakeDecipherError, HandshakeTimeoutError, MalformedHandshakeError, NotEnoughProofOfWorkError, RejectedByPeerError
} from '../../src/handshake/errors.ts'
import { HANDSHAKE_PROTOCOL } from '../../src/handshake/service.ts'
import { decodeConnectionFrame } from '../../src/wire/connection-message.ts'
import { addressOf, identityFailingPow, identityWithPow, nextEvent, startNode, stopAll, TEST_CHAIN } from '../helpers/node.ts'
import { closed, connectionMessageOf, RawHandshake, startRawHost } from './raw-peer.ts'

describe('handshake refusals', () => {
  it('refuses a peer below the expected proof of work, greylists its IP and ids, then refuses the IP at the gate', async () => {
    const b = await startNode({ expectedPow: 8, identity: identityWithPow(8) })
    const weak = await startNode({ identity: identityFailingPow(8) })
    const other = await startNode()
    try {
      const failed = nextEvent(b, 'handshake:failed')
      await assert.rejects(weak.dial(addressOf(b)))
      const failure = await failed
      assert.ok(failure.error instanceof NotEnoughProofOfWorkError, String(failure.error))
      assert.equal(failure.greylisted, true)
      assert.equal(failure.tezosPeerId, weak.identity.peerId)
      assert.ok(b.greylist.isGreylisted('127.0.0.1'))
      assert.ok(b.greylist.isGreylisted(weak.peerId))
      // The Tezos id was only claimed (anyone can send someone else's public key): not greylisted.
      assert.ok(!b.greylist.isGreylisted(weak.identity.peerId))
      assert.equal(b.peers.size, 0)
      // The whole IP is now refused by the connection gater, even for a peer that has the work.
      await assert.rejects(other.dial(addressOf(b)))
      assert.equal(b.peers.size, 0)
      // And outbound: B will not dial a greylisted host either.
      await assert.rejects(b.dial(addressOf(other)))
    } finally {
      await stopAll(b, weak, other)
    }
  })

  it('answers a wrong chain name with Nack Unknown_chain_name and does not greylist', async () => {
    const b = await startNode()
    const raw = await startRawHost()
    try {
      const identity = identityWithPow(0)
      const connection = await raw.dial(multiaddr(addressOf(b)))
      const hs = await RawHandshake.open(raw, connection)
      const sent = await hs.sendMessage(connectionMessageOf(identity, {
        version: { chainName: 'TEZOS_MAINNET', distributedDbVersion: 2, p2pVersion: 1 }
      }))
      const received = await hs.readFrame()
      assert.equal(decodeConnectionFrame(received).version.chainName, TEST_CHAIN)
      hs.deriveCipher(identity, sent, received, raw)
      await hs.sendMetadata()
      await hs.readChunk('metadata')
      // B has already Nacked and closed its side, so our Ack may find the stream shut.
      await hs.sendAck({ tag: 'Ack' }).catch(() => {})
      const answer = await hs.readAck()
      assert.equal(answer.tag, 'Nack')
      assert.equal(answer.tag === 'Nack' && answer.motive, 'Unknown_chain_name')
      await closed(connection)
      assert.equal(b.greylist.size, 0)
      assert.equal(b.peers.size, 0)
    } finally {
      await stopAll(b, raw)
    }
  })

  it('a relay that forwards another node\'s connection message cannot complete the handshake', async () => {
    // A dials R; R opens a connection to B and relays A's and B's frames and chunks between them.
    const a = await startNode()
    const b = await startNode()
    const relay = await startRawHost()
    try {
      const bFailed = nextEvent(b, 'handshake:failed')
      const relayDone = Promise.withResolvers<void>()
      const frames = Promise.withResolvers<{ aFrame: Uint8Array, bFrame: Uint8Array }>()
      await relay.handle(HANDSHAKE_PROTOCOL, async (stream, fromA) => {
        try {
          const sideA = new RawHandshake(stream, fromA)
          const aFrame = await sideA.readFrame()
          const toB = await relay.dial(multiaddr(addressOf(b)))
          const sideB = await RawHandshake.open(relay, toB)
          await sideB.send(aFrame)
          const bFrame = await sideB.readFrame()
          await sideA.send(bFrame)
          frames.resolve({ aFrame, bFrame })
          // Both ends now hold the other's key and derive their channels; forward chunk #0 both ways.
          const [fromAChunk, fromBChunk] = await Promise.all([sideA.readRawChunk(), sideB.readRawChunk()])
          await sideB.forwardRawChunk(fromAChunk)
          await sideA.forwardRawChunk(fromBChunk).catch(() => {})
        } finally {
          relayDone.resolve()
        }
      })
      await assert.rejects(a.dial(relay.getMultiaddrs()[0]))
      await relayDone.promise
      const failure = await bFailed
      // B derived nonces bound to (R, B); A sealed chunk #0 with nonces bound to (A, R).
      assert.ok(failure.error instanceof HandshakeDecipherError, String(failure.error))
      assert.equal(failure.greylisted, true)
      assert.ok(failure.libp2pPeerId.equals(relay.peerId))
      assert.ok(b.greylist.isGreylisted(relay.peerId))
      assert.ok(b.greylist.isGreylisted('127.0.0.1'))
      // A's Tezos id came through the relay unproven: A is not punished for R's relaying.
      assert.ok(!b.greylist.isGreylisted(a.identity.peerId))
      assert.equal(b.peers.size, 0)
      assert.equal(a.peers.size, 0)
      // What the binding prevents: with Octez's unbound derivation A's sealing nonce is exactly
      // the one B opens with, so the relayed chunk would have been accepted.
      const { aFrame, bFrame } = await frames.promise
      assert.deepEqual(octezNonces(aFrame, bFrame, false).local, octezNonces(bFrame, aFrame, true).remote)
    } finally {
      await stopAll(a, b, relay)
    }
  })

  it('refuses garbage, an oversized length and a stalled half frame; closes a connection with no handshake', async () => {
    const timeout = 400
    const cases: Array<{ name: string, bytes?: Uint8Array, expect: typeof MalformedHandshakeError | typeof HandshakeTimeoutError, greylisted: boolean }> = [
      // A plausible length, then a body whose chain-name length is absurd.
      { name: 'garbage', bytes: new Uint8Array([0x00, 100, ...new Uint8Array(100).fill(0xab)]), expect: MalformedHandshakeError, greylisted: true },
      { name: 'oversized length', bytes: new Uint8Array([0xff, 0xff, 1, 2, 3]), expect: MalformedHandshakeError, greylisted: true },
      { name: 'half a frame, then silence', bytes: new Uint8Array([0x00, 100, ...new Uint8Array(50)]), expect: HandshakeTimeoutError, greylisted: false },
      { name: 'no handshake stream at all', expect: HandshakeTimeoutError, greylisted: false }
    ]
    for (const c of cases) {
      const b = await startNode({ authenticationTimeoutMs: timeout })
      const raw = await startRawHost()
      try {
        const failed = nextEvent(b, 'handshake:failed')
        const connection = await raw.dial(multiaddr(addressOf(b)))
        if (c.bytes !== undefined) {
          const hs = await RawHandshake.open(raw, connection)
          await hs.send(c.bytes)
        }
        const failure = await failed
        assert.ok(failure.error instanceof c.expect, `${c.name}: ${String(failure.error)}`)
        assert.equal(failure.greylisted, c.greylisted, c.name)
        assert.equal(b.greylist.isGreylisted(raw.peerId), c.greylisted, c.name)
        await closed(connection)
        assert.equal(b.peers.size, 0)
      } finally {
        await stopAll(b, raw)
      }
    }
  })

  it('greylists a peer whose Nack carries more than 100 points', async () => {
    const a = await startNode()
    const rogue = await startRawHost()
    const identity = identityWithPow(0)
    try {
      await rogue.handle(HANDSHAKE_PROTOCOL, async (stream, connection) => {
        const hs = new RawHandshake(stream, connection)
        const received = await hs.readFrame()
        const sent = await hs.sendMessage(connectionMessageOf(identity))
        hs.deriveCipher(identity, sent, received, rogue)
        await hs.sendMetadata()
        await hs.readChunk('metadata')
        // Nack, Too_many_connections, 101 points: one over Octez's bound.
        const w = new Writer().uint8(0x01).int16(1)
        w.dynamic(w => { for (let i = 0; i < 101; i++) w.string(`10.0.0.${i % 250}:9732`) })
        await hs.sendChunk(w.finish())
      })
      const failed = nextEvent(a, 'handshake:failed')
      await assert.rejects(a.dial(rogue.getMultiaddrs()[0]), MalformedHandshakeError)
      const failure = await failed
      assert.equal(failure.greylisted, true)
      assert.ok(a.greylist.isGreylisted(rogue.peerId))
      assert.ok(a.greylist.isGreylisted(identity.peerId))
    } finally {
      await stopAll(a, rogue)
    }
  })

  it('reports the points of a Nack it accepts', async () => {
    const a = await startNode()
    const rogue = await startRawHost()
    const identity = identityWithPow(0)
    try {
      await rogue.handle(HANDSHAKE_PROTOCOL, async (stream, connection) => {
        const hs = new RawHandshake(stream, connection)
        const received = await hs.readFrame()
        const sent = await hs.sendMessage(connectionMessageOf(identity))
        hs.deriveCipher(identity, sent, received, rogue)
        await hs.sendMetadata()
        await hs.readChunk('metadata')
        await hs.sendAck({ tag: 'Nack', motive: 'Too_many_connections', points: ['192.0.2.1:9732', '[2001:db8::1]:9733'] })
      })
      await assert.rejects(a.dial(rogue.getMultiaddrs()[0]), (err: Error) => {
        assert.ok(err instanceof RejectedByPeerError, String(err))
        assert.deepEqual(err.points, ['192.0.2.1:9732', '[2001:db8::1]:9733'])
        return true
      })
      assert.equal(a.greylist.size, 0)
    } finally {
      await stopAll(a, rogue)
    }
  })
})
