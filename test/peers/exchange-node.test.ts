import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { concatBytes } from '../../src/encoding/index.ts'
import { RejectedByPeerError } from '../../src/handshake/errors.ts'
import { encodePeerMessage, PEER_EXCHANGE_PROTOCOL } from '../../src/peers/exchange/index.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import { addressOf, nextEvent, startNode, stopAll } from '../helpers/node.ts'
import { connect, hostPortOf, pointKeyOf, startManaged } from './managed-helpers.ts'
import { waitFor } from '../helpers/wait.ts'

/** `/tzp2p/peers/1.0.0` between real nodes on loopback (protocols/peers.md). */

function connectionTo (from: TzNode, to: TzNode): Connection {
  const c = from.libp2p.getConnections(to.peerId)[0]
  if (c === undefined) throw new Error('not connected')
  return c
}

/** An Advertise with `n` points, built by hand (the encoder refuses more than 100). */
function rawAdvertise (n: number): Uint8Array {
  const one = new TextEncoder().encode('/ip4/10.1.2.3/tcp/9732')
  const item = concatBytes(new Uint8Array([0, 0, 0, one.length]), one)
  const payload = concatBytes(...Array.from({ length: n }, () => item))
  const head = new Uint8Array(6)
  new DataView(head.buffer).setUint32(0, payload.length + 2)
  new DataView(head.buffer).setUint16(4, 3)
  return concatBytes(head, payload)
}

