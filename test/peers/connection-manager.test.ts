import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { PeerRefusedError, RejectedByPeerError } from '../../src/handshake/errors.ts'
import { parsePoint } from '../../src/net/point.ts'
import { addressOf, nextEvent, startNode, stopAll } from '../helpers/node.ts'
import { connect, hostPortOf, pointKeyOf, startManaged } from './managed-helpers.ts'
import { waitFor } from '../helpers/wait.ts'

/** The connection manager on real loopback connections: admission, pruning, trust, scores, bans, metrics. */

const isTooMany = (err: Error): boolean => err instanceof RejectedByPeerError && err.motive === 'Too_many_connections'

describe('connection manager', () => {
  it('inbound peers cannot take the reserved outbound slots', async () => {
    // 2/4/6: maintenance accepts up to 6; min-connections (2) stay for our own dials → 4 inbound.
    const a = await startManaged({ limits: { minConnections: 2, expectedConnections: 4, maxConnections: 6 } })
    const others = await Promise.all(Array.from({ length: 6 }, async () => await startNode()))
    try {
      for (const n of others.slice(0, 4)) await connect(n, a)
      await assert.rejects(others[4].dial(addressOf(a)), isTooMany)
      assert.deepEqual(a.connectionManager?.directionCounts(), { inbound: 4, outbound: 0 })
      // Our own dials still get through.
      await a.dial(addressOf(others[4]))
      await a.dial(addressOf(others[5]))
      assert.deepEqual(a.connectionManager?.directionCounts(), { inbound: 4, outbound: 2 })
      const metrics = await a.metricsRegistry.metrics()
      assert.match(metrics, /tzp2p_connections\{direction="inbound"\} 4/)
      assert.match(metrics, /tzp2p_connections\{direction="outbound"\} 2/)
      assert.match(metrics, /tzp2p_handshake_failures_total\{reason="PeerRejectedError"\} 1/)
    } finally {
      await stopAll(a, ...others)
    }
  })

  it('peers dialling all at once get no more than the inbound share: handshakes in flight count', async () => {
    // 2/4/6 → 4 inbound slots. Eight peers handshake concurrently; each admission must count the
    // ones already admitted and not yet authenticated, or all of them pass a check made against
    // the authenticated count alone.
    const a = await startManaged({ limits: { minConnections: 2, expectedConnections: 4, maxConnections: 6 } })
    const others = await Promise.all(Array.from({ length: 8 }, async () => await startNode()))
    try {
      const results = await Promise.allSettled(others.map(async n => await n.dial(addressOf(a))))
      const admitted = results.filter(r => r.status === 'fulfilled').length
      assert.equal(admitted, 4, results.map(r => r.status === 'rejected' ? String(r.reason) : 'ok').join('; '))
      for (const r of results) if (r.status === 'rejected') assert.ok(isTooMany(r.reason as Error), String(r.reason))
      await waitFor(() => a.peers.size === 4, { what: 'a counts the four admitted peers' })
      assert.deepEqual(a.connectionManager?.directionCounts(), { inbound: 4, outbound: 0 })
    } finally {
      await stopAll(a, ...others)
    }
  })

  it('the per-IP inbound rate refuses a host that opens connections too fast, at the socket', async () => {
    const a = await startManaged({ limits: { inboundConnectionsPerIpPerSecond: 2 } })
    const others = await Promise.all(Array.from({ length: 3 }, async () => await startNode()))
    try {
      // All three come from 127.0.0.1 within far less than a second: the third is cut before any handshake.
      const results = await Promise.allSettled(others.map(async n => await n.dial(addressOf(a))))
      assert.equal(results.filter(r => r.status === 'fulfilled').length, 2)
      await waitFor(() => a.peers.size === 2, { what: 'a counts both' })
    } finally {
      await stopAll(a, ...others)
    }
  })

  it('with peer discovery disabled, no list is given or taken in', async () => {
    const quiet = await startManaged({ disablePeerDiscovery: true, limits: { minConnections: 1, expectedConnections: 1, maxConnections: 1 } })
    const a = await startManaged()
    const b = await startManaged({ disablePeerDiscovery: true })
    try {
      await connect(a, quiet)
      // Asked for points, it answers none, although it knows A.
      assert.deepEqual(await a.libp2p.services.peerExchange?.requestPoints(a.libp2p.getConnections(quiet.peerId)[0]), [])
      assert.deepEqual(quiet.connectionManager?.knownPointsForNack(), [])
      // And a Nack's points are not registered.
      const full = await startManaged({ limits: { minConnections: 1, expectedConnections: 1, maxConnections: 1 } })
      try {
        await connect(a, full)
        await assert.rejects(b.dial(addressOf(full)), isTooMany)
        assert.equal(b.pointBook?.get(pointKeyOf(a)), undefined)
      } finally {
        await stopAll(full)
      }
    } finally {
      await stopAll(quiet, a, b)
    }
  })

  it('above max-threshold maintenance prunes untrusted peers only', async () => {
    // 1/4/7 → bounds 2/3/5/6; up to 5 inbound.
    const a = await startManaged({ limits: { minConnections: 1, expectedConnections: 4, maxConnections: 7, maintenanceIdleTimeMs: 60_000 } })
    const untrusted = await Promise.all(Array.from({ length: 5 }, async () => await startNode()))
    const trusted = await Promise.all(Array.from({ length: 2 }, async () => await startNode()))
    try {
      for (const n of untrusted) await connect(n, a)
      assert.equal(a.peers.size, 5)
      const runs: number[] = []
      a.events.on('maintenance:run', r => { runs.push(r.pruned) })
      // Two trusted peers are added: they are let in over max-threshold, and maintenance prunes.
      for (const t of trusted) a.connectionManager?.addTrustedPoint(parsePoint(hostPortOf(t)))
      await waitFor(() => runs.some(p => p > 0) && a.peers.size === 5, { what: 'pruned back to max-target (5)' })
      for (const t of trusted) assert.ok(a.peers.get(t.identity.peerId) !== undefined, 'trusted peers survive pruning')
      assert.equal(untrusted.filter(n => a.peers.get(n.identity.peerId) !== undefined).length, 3)
      assert.match(await a.metricsRegistry.metrics(), /tzp2p_pruned_connections_total 2/)
    } finally {
      await stopAll(a, ...untrusted, ...trusted)
    }
  })

  it('a pinned peer id is checked after the handshake: the wrong peer is refused and its address greylisted', async () => {
    const b = await startNode()
    const c = await startNode()
    const wrong = await startManaged({
      peers: [`${hostPortOf(b)}#${c.identity.peerId}`],
      limits: { minConnections: 1, expectedConnections: 1, maxConnections: 2, maintenanceIdleTimeMs: 60_000 }
    })
    const right = await startManaged({
      peers: [`${hostPortOf(b)}#${b.identity.peerId}`],
      limits: { minConnections: 1, expectedConnections: 1, maxConnections: 2, maintenanceIdleTimeMs: 60_000 }
    })
    try {
      const entry = await nextEvent(wrong, 'peer:greylisted')
      assert.match(entry.reason, /^identity-mismatch: Identity_check_failure/)
      assert.equal(entry.kind, 'ip')
      // Only the address: the peer itself may be honest, just not the one expected.
      assert.ok(!wrong.greylist.isGreylisted(b.identity.peerId))
      assert.equal(wrong.peers.size, 0)
      await waitFor(() => wrong.pointBook?.get(pointKeyOf(b))?.lastFailedConnection !== undefined, { what: 'the failed dial is recorded on the point' })
      // The same address with the right pin: connected, and the peer is trusted.
      await waitFor(() => right.peers.size === 1, { what: 'connected to the pinned peer' })
      const peer = right.peers.list()[0]
      assert.equal(peer.tezosPeerId, b.identity.peerId)
      assert.ok(right.connectionManager?.isTrustedPeer(peer))
      // Dialled by hand, the wrong pin gives the handshake's refusal.
      await assert.rejects(wrong.dial(addressOf(b), { force: true }), PeerRefusedError)
    } finally {
      await stopAll(b, c, wrong, right)
    }
  })

  it('private mode: connects to its trusted peer, refuses everyone else, and leaves no address behind', async () => {
    const t = await startManaged()
    const p = await startManaged({
      privateMode: true,
      peers: [hostPortOf(t)],
      limits: { minConnections: 1, expectedConnections: 2, maxConnections: 3, maintenanceIdleTimeMs: 60_000 }
    })
    const x = await startManaged()
    try {
      await waitFor(() => p.peers.size === 1 && t.peers.size === 1, { what: 'the private node reached its trusted peer' })
      assert.equal(p.peers.list()[0].tezosPeerId, t.identity.peerId)
      await assert.rejects(x.dial(addressOf(p)), (err: Error) => err instanceof RejectedByPeerError && err.motive === 'No_motive')
      await connect(x, t)
      // T met P, but P is private: its address is in no point book, so it can be in no list.
      for (const node of [t, x]) assert.ok(!node.pointBook?.all().some(q => q.key === pointKeyOf(p)))
      assert.ok(!t.connectionManager?.knownPointsForNack().includes(hostPortOf(p)))
      // The private node takes in no list either: it knows only its trusted point.
      assert.deepEqual(p.pointBook?.all().map(q => q.key), [pointKeyOf(t)])
    } finally {
      await stopAll(t, p, x)
    }
  })

  it('the score: faults lower it, below the threshold the peer is disconnected and greylisted; trusted peers are kept', async () => {
    const a = await startManaged()
    const b = await startNode()
    try {
      await connect(b, a)
      const first = a.report({ tezosPeerId: b.identity.peerId }, 'useless-answer', 'test')
      assert.deepEqual([first.disconnected, first.greylisted], [false, false])
      assert.ok(a.scores.score(b.identity.peerId) < 0)
      const gone = nextEvent(b, 'peer:disconnected')
      // By its libp2p PeerId alone: the policy finds its Tezos id and IP on its connection.
      const verdict = a.report({ libp2pPeerId: b.peerId }, 'invalid-data', 'an invalid block')
      assert.deepEqual([verdict.disconnected, verdict.greylisted, verdict.score], [true, true, -100])
      await gone
      assert.ok(a.greylist.isGreylisted(b.identity.peerId))
      assert.match(await a.metricsRegistry.metrics(), /tzp2p_penalties_total\{kind="invalid-data"\} 1/)
    } finally {
      await stopAll(a, b)
    }
    const t = await startNode()
    const c = await startManaged({ peers: [hostPortOf(t)], limits: { minConnections: 1, expectedConnections: 1, maxConnections: 2, maintenanceIdleTimeMs: 60_000 } })
    try {
      await waitFor(() => c.peers.size === 1, { what: 'connected to the trusted peer' })
      const verdict = c.report({ tezosPeerId: t.identity.peerId }, 'malformed-message', 'test')
      assert.deepEqual([verdict.trusted, verdict.disconnected, verdict.greylisted, verdict.score], [true, false, false, -100])
      assert.equal(c.greylist.size, 0)
      assert.equal(c.peers.size, 1, 'a trusted peer is only ever refused by a ban')
    } finally {
      await stopAll(t, c)
    }
  })

  it('bans are set and lifted through the node; a banned peer is disconnected and refused', async () => {
    const a = await startManaged()
    const b = await startNode()
    try {
      await connect(b, a)
      const banned = nextEvent(a, 'peer:banned')
      const gone = nextEvent(b, 'peer:disconnected')
      a.connectionManager?.ban(b.identity.peerId, 'operator')
      assert.equal((await banned).key, b.identity.peerId)
      await gone
      await assert.rejects(b.dial(addressOf(a), { force: true }))
      assert.equal(a.peers.size, 0)
      const unbanned = nextEvent(a, 'peer:unbanned')
      assert.equal(a.connectionManager?.unban(b.identity.peerId), true)
      await unbanned
      await connect(b, a, { force: true })
      assert.equal(a.peers.size, 1)
    } finally {
      await stopAll(a, b)
    }
  })
})
