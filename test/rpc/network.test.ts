import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { RpcErrorBody } from '../../src/rpc/errors.ts'
import type { HealthJson } from '../../src/rpc/metrics-routes.ts'
import type { BanJson, ConnectionJson, GreylistJson, PeerInfoJson } from '../../src/rpc/network-json.ts'
import { startRpcServer, type RpcServer } from '../../src/rpc/server.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import { addressOf, identityWithPow, nextEvent, startNode, stopAll } from '../helpers/node.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * GET/PUT/DELETE against the RPC over real HTTP; the body parsed as JSON, typed as the answer `T`
 * the test expects (undefined when it is not JSON).
 */
async function call<T = unknown> (rpc: RpcServer, method: string, path: string, body?: unknown): Promise<{ status: number, json: T, text: string }> {
  const response = await fetch(`${rpc.urls[0]}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {})
  })
  const text = await response.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, json: json as T, text }
}

describe('RPC /network/*, /health, /metrics on a node with two peers', () => {
  let a: TzNode
  let b: TzNode
  let c: TzNode
  let rpc: RpcServer

  before(async () => {
    a = await startNode({ libp2pMetrics: true })
    b = await startNode()
    c = await startNode()
    rpc = await startRpcServer({ node: a, listen: [{ host: '127.0.0.1', port: 0 }], latencyIntervalMs: 200 })
    await b.dial(addressOf(a))
    await a.dial(addressOf(c))
  })
  after(async () => {
    await rpc?.close()
    await stopAll(a, b, c)
  })

  it('listens on loopback and names the node with /network/self', async () => {
    assert.match(rpc.urls[0], /^http:\/\/127\.0\.0\.1:\d+$/)
    const self = await call(rpc, 'GET', '/network/self')
    assert.equal(self.status, 200)
    assert.equal(self.json, a.identity.peerId)
  })

  it('lists peers as Octez [peer_id, info] pairs with direction and a measured latency', async () => {
    // Latency comes from real libp2p pings every 200 ms here; wait until both peers have one.
    let peers: Array<[string, PeerInfoJson]> = []
    await waitFor(async () => {
      peers = (await call<Array<[string, PeerInfoJson]>>(rpc, 'GET', '/network/peers')).json
      return peers.length === 2 && peers.every(([, info]) => typeof info.latency_ms === 'number')
    }, { what: () => `two peers with a latency; last seen ${JSON.stringify(peers)}`, intervalMs: 100 })
    const byId = new Map(peers)
    assert.deepEqual([...byId.keys()].sort(), [b.identity.peerId, c.identity.peerId].sort())
    assert.equal(byId.get(b.identity.peerId)?.direction, 'inbound')
    assert.equal(byId.get(c.identity.peerId)?.direction, 'outbound')
    for (const [, info] of peers) {
      assert.equal(info.state, 'running')
      assert.equal(typeof info.latency_ms, 'number')
      assert.ok(info.latency_ms !== null && info.latency_ms >= 0)
      assert.equal(info.announced_version.chain_name, 'TZP2P_TEST')
      assert.match(info.last_established_connection?.[1] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    }
    const one = await call<PeerInfoJson>(rpc, 'GET', `/network/peers/${c.identity.peerId}`)
    assert.equal(one.status, 200)
    assert.equal(one.json.libp2p_peer_id, c.peerId.toString())
    assert.equal(one.json.reachable_at?.port, Number(addressOf(c).split('/')[4]))
    // By libp2p PeerId too.
    assert.equal((await call<PeerInfoJson>(rpc, 'GET', `/network/peers/${c.peerId.toString()}`)).json.libp2p_peer_id, c.peerId.toString())
  })

  it('lists connections in Octez connection_info form', async () => {
    const { json } = await call<ConnectionJson[]>(rpc, 'GET', '/network/connections')
    assert.equal(json.length, 2)
    const toB = json.find(x => x.peer_id === b.identity.peerId)
    assert.ok(toB !== undefined, JSON.stringify(json))
    assert.equal(toB.incoming, true)
    assert.equal(toB.id_point.addr, '127.0.0.1')
    assert.deepEqual(toB.remote_metadata, { disable_mempool: false, private_node: false })
    assert.deepEqual(Object.keys(toB.announced_version).sort(), ['chain_name', 'distributed_db_version', 'p2p_version'])
  })

  it('answers 400 with a message for a malformed peer id and 404 for an unknown one', async () => {
    const bad = await call<RpcErrorBody>(rpc, 'GET', '/network/peers/not-a-peer')
    assert.equal(bad.status, 400)
    assert.match(bad.json.error, /not a peer id: expected a Tezos peer id/)
    const stranger = identityWithPow(0).peerId
    const unknown = await call<RpcErrorBody>(rpc, 'GET', `/network/peers/${stranger}`)
    assert.equal(unknown.status, 404, unknown.text)
    assert.equal(unknown.json.error, `peer ${stranger} is not connected`)
    const route = await call<RpcErrorBody>(rpc, 'GET', '/network/nothing')
    assert.equal(route.status, 404)
    assert.match(route.json.error, /no such RPC: GET \/network\/nothing/)
  })

  it('bans a peer with PUT (it is disconnected and cannot come back) and lifts the ban with DELETE', async () => {
    const gone = nextEvent(a, 'peer:disconnected', p => p.tezosPeerId === b.identity.peerId)
    const ban = await call<BanJson[]>(rpc, 'PUT', `/network/peers/${b.identity.peerId}/ban`)
    assert.equal(ban.status, 200, ban.text)
    assert.deepEqual(ban.json.map(r => r.target).sort(), [b.identity.peerId, b.peerId.toString()].sort())
    await gone
    assert.equal((await call(rpc, 'GET', `/network/peers/${b.identity.peerId}/banned`)).json, true)
    await assert.rejects(b.dial(addressOf(a)))
    assert.equal(a.peers.get(b.identity.peerId), undefined)

    const lift = await call(rpc, 'DELETE', `/network/peers/${b.identity.peerId}/ban`)
    assert.equal(lift.status, 200, lift.text)
    assert.equal(a.banList.size, 0)
    assert.equal((await call(rpc, 'DELETE', `/network/peers/${b.identity.peerId}/ban`)).status, 404)
    const back = await b.dial(addressOf(a))
    assert.equal(back.tezosPeerId, a.identity.peerId)
  })

  it('shows the greylist and clears it with DELETE', async () => {
    a.greylist.greylistIp('192.0.2.7', 'test entry')
    a.greylist.greylistPeer(c.identity.peerId, 'test entry')
    const list = await call<GreylistJson>(rpc, 'GET', '/network/greylist')
    assert.deepEqual(list.json.ips.map(e => e.addr), ['192.0.2.7'])
    assert.deepEqual(list.json.peers.map(e => e.peer_id), [c.identity.peerId])
    assert.equal(list.json.ips[0].reason, 'test entry')
    assert.deepEqual((await call(rpc, 'GET', '/network/greylist/ips')).json, ['192.0.2.7'])
    assert.equal((await call(rpc, 'DELETE', '/network/greylist')).status, 200)
    assert.deepEqual((await call(rpc, 'GET', '/network/greylist')).json, { ips: [], peers: [] })
  })

  it('serves /health and Prometheus text with libp2p\'s and tzp2p\'s metrics on /metrics', async () => {
    const health = await call<HealthJson>(rpc, 'GET', '/health')
    assert.equal(health.status, 200)
    assert.equal(health.json.status, 'ok')
    assert.equal(health.json.peer_id, a.identity.peerId)
    const metrics = await fetch(`${rpc.urls[0]}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await metrics.text()
    assert.match(text, /^libp2p_/m, 'libp2p metrics')
    assert.match(text, /^tzp2p_rpc_requests_total\{route="\/network\/self",method="GET",status="200"\} 1$/m)
  })
})
