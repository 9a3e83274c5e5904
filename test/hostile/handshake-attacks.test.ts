/**
 * Hostile peers at the handshake: each attack comes from a real libp2p host on its own loopback
 * address and must end with the attacker disconnected — greylisted where Octez greylists — while
 * an honest node (127.0.0.1) still authenticates and is answered, and nothing escapes as an
 * uncaught error in the victim's process.
 */
import { after, afterEach, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { randomBytes } from '../../src/crypto/index.ts'
import { Writer } from '../../src/encoding/index.ts'
import {
  HandshakeDecipherError, HandshakeTimeoutError, MalformedHandshakeError, NotEnoughProofOfWorkError, PeerRejectedError,
  SelfConnectionError
} from '../../src/handshake/errors.ts'
import type { HandshakeFailure } from '../../src/handshake/service.ts'
import { HANDSHAKE_PROTOCOL } from '../../src/handshake/service.ts'
import { identityFailingPow, identityWithPow, startNode } from '../helpers/node.ts'
import { closed, connectionMessageOf, RawHandshake } from '../handshake/raw-peer.ts'
import { assertDisconnectedAndGreylisted, assertDisconnectedNotGreylisted, assertHonestServed, CrashWatch, freshHonestIp, rawHandshakeToAck, startNodeAttacker, startRawAttacker, startVictim, type Victim } from './harness.ts'
import { waitFor } from '../helpers/wait.ts'

const VICTIM_POW = 4
const AUTH_TIMEOUT_MS = 1500

describe('hostile peers: handshake', () => {
  let victim: Victim
  const crashes = new CrashWatch()
  const cleanups: Array<() => Promise<unknown>> = []

  before(async () => {
    crashes.start()
    victim = await startVictim({ name: 'hostile-handshake', node: { expectedPow: VICTIM_POW, authenticationTimeoutMs: AUTH_TIMEOUT_MS } })
  })
  after(async () => {
    await victim?.close()
    crashes.stop()
  })
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => {})
    assert.deepEqual(crashes.errors, [], crashes.describe())
  })

  /** The victim's next handshake failure with this libp2p peer. */
  function failureOf (peer: PeerId): Promise<HandshakeFailure> {
    return new Promise(resolve => {
      const listener = (f: HandshakeFailure): void => {
        if (!f.libp2pPeerId.equals(peer)) return
        victim.node.events.off('handshake:failed', listener)
        resolve(f)
      }
      victim.node.events.on('handshake:failed', listener)
    })
  }

  async function rawAttacker (): ReturnType<typeof startRawAttacker> {
    const a = await startRawAttacker()
    cleanups.push(async () => { await a.host.stop() })
    return a
  }

  it('too little proof of work: closed, IP and PeerId greylisted, the claimed Tezos id not', async () => {
    const { host, ip } = await rawAttacker()
    const weak = identityFailingPow(VICTIM_POW)
    const failed = failureOf(host.peerId)
    const connection = await host.dial(multiaddr(victim.address))
    const hs = await RawHandshake.open(host, connection)
    await hs.sendMessage(connectionMessageOf(weak))
    const failure = await failed
    assert.ok(failure.error instanceof NotEnoughProofOfWorkError, String(failure.error))
    await assertDisconnectedAndGreylisted(victim, { ip, peerId: host.peerId })
    assert.equal(victim.node.greylist.isGreylisted(weak.peerId), false)
    // The gate now refuses the attacker's address before Noise.
    await assert.rejects(host.dial(multiaddr(victim.address), { force: true }))
    await assertHonestServed(victim)
  })

  it('replays the stamp and key of an honest identity: cannot open chunk #0, greylisted; the honest owner still gets in', async () => {
    const { host, ip } = await rawAttacker()
    const honest = identityWithPow(VICTIM_POW)
    const failed = failureOf(host.peerId)
    const connection = await host.dial(multiaddr(victim.address))
    const hs = await RawHandshake.open(host, connection)
    // Its public key and stamp are public (they travel in clear): the attacker sends them as its own…
    await hs.sendMessage(connectionMessageOf(honest))
    await hs.readFrame()
    // …but without the secret key it cannot seal chunk #0: whatever it sends fails the MAC.
    const forged = new Uint8Array(2 + 16 + 2)
    forged[1] = 18
    forged.set(randomBytes(18), 2)
    await hs.send(forged)
    const failure = await failed
    assert.ok(failure.error instanceof HandshakeDecipherError, String(failure.error))
    await assertDisconnectedAndGreylisted(victim, { ip, peerId: host.peerId })
    assert.equal(victim.node.greylist.isGreylisted(honest.peerId), false, 'the replayed identity is not punished')
    await assertHonestServed(victim, honest)
  })

  it('relays an honest node\'s handshake: the nonces bound to the libp2p session fail, the relay is greylisted', async () => {
    const { host: relay, ip } = await rawAttacker()
    const honest = await startNode({ identity: identityWithPow(VICTIM_POW), listen: [], sourceAddress: freshHonestIp() })
    cleanups.push(async () => { await honest.stop() })
    const failed = failureOf(relay.peerId)
    const relayed = Promise.withResolvers<void>()
    await relay.handle(HANDSHAKE_PROTOCOL, async (stream, fromHonest) => {
      try {
        const sideA = new RawHandshake(stream, fromHonest)
        const aFrame = await sideA.readFrame()
        const toVictim = await relay.dial(multiaddr(victim.address))
        const sideB = await RawHandshake.open(relay, toVictim)
        await sideB.send(aFrame)
        await sideA.send(await sideB.readFrame())
        const [fromA, fromB] = await Promise.all([sideA.readRawChunk(), sideB.readRawChunk()])
        await sideB.forwardRawChunk(fromA)
        await sideA.forwardRawChunk(fromB).catch(() => {})
      } catch {
        // Either side may drop the relay once the victim refuses the chunk: the test checks the victim's verdict.
      } finally {
        relayed.resolve()
      }
    })
    await assert.rejects(honest.dial(relay.getMultiaddrs()[0]))
    await relayed.promise
    const failure = await failed
    assert.ok(failure.error instanceof HandshakeDecipherError, String(failure.error))
    await assertDisconnectedAndGreylisted(victim, { ip, peerId: relay.peerId })
    assert.equal(victim.node.greylist.isGreylisted(honest.identity.peerId), false)
    // The node whose handshake was relayed connects directly and is served.
    await assertHonestServed(victim, honest.identity)
  })

  it('garbage in the connection frame, then garbage in chunk #0: both greylisted', async () => {
    for (const variant of ['frame', 'chunk'] as const) {
      const { host, ip } = await rawAttacker()
      const failed = failureOf(host.peerId)
      const connection = await host.dial(multiaddr(victim.address))
      const hs = await RawHandshake.open(host, connection)
      if (variant === 'frame') {
        const body = randomBytes(200)
        // The chain-name length sits at body offset 82: make it absurd so the body cannot decode.
        body.set([0xff, 0xff, 0xff, 0x00], 82)
        await hs.send(new Uint8Array([0x00, 200, ...body]))
      } else {
        await hs.sendMessage(connectionMessageOf(identityWithPow(VICTIM_POW)))
        await hs.readFrame()
        await hs.send(new Uint8Array([0x00, 18, ...randomBytes(18)]))
      }
      const failure = await failed
      const expected = variant === 'frame' ? MalformedHandshakeError : HandshakeDecipherError
      assert.ok(failure.error instanceof expected, `${variant}: ${String(failure.error)}`)
      await assertDisconnectedAndGreylisted(victim, { ip, peerId: host.peerId })
    }
    await assertHonestServed(victim)
  })

  it('oversized length prefixes on the connection frame and on each chunk: refused before reading, greylisted', async () => {
    const cases = [
      { name: 'connection frame 0xffff', after: 'nothing' as const, bytes: new Uint8Array([0xff, 0xff, 1, 2, 3]) },
      { name: 'connection frame 1025', after: 'nothing' as const, bytes: new Uint8Array([0x04, 0x01]) },
      { name: 'chunk #0 0xffff', after: 'frame' as const, bytes: new Uint8Array([0xff, 0xff, 0, 0]) },
      { name: 'chunk #0 one byte over', after: 'frame' as const, bytes: new Uint8Array([0x00, 19]) },
      { name: 'chunk #1 0xffff', after: 'metadata' as const, bytes: new Uint8Array([0xff, 0xff, 0, 0]) }
    ]
    for (const c of cases) {
      const { host, ip } = await rawAttacker()
      const identity = identityWithPow(VICTIM_POW)
      const failed = failureOf(host.peerId)
      const connection = await host.dial(multiaddr(victim.address))
      const hs = await RawHandshake.open(host, connection)
      if (c.after !== 'nothing') {
        const sent = await hs.sendMessage(connectionMessageOf(identity))
        const received = await hs.readFrame()
        if (c.after === 'metadata') {
          hs.deriveCipher(identity, sent, received, host)
          await hs.sendMetadata()
        }
      }
      await hs.send(c.bytes)
      const failure = await failed
      assert.ok(failure.error instanceof MalformedHandshakeError, `${c.name}: ${String(failure.error)}`)
      await assertDisconnectedAndGreylisted(victim, { ip, peerId: host.peerId })
    }
    await assertHonestServed(victim)
  })

  it('slowloris: connections that trickle their frame a byte at a time are closed at the authentication timeout, not greylisted; honest peers get in meanwhile', async () => {
    const attackers = await Promise.all(Array.from({ length: 4 }, async () => await rawAttacker()))
    const frame = new Uint8Array([0x00, 100, ...new Uint8Array(100)])
    const stop = new AbortController()
    const trickles = attackers.map(async ({ host }) => {
      const failed = failureOf(host.peerId)
      const connection = await host.dial(multiaddr(victim.address))
      const hs = await RawHandshake.open(host, connection)
      for (let i = 0; i < frame.length && !stop.signal.aborted && connection.status === 'open'; i++) {
        await hs.send(frame.subarray(i, i + 1)).catch(() => {})
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      return { failure: await failed, connection }
    })
    // While the trickles hold their slots, an honest peer is authenticated and answered.
    await assertHonestServed(victim)
    const results = await Promise.all(trickles)
    stop.abort()
    for (const { failure, connection } of results) {
      assert.ok(failure.error instanceof HandshakeTimeoutError, String(failure.error))
      assert.equal(failure.greylisted, false)
      await closed(connection)
    }
    for (const { host, ip } of attackers) await assertDisconnectedNotGreylisted(victim, { ip, peerId: host.peerId })
  })

  it('opens streams as fast as it can on an unauthenticated connection: none answered, closed at the timeout, not greylisted', async () => {
    const { host, ip } = await rawAttacker()
    const failed = failureOf(host.peerId)
    const connection = await host.dial(multiaddr(victim.address))
    const protocols = ['/tzp2p/sync/1.0.0', '/tzp2p/gossip/1.0.0', '/tzp2p/gossip/1.1.0', '/tzp2p/peers/1.0.0', HANDSHAKE_PROTOCOL]
    let answeredBytes = 0
    const handshakeStreamsAnswered = new Set<number>()
    await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const protocol = protocols[i % protocols.length]
      const s = await connection.newStream(protocol).catch(() => undefined)
      if (s === undefined) return
      s.addEventListener('message', evt => {
        if (protocol === HANDSHAKE_PROTOCOL) handshakeStreamsAnswered.add(i)
        else answeredBytes += evt.data.byteLength
      })
      // A Bootstrap / request-shaped envelope on the application protocols; the handshake streams stay silent.
      // The victim may already have reset the stream (what this attack expects): nothing to send then.
      if (protocol !== HANDSHAKE_PROTOCOL && s.status === 'open') {
        try { s.send(new Uint8Array([0, 0, 0, 2, 0, 2])) } catch (err) { if (s.status === 'open') throw err }
      }
      await new Promise<void>(resolve => {
        if (s.status !== 'open') { resolve(); return }
        s.addEventListener('close', () => { resolve() }, { once: true })
      })
    }))
    // Streams of an unauthenticated connection are reset unread, most during protocol negotiation.
    // The one handshake the victim runs per connection may have sent its connection message (both
    // sides send theirs at once, as Octez's p2p_socket.ml does) before the stream was closed.
    assert.equal(answeredBytes, 0)
    assert.ok(handshakeStreamsAnswered.size <= 1, `${handshakeStreamsAnswered.size} handshake streams answered`)
    assert.equal(victim.node.peers.get(host.peerId), undefined)
    await assertHonestServed(victim)
    const failure = await failed
    assert.ok(failure.error instanceof HandshakeTimeoutError, String(failure.error))
    await closed(connection)
    await assertDisconnectedNotGreylisted(victim, { ip, peerId: host.peerId })
  })

  it('self-connection: dialling its own address fails with Myself, the point is remembered, nobody is greylisted', async () => {
    const before = victim.node.greylist.size
    // Its address without the /p2p part, as a point learnt from a peer or a config file reads.
    const point = victim.address.replace(/\/p2p\/.*$/, '')
    await assert.rejects(victim.node.dial(point), SelfConnectionError)
    assert.ok(victim.node.handshake.ownPoints.size >= 1)
    // And again: refused before any socket.
    await assert.rejects(victim.node.dial(point), SelfConnectionError)
    assert.equal(victim.node.greylist.size, before)
    assert.equal(victim.node.greylist.isGreylisted(victim.node.identity.peerId), false)
    await assertHonestServed(victim)
  })

  it('claims the victim\'s own identity: cannot open chunk #0, greylisted; the victim does not greylist itself', async () => {
    const { host, ip } = await rawAttacker()
    const failed = failureOf(host.peerId)
    const connection = await host.dial(multiaddr(victim.address))
    const hs = await RawHandshake.open(host, connection)
    await hs.sendMessage(connectionMessageOf(victim.node.identity))
    await hs.readFrame()
    await hs.send(new Uint8Array([0x00, 18, ...randomBytes(18)]))
    const failure = await failed
    assert.ok(failure.error instanceof HandshakeDecipherError, String(failure.error))
    await assertDisconnectedAndGreylisted(victim, { ip, peerId: host.peerId })
    assert.equal(victim.node.greylist.isGreylisted(victim.node.identity.peerId), false)
    await assertHonestServed(victim)
  })

  it('duplicate connections of one Tezos identity: one is kept, the others are Nacked Already_connected, nobody greylisted', async () => {
    const attacker = await startNodeAttacker({ identity: identityWithPow(VICTIM_POW) })
    cleanups.push(attacker.close)
    await attacker.node.dial(victim.address)
    const results = await Promise.allSettled(Array.from({ length: 5 }, async () => await attacker.node.dial(victim.address, { force: true })))
    for (const r of results) {
      assert.equal(r.status, 'rejected')
      assert.ok(r.reason instanceof Error && /Already_connected/.test(r.reason.message), String(r.reason))
    }
    await waitFor(() => victim.node.libp2p.getConnections(attacker.node.peerId).length === 1, { what: 'only the first connection left' })
    assert.ok(victim.node.peers.get(attacker.node.identity.peerId) !== undefined, 'the first connection is still authenticated')
    assert.equal(victim.node.greylist.isGreylisted(attacker.ip), false)
    await assertHonestServed(victim)
  })

  it('a Nack listing more than 100 points: does not decode, greylisted', async () => {
    const { host, ip } = await rawAttacker()
    const identity = identityWithPow(VICTIM_POW)
    const failed = failureOf(host.peerId)
    const { hs } = await rawHandshakeToAck(host, victim.address, identity)
    // Nack(Too_many_connections, 101 short points): within the chunk's byte bound, over the list bound.
    const points = new Writer()
    for (let i = 0; i < 101; i++) points.string(`1.2.3.${i % 250}:1`)
    const list = points.finish()
    const nack = new Writer()
    nack.uint8(0x01)
    nack.int16(1)
    nack.uint30(list.length)
    nack.raw(list)
    await hs.sendChunk(nack.finish())
    const failure = await failed
    assert.ok(failure.error instanceof MalformedHandshakeError, String(failure.error))
    await assertDisconnectedAndGreylisted(victim, { ip, peerId: host.peerId })
    await assertHonestServed(victim)
  })

  it('a wrong chain name: Nack Unknown_chain_name, disconnected, not greylisted (as Octez)', async () => {
    const attacker = await startNodeAttacker({ identity: identityWithPow(VICTIM_POW), chainName: 'TEZOS_MAINNET' })
    cleanups.push(attacker.close)
    const failed = failureOf(attacker.node.peerId)
    await assert.rejects(attacker.node.dial(victim.address))
    const failure = await failed
    assert.ok(failure.error instanceof PeerRejectedError, String(failure.error))
    assert.match(failure.error.message, /Unknown_chain_name/)
    await assertDisconnectedNotGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    await assertHonestServed(victim)
  })
})
