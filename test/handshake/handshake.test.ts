import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AUTHENTICATED_TAG, HANDSHAKE_PROTOCOL, TEZOS_PEER_ID_METADATA } from '../../src/handshake/service.ts'
import {
  PeerRefusedError, PeerRejectedError, RejectedByPeerError, SelfConnectionError, HandshakeClosedError
} from '../../src/handshake/errors.ts'
import { startNode, addressOf, nextEvent, stopAll, identityWithPow, TEST_CHAIN } from '../helpers/node.ts'
import { waitFor } from '../helpers/wait.ts'

/** The listening TCP port of a node (what it advertises in its connection messages). */
function portOf (node: { getMultiaddrs: () => Array<{ toString: () => string }> }): number {
  return Number(/\/tcp\/(\d+)/.exec(node.getMultiaddrs()[0].toString())?.[1])
}


/** An `assert.rejects` check: the peer Nacked us with `motive` and, when given, exactly `points`. */
function nackedWith (motive: string, points?: string[]): (err: Error) => boolean {
  return err => {
    assert.ok(err instanceof RejectedByPeerError, String(err))
    assert.equal(err.motive, motive)
    if (points !== undefined) assert.deepEqual(err.points, points)
    return true
  }
}

describe('handshake between two nodes on loopback', () => {
  it('authenticates both ways round and records the peer on each side', async () => {
    const a = await startNode({ disableMempool: true })
    const b = await startNode({ privateMode: true })
    try {
      for (const [dialer, listener] of [[a, b], [b, a]] as const) {
        const listenerSaw = nextEvent(listener, 'peer:authenticated')
        const dialerSaw = nextEvent(dialer, 'peer:authenticated')
        const peer = await dialer.dial(addressOf(listener))
        const seen = await listenerSaw
        assert.equal(await dialerSaw, peer)

        // The dialer's record of the listener.
        assert.equal(peer.tezosPeerId, listener.identity.peerId)
        assert.deepEqual(peer.publicKey, listener.identity.publicKey)
        assert.ok(peer.libp2pPeerId.equals(listener.peerId))
        assert.equal(peer.direction, 'outbound')
        assert.equal(peer.advertisedPort, portOf(listener))
        assert.equal(peer.remoteIp, '127.0.0.1')
        assert.deepEqual(peer.metadata, { disableMempool: listener === a, privateNode: listener === b })
        assert.deepEqual(peer.version, { chainName: 'TZP2P_TEST', distributedDbVersion: 2, p2pVersion: 1 })

        // The listener's record of the dialer.
        assert.equal(seen.tezosPeerId, dialer.identity.peerId)
        assert.ok(seen.libp2pPeerId.equals(dialer.peerId))
        assert.equal(seen.direction, 'inbound')
        assert.equal(seen.advertisedPort, portOf(dialer))
        assert.deepEqual(seen.metadata, { disableMempool: dialer === a, privateNode: dialer === b })
        assert.equal(listener.peers.get(dialer.identity.peerId), seen)

        // One connection, far below the connection limit: no peer-store tag is written.
        const stored = await dialer.libp2p.peerStore.get(listener.peerId)
        assert.ok(!stored.tags.has(AUTHENTICATED_TAG))

        // Closing the connection ends the authentication on both sides.
        const dialerGone = nextEvent(dialer, 'peer:disconnected')
        const listenerGone = nextEvent(listener, 'peer:disconnected')
        await dialer.libp2p.hangUp(listener.peerId)
        assert.equal((await dialerGone).tezosPeerId, listener.identity.peerId)
        assert.equal((await listenerGone).tezosPeerId, dialer.identity.peerId)
        assert.equal(dialer.peers.size, 0)
        assert.equal(listener.peers.size, 0)
      }
      assert.equal(a.greylist.size, 0)
      assert.equal(b.greylist.size, 0)
    } finally {
      await stopAll(a, b)
    }
  })

  it('tags authenticated peers in the peer store once connections exceed the limit, and untags them when they leave', async () => {
    const hub = await startNode({ maxConnections: 1 })
    const first = await startNode()
    const second = await startNode()
    try {
      await first.dial(addressOf(hub))
      const untagged = await hub.libp2p.peerStore.get(first.peerId)
      assert.ok(!untagged.tags.has(AUTHENTICATED_TAG))

      // A second connection (answered Too_many_connections) takes the hub over its limit: the
      // peer already authenticated is tagged, with its Tezos peer id beside the tag.
      await assert.rejects(second.dial(addressOf(hub)), nackedWith('Too_many_connections'))
      await waitFor(async () => (await hub.libp2p.peerStore.get(first.peerId)).tags.has(AUTHENTICATED_TAG), { what: 'the authenticated peer tagged' })
      const stored = await hub.libp2p.peerStore.get(first.peerId)
      assert.equal(new TextDecoder().decode(stored.metadata.get(TEZOS_PEER_ID_METADATA)), first.identity.peerId)
      assert.ok(!(await hub.libp2p.peerStore.get(second.peerId)).tags.has(AUTHENTICATED_TAG))

      const gone = nextEvent(hub, 'peer:disconnected')
      await first.libp2p.hangUp(hub.peerId)
      await gone
      await waitFor(async () => !(await hub.libp2p.peerStore.get(first.peerId)).tags.has(AUTHENTICATED_TAG), { what: 'the tag removed' })
    } finally {
      await stopAll(hub, first, second)
    }
  })

  it('answers Already_connected to a second connection of an authenticated peer and keeps the first', async () => {
    const a = await startNode()
    const b = await startNode()
    try {
      const first = await a.dial(addressOf(b))
      const bFailed = nextEvent(b, 'handshake:failed')
      await assert.rejects(a.dial(addressOf(b), { force: true }), (err: Error) => {
        // Both sides see the duplicate; each Nacks before reading the other's answer.
        assert.ok(err instanceof PeerRejectedError, String(err))
        assert.equal(err.motive, 'Already_connected')
        return true
      })
      const failure = await bFailed
      assert.ok(failure.error instanceof PeerRejectedError)
      assert.equal(failure.error.motive, 'Already_connected')
      assert.equal(failure.greylisted, false)
      assert.equal(a.peers.size, 1)
      assert.equal(b.peers.size, 1)
      assert.equal(a.peers.list()[0], first)
    } finally {
      await stopAll(a, b)
    }
  })

  it('at its connection limit answers Too_many_connections with the points it knows', async () => {
    const b = await startNode({ maxConnections: 1 })
    const a = await startNode()
    const c = await startNode()
    try {
      await a.dial(addressOf(b))
      // The Nack lists B's one authenticated peer, A, at the port A advertised.
      await assert.rejects(c.dial(addressOf(b)), nackedWith('Too_many_connections', [`127.0.0.1:${portOf(a)}`]))
      assert.equal(b.peers.size, 1)
      assert.equal(c.greylist.size, 0)
      assert.equal(b.greylist.size, 0)
    } finally {
      await stopAll(a, b, c)
    }
  })

  it('never advertises private peers in a Nack', async () => {
    const b = await startNode({ maxConnections: 1 })
    const a = await startNode({ privateMode: true })
    const c = await startNode()
    try {
      await a.dial(addressOf(b))
      await assert.rejects(c.dial(addressOf(b)), nackedWith('Too_many_connections', []))
    } finally {
      await stopAll(a, b, c)
    }
  })

  it('refuses a newer distributed-DB version it does not support with Deprecated_distributed_db_version', async () => {
    const b = await startNode({ distributedDbVersions: [2] })
    const a = await startNode({ distributedDbVersions: [0, 1] })
    try {
      await assert.rejects(a.dial(addressOf(b)), nackedWith('Deprecated_distributed_db_version'))
      assert.equal(b.greylist.size, 0)
    } finally {
      await stopAll(a, b)
    }
  })

  it('refuses an unsupported p2p version with Deprecated_p2p_version, and answers p2p version 0 with Nack_v_0', async () => {
    const b = await startNode({ p2pVersions: [2] })
    const a = await startNode({ p2pVersions: [0, 1] })
    const old = await startNode({ p2pVersions: [0] })
    try {
      await assert.rejects(a.dial(addressOf(b)), nackedWith('Deprecated_p2p_version'))
      // A version-0 peer cannot read a motive: it gets the bare Nack_v_0 (decoded as No_motive).
      await assert.rejects(old.dial(addressOf(b)), nackedWith('No_motive', []))
    } finally {
      await stopAll(a, b, old)
    }
  })

  it('negotiates the lower common version when the peer announces less', async () => {
    const b = await startNode()
    const a = await startNode({ distributedDbVersions: [0, 1], p2pVersions: [0] })
    try {
      const bSaw = nextEvent(b, 'peer:authenticated')
      const peer = await a.dial(addressOf(b))
      assert.deepEqual(peer.version, { chainName: 'TZP2P_TEST', distributedDbVersion: 1, p2pVersion: 0 })
      assert.deepEqual((await bSaw).version, { chainName: 'TZP2P_TEST', distributedDbVersion: 1, p2pVersion: 0 })
    } finally {
      await stopAll(a, b)
    }
  })

  it('closes without a Nack when the Tezos peer id is banned', async () => {
    const a = await startNode()
    const b = await startNode()
    try {
      b.banList.banPeer(a.identity.peerId)
      const bFailed = nextEvent(b, 'handshake:failed')
      await assert.rejects(a.dial(addressOf(b)), (err: Error) => {
        // No Nack reached A: B just closed.
        assert.ok(err instanceof HandshakeClosedError, String(err))
        return true
      })
      const failure = await bFailed
      assert.ok(failure.error instanceof PeerRefusedError)
      assert.equal(b.peers.size, 0)
    } finally {
      await stopAll(a, b)
    }
  })

  it('the dialer sends its connection message and Metadata in one stream message, then its Ack', async () => {
    const dialer = await startNode()
    const listener = await startNode()
    try {
      // What the dialer hands its handshake stream, send by send (a libp2p stream middleware runs on
      // the outbound stream before the handshake gets it).
      const sends: number[] = []
      dialer.libp2p.use(HANDSHAKE_PROTOCOL, (stream, connection, next) => {
        const send = stream.send.bind(stream)
        stream.send = data => { sends.push(data.byteLength); return send(data) }
        next(stream, connection)
      })
      const listenerSaw = nextEvent(listener, 'peer:authenticated')
      await dialer.dial(addressOf(listener))
      await listenerSaw
      // protocols/handshake.md §3-§4: frame = 2 + 90 + chain name; Metadata chunk 2 + 16 + 2; Ack 2 + 16 + 1.
      const frame = 2 + 90 + new TextEncoder().encode(TEST_CHAIN).length
      assert.deepEqual(sends, [frame + 20, 19])
    } finally {
      await stopAll(dialer, listener)
    }
  })

  it('detects a connection to itself, remembers the address as its own and does not dial it again', async () => {
    const identity = identityWithPow(0)
    const a = await startNode({ identity })
    const twin = await startNode({ identity }) // same Tezos identity, another libp2p key
    try {
      await assert.rejects(a.dial(addressOf(twin)), SelfConnectionError)
      const point = `127.0.0.1:${portOf(twin)}`
      assert.ok(a.handshake.ownPoints.has(point))
      await assert.rejects(a.dial(addressOf(twin)), (err: Error) => err instanceof SelfConnectionError && err.message.includes(point))
      assert.equal(a.greylist.size, 0)
      assert.equal(twin.greylist.size, 0)
    } finally {
      await stopAll(a, twin)
    }
  })
})
