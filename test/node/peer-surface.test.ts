import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidBanTargetError } from '../../src/peers/bans.ts'
import { nextEvent, startNode, stopAll } from '../helpers/node.ts'
import { connect, startManaged } from '../peers/managed-helpers.ts'

/**
 * The node's peer surface (report, ban, unban, trust, untrust, points, peer list) on real loopback
 * connections, the same with and without a connection manager.
 */
for (const managed of [false, true]) {
  const start = managed ? startManaged : startNode
  describe(`node peers ${managed ? 'with' : 'without'} a connection manager`, () => {
    it('report: a scored fault costs score only; a fault greylisted at once disconnects and greylists IP and ids', async () => {
      const a = await start()
      const b = await startNode()
      try {
        await connect(b, a)
        const penalized = nextEvent(a, 'peer:penalized')
        const first = a.report({ tezosPeerId: b.identity.peerId }, 'flooding', 'requests past the throttle')
        assert.deepEqual([first.disconnected, first.greylisted], [false, false])
        assert.ok((first.score ?? 0) < -9, String(first.score))
        assert.deepEqual(await penalized, { peerId: b.identity.peerId, kind: 'flooding', detail: 'requests past the throttle', score: first.score, action: 'none' })
        const listed = a.peerList().find(p => p.peer.tezosPeerId === b.identity.peerId)
        assert.ok(listed !== undefined && listed.score < -9 && !listed.trusted)
        assert.equal(a.peerInfo(b.peerId)?.peer.tezosPeerId, b.identity.peerId)

        const gone = nextEvent(b, 'peer:disconnected')
        const second = a.report({ tezosPeerId: b.identity.peerId }, 'invalid-data', 'an invalid block')
        assert.deepEqual([second.disconnected, second.greylisted, second.score], [true, true, -100])
        await gone
        assert.ok(a.greylist.isGreylisted('127.0.0.1'), 'the IP')
        assert.ok(a.greylist.isGreylisted(b.identity.peerId), 'the Tezos peer id')
        assert.ok(a.greylist.isGreylisted(b.peerId), 'the libp2p PeerId')
        if (managed) assert.match(await a.metricsRegistry.metrics(), /tzp2p_penalties_total\{kind="invalid-data"\} 1/)
      } finally {
        await stopAll(a, b)
      }
    })

    it('ban a connected peer by one id: both ids banned, disconnected; unban by the other lifts both', async () => {
      const a = await start()
      const b = await startNode()
      try {
        await connect(b, a)
        const gone = nextEvent(b, 'peer:disconnected')
        const records = await a.ban(b.peerId, 'test')
        assert.deepEqual(records.map(r => r.key).sort(), [b.identity.peerId, b.peerId.toString()].sort())
        await gone
        assert.ok(a.banList.isBanned(b.identity.peerId) && a.banList.isBanned(b.peerId))
        assert.equal(a.unban(b.identity.peerId), true)
        assert.equal(a.banList.size, 0)
        assert.equal(a.unban(b.identity.peerId), false)
        await assert.rejects(a.ban('not a target'), InvalidBanTargetError)
        // An IP ban closes the connections from that IP.
        await connect(b, a)
        const goneAgain = nextEvent(b, 'peer:disconnected')
        await a.ban('127.0.0.1')
        await goneAgain
        assert.equal(a.unban('127.0.0.1'), true)
      } finally {
        await stopAll(a, b)
      }
    })

    it('trust and untrust a point; the point list has it', async () => {
      const a = await start()
      try {
        const p = a.trust('192.0.2.9:9732')
        assert.equal(p?.trusted, true)
        assert.ok(a.points().some(q => q.key === p?.key && q.trusted))
        assert.equal(a.point('192.0.2.9:9732')?.trusted, true)
        assert.equal(a.untrust('192.0.2.9:9732'), true)
        assert.equal(a.point('192.0.2.9:9732')?.trusted, false)
        assert.equal(a.untrust('192.0.2.10:9732'), false)
        assert.equal(a.point('192.0.2.10:9732'), undefined)
      } finally {
        await stopAll(a)
      }
    })
  })
}
