import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { BanJson, PeerInfoJson, PointInfoJson } from '../../src/rpc/network-json.ts'
import { startRpcServer } from '../../src/rpc/server.ts'
import { addressOf, nextEvent, startNode, stopAll } from '../helpers/node.ts'
import { waitFor } from '../helpers/wait.ts'

describe('RPC /network/points, CORS and the metrics-only listener', () => {
  it('lists known points in Octez point_info form: a trusted point running with its peer', async () => {
    const seed = await startNode()
    const port = Number(addressOf(seed).split('/')[4])
    // A managed node told of the seed as a trusted peer: its maintenance dials it.
    const node = await startNode({ manageConnections: true, peers: [`127.0.0.1:${port}`] })
    const rpc = await startRpcServer({ node, listen: [{ host: '127.0.0.1', port: 0 }] })
    try {
      if (node.peers.size === 0) await nextEvent(node, 'peer:authenticated')
      let points: Array<[string, PointInfoJson]> = []
      await waitFor(async () => {
        points = await (await fetch(`${rpc.urls[0]}/network/points`)).json() as Array<[string, PointInfoJson]>
        return points.some(([, p]) => p.state.event_kind === 'running')
      }, { what: () => `a running point; last seen ${JSON.stringify(points)}`, intervalMs: 100 })
      const entry = points.find(([text]) => text === `127.0.0.1:${port}`)
      assert.ok(entry !== undefined, JSON.stringify(points))
      assert.equal(entry[1].trusted, true)
      assert.deepEqual(entry[1].state, { event_kind: 'running', p2p_peer_id: seed.identity.peerId })
      assert.equal(entry[1].last_established_connection?.[0], seed.identity.peerId)
      const one = await fetch(`${rpc.urls[0]}/network/points/127.0.0.1:${port}`)
      assert.equal(one.status, 200)
      assert.equal((await one.json() as PointInfoJson).trusted, true)
      const bad = await fetch(`${rpc.urls[0]}/network/points/nowhere:x`)
      assert.equal(bad.status, 400)
      assert.match((await bad.json() as { error: string }).error, /invalid point "nowhere:x"/)
      assert.equal((await fetch(`${rpc.urls[0]}/network/points/127.0.0.1:1`)).status, 404)
      // The peer is trusted in /network/peers too (it was met on a trusted point).
      const peers = await (await fetch(`${rpc.urls[0]}/network/peers`)).json() as Array<[string, PeerInfoJson]>
      assert.equal(peers.find(([id]) => id === seed.identity.peerId)?.[1].trusted, true)

      // A ban through the connection manager closes the connection, even to a trusted peer.
      const gone = nextEvent(node, 'peer:disconnected', p => p.tezosPeerId === seed.identity.peerId)
      const ban = await fetch(`${rpc.urls[0]}/network/peers/${seed.identity.peerId}/ban`, { method: 'PUT' })
      assert.equal(ban.status, 200)
      await gone
      const bans = await (await fetch(`${rpc.urls[0]}/network/bans`)).json() as BanJson[]
      assert.deepEqual(bans.map(b => b.target).sort(), [seed.identity.peerId, seed.peerId.toString()].sort())
      // Lifting it by the libp2p id lifts both records.
      assert.equal((await fetch(`${rpc.urls[0]}/network/peers/${seed.peerId.toString()}/ban`, { method: 'DELETE' })).status, 200)
      assert.equal(node.banList.size, 0)
    } finally {
      await rpc.close()
      await stopAll(node, seed)
    }
  })

  it('answers CORS preflights and requests from allowed origins only, and serves /metrics alone on a metrics address', async () => {
    const node = await startNode()
    const rpc = await startRpcServer({
      node,
      listen: [{ host: '127.0.0.1', port: 0 }],
      metricsListen: [{ host: '127.0.0.1', port: 0 }],
      cors: { origins: ['http://explorer.test'], headers: ['X-Custom'] }
    })
    try {
      const preflight = await fetch(`${rpc.urls[0]}/network/self`, {
        method: 'OPTIONS', headers: { origin: 'http://explorer.test', 'access-control-request-method': 'GET' }
      })
      assert.equal(preflight.status, 204)
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://explorer.test')
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Custom/)
      const allowed = await fetch(`${rpc.urls[0]}/network/self`, { headers: { origin: 'http://explorer.test' } })
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://explorer.test')
      const other = await fetch(`${rpc.urls[0]}/network/self`, { headers: { origin: 'http://elsewhere.test' } })
      assert.equal(other.headers.get('access-control-allow-origin'), null)

      assert.equal(rpc.metricsUrls.length, 1)
      const metrics = await fetch(`${rpc.metricsUrls[0]}/metrics`)
      assert.equal(metrics.status, 200)
      assert.match(await metrics.text(), /^# HELP tzp2p_rpc_requests_total /m)
      assert.equal((await fetch(`${rpc.metricsUrls[0]}/network/self`)).status, 404)
    } finally {
      await rpc.close()
      await stopAll(node)
    }
  })
})