describe('peer exchange', () => {
  it('answers Bootstrap with the public points it knows, never a private node; a new node spreads from one seed', async () => {
    const seed = await startManaged()
    const b = await startManaged()
    const c = await startManaged()
    const hidden = await startManaged({ privateMode: true })
    const d = await startManaged({ peers: [hostPortOf(seed)], limits: { minConnections: 3, expectedConnections: 3, maxConnections: 6, maintenanceIdleTimeMs: 60_000 } })
    try {
      await connect(b, seed)
      await connect(c, seed)
      await connect(hidden, seed)
      // The private node's connection leaves no trace in the seed's point book.
      assert.ok(!seed.pointBook?.all().some(p => p.key === pointKeyOf(hidden)))
      // D knows only the seed: maintenance dials it, asks it for points, dials what it learns.
      await waitFor(() => d.peers.size >= 3, { what: 'D reached its minimum through peer exchange' })
      // D was given only the seed's address: B and C can only have come from the seed's Advertise.
      assert.ok(d.peers.get(b.identity.peerId) !== undefined && d.peers.get(c.identity.peerId) !== undefined)
      assert.ok(d.pointBook?.get(pointKeyOf(b)) !== undefined && d.pointBook?.get(pointKeyOf(c)) !== undefined)
      assert.ok(!d.pointBook?.all().some(p => p.key === pointKeyOf(hidden)), 'the private node is never advertised')

      // Asked directly: the list holds B and C, not the private node.
      const points = await d.libp2p.services.peerExchange?.requestPoints(connectionTo(d, seed)) ?? []
      const keys = points.map(p => `/ip4/${p.host}/tcp/${p.port}`)
      assert.ok(keys.includes(pointKeyOf(b)) && keys.includes(pointKeyOf(c)))
      assert.ok(!keys.includes(pointKeyOf(hidden)))
      // A private node shares nothing.
      const fromHidden = await seed.libp2p.services.peerExchange?.requestPoints(connectionTo(seed, hidden))
      assert.deepEqual(fromHidden, [])
    } finally {
      await stopAll(seed, b, c, hidden, d)
    }
  })

  it('swap: the proposer and the peer it asks each trade one connection and keep their counts', async () => {
    const [r, a, b, c, d] = await Promise.all(Array.from({ length: 5 }, async () => await startManaged()))
    try {
      // R knows A and B; A also has C, B also has D.
      await connect(r, a)
      await connect(r, b)
      await connect(a, c)
      await connect(b, d)
      const id = (n: TzNode): string => n.identity.peerId
      assert.equal(await r.connectionManager?.proposeSwap(), true)
      // R asked one of A/B to connect to the other; it answered with its own other peer (C or D),
      // which R connected to in place of the one it proposed.
      await waitFor(() => r.peers.get(id(c)) !== undefined || r.peers.get(id(d)) !== undefined, { what: 'R traded a connection' })
      const [asked, proposed, given] = r.peers.get(id(c)) !== undefined ? [a, b, c] : [b, a, d]
      await waitFor(() =>
        r.peers.get(id(proposed)) === undefined && asked.peers.get(id(proposed)) !== undefined && asked.peers.get(id(given)) === undefined, { what: 'both sides completed the swap' })
      assert.equal(r.peers.size, 2)
      assert.equal(asked.peers.size, 2)
      // Within the linger time neither side swaps again.
      assert.equal(await r.connectionManager?.proposeSwap(), false)
    } finally {
      await stopAll(r, a, b, c, d)
    }
  })

  it('registers the points of a Nack', async () => {
    const full = await startManaged({ limits: { minConnections: 1, expectedConnections: 1, maxConnections: 1 } })
    const a = await startManaged()
    const y = await startManaged()
    try {
      await connect(a, full)
      const heard = nextEvent(y, 'point:discovered', p => p.source === 'nack')
      await assert.rejects(y.dial(addressOf(full)), (err: Error) => err instanceof RejectedByPeerError && err.motive === 'Too_many_connections')
      assert.equal((await heard).key, pointKeyOf(a))
      assert.ok(y.pointBook?.get(pointKeyOf(a)) !== undefined)
    } finally {
      await stopAll(full, a, y)
    }
  })

  it('an oversized list greylists its sender, who is refused until the greylist entry expires', async () => {
    const a = await startManaged({ greylist: { ipTtlMs: 1500, peerTtlMs: 1500 } })
    const e = await startNode()
    try {
      await connect(e, a)
      const greylisted = nextEvent(a, 'peer:greylisted')
      const gone = nextEvent(e, 'peer:disconnected')
      const penalized = nextEvent(a, 'peer:penalized')
      const stream = await connectionTo(e, a).newStream(PEER_EXCHANGE_PROTOCOL)
      stream.send(rawAdvertise(101))
      await stream.close().catch(() => {})
      assert.equal((await penalized).kind, 'malformed-message')
      await greylisted
      await gone
      assert.ok(a.greylist.isGreylisted(e.identity.peerId))
      assert.ok(a.greylist.isGreylisted(e.peerId))
      assert.ok(a.greylist.isGreylisted('127.0.0.1'))
      // Refused while greylisted: the gater closes the socket before any handshake.
      await assert.rejects(e.dial(addressOf(a), { force: true }))
      assert.equal(a.peers.size, 0)
      // Once the entries expire, the same peer gets in again.
      await waitFor(() => !a.greylist.isGreylisted('127.0.0.1') && !a.greylist.isGreylisted(e.peerId), { what: 'the greylist entries expired' })
      const peer = await e.dial(addressOf(a), { force: true })
      assert.equal(peer.tezosPeerId, a.identity.peerId)
    } finally {
      await stopAll(a, e)
    }
  })

  it('a malformed Advertise in answer to our Bootstrap greylists the peer that sent it', async () => {
    const a = await startManaged({ limits: { minConnections: 2, expectedConnections: 2, maxConnections: 4, maintenanceIdleTimeMs: 60_000 } })
    const liar = await startNode()
    // The liar answers every Bootstrap with a point that is no multiaddr.
    await liar.libp2p.handle(PEER_EXCHANGE_PROTOCOL, async (stream: Stream) => {
      const bytes = byteStream(stream)
      await bytes.read({ bytes: 6 })
      stream.send(encodePeerMessage({ tag: 'Advertise', points: ['not a multiaddr'] }))
      await stream.close()
    })
    try {
      const greylisted = nextEvent(a, 'peer:greylisted', e => e.key === liar.identity.peerId)
      // A has one connection and wants two: maintenance asks its only peer for more.
      await liar.dial(addressOf(a))
      const entry = await greylisted
      assert.match(entry.reason, /malformed-message/)
      await waitFor(() => a.peers.size === 0, { what: 'the liar is disconnected' })
    } finally {
      await stopAll(a, liar)
    }
  })

  it('a well-formed message that has no place (an Advertise opening a stream) costs score, not a greylisting', async () => {
    const a = await startManaged()
    const e = await startNode()
    try {
      await connect(e, a)
      const penalized = nextEvent(a, 'peer:penalized')
      const stream = await connectionTo(e, a).newStream(PEER_EXCHANGE_PROTOCOL)
      stream.send(encodePeerMessage({ tag: 'Advertise', points: ['/ip4/10.0.0.1/tcp/9732'] }))
      await stream.close().catch(() => {})
      const verdict = await penalized
      assert.equal(verdict.kind, 'invalid-message')
      assert.equal(verdict.action, 'none')
      assert.equal(a.greylist.size, 0)
      assert.equal(a.peers.size, 1)
      assert.ok((a.scores?.score(e.identity.peerId) ?? 0) < 0)
    } finally {
      await stopAll(a, e)
    }
  })
})
