import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { runGossipsub, runTzp2p, type RunParams, type StackResult } from '../../scripts/bench/gossip/runs.ts'
import { diameter, neighbours, randomRegularTopology } from '../../scripts/bench/gossip/topology.ts'

describe('gossip benchmark topology', () => {
  it('gives every node the same degree, is connected, and depends only on the seed', () => {
    const edges = randomRegularTopology(20, 6, 7)
    assert.equal(edges.length, 60)
    assert.deepEqual(neighbours(20, edges).map(n => n.length), Array(20).fill(6))
    assert.ok(edges.every(([a, b]) => a < b))
    assert.equal(new Set(edges.map(e => e.join('-'))).size, edges.length, 'no edge twice')
    assert.ok(Number.isFinite(diameter(20, edges)) && diameter(20, edges) >= 2)
    assert.deepEqual(randomRegularTopology(20, 6, 7), edges)
    assert.notDeepEqual(randomRegularTopology(20, 6, 8), edges)
  })

  it('caps the degree at nodes − 1 and gives one node an extra edge when nodes × degree is odd', () => {
    assert.deepEqual(neighbours(4, randomRegularTopology(4, 6, 1)).map(n => n.length), [3, 3, 3, 3])
    const degrees = neighbours(7, randomRegularTopology(7, 3, 1)).map(n => n.length).sort()
    assert.deepEqual(degrees, [3, 3, 3, 3, 3, 3, 4])
  })
})

describe('gossip benchmark, smoke run (4 node processes per stack, 5 blocks)', () => {
  it('delivers every block to every node in both stacks over the same edges, with positive figures', async () => {
    const params: RunParams = {
      nodes: 4, edges: randomRegularTopology(4, 2, 3), heads: 5, warmup: 1, intervalMs: 300, operations: 3, log: () => {}
    }
    const check = (name: string, r: StackResult): void => {
      assert.equal(r.missing, 0, `${name}: arrivals missing`)
      // Every node but the producer, every measured block.
      assert.equal(r.latencies.length, params.heads * (params.nodes - 1), name)
      assert.ok(r.latencies.every(l => l > 0), `${name}: latencies ${r.latencies.join(', ')}`)
      assert.ok(r.bytesPerHeadPerNode > 0, `${name}: bytes`)
      assert.ok(r.topologyHeld, `${name}: topology`)
    }
    const tz = await runTzp2p(params)
    check('tzp2p', tz.result)
    assert.equal(tz.measured.length, params.heads)
    assert.equal(new Set(tz.measured.map(b => b.key)).size, params.heads)
    // Each block carries its operations: the payload holds the header and 3 transfers.
    assert.ok(tz.result.payloadBytes > 3 * 100, `payload ${tz.result.payloadBytes}`)
    // Announcements and the operations fetched from the announcer (or pushed by it) both travel on
    // the gossip streams, negotiated as 1.1.0 between tzp2p nodes (protocols/gossip.md §4.6).
    assert.ok((tz.result.byProtocol['/tzp2p/gossip/1.1.0'] ?? 0) > 0, JSON.stringify(tz.result.byProtocol))
    assert.equal(tz.result.byProtocol['/tzp2p/gossip/1.0.0'], undefined)
    const gs = await runGossipsub(params, tz.warmup, tz.measured)
    check('gossipsub', gs)
    assert.equal(gs.payloadBytes, tz.result.payloadBytes)
    assert.ok((gs.byProtocol['/meshsub/1.2.0'] ?? 0) > tz.result.payloadBytes, 'gossipsub pushes the whole block')
  })

  it('with operations via the mempools: every block holds the transfers injected elsewhere, and both stacks carried them ahead', async () => {
    const params: RunParams = {
      nodes: 4, edges: randomRegularTopology(4, 2, 3), heads: 4, warmup: 1, intervalMs: 400, operations: 3, operationsViaMempool: { seed: 2 }, log: () => {}
    }
    const tz = await runTzp2p(params)
    assert.equal(tz.result.missing, 0)
    assert.equal(tz.result.latencies.length, params.heads * (params.nodes - 1))
    for (const block of tz.measured) {
      const injected = block.injected ?? []
      assert.equal(injected.flatMap(i => i.operations).length, params.operations, 'every transfer injected somewhere')
      assert.ok(injected.every(i => i.node !== 0), 'never at the producer')
    }
    assert.ok((tz.result.heardToHead ?? []).length > 0)
    const gs = await runGossipsub(params, tz.warmup, tz.measured)
    assert.equal(gs.missing, 0)
    assert.equal(gs.latencies.length, params.heads * (params.nodes - 1))
    assert.equal(gs.payloadBytes, tz.result.payloadBytes)
  })

  it('with consensus: every node endorses every block, the next block carries the endorsements, and gossipsub carries the same endorsements', async () => {
    const params: RunParams = {
      nodes: 4, edges: randomRegularTopology(4, 2, 3), heads: 4, warmup: 1, intervalMs: 400, operations: 0, consensus: true, log: () => {}
    }
    const tz = await runTzp2p(params)
    assert.equal(tz.result.missing, 0)
    assert.equal(tz.result.latencies.length, params.heads * (params.nodes - 1))
    assert.equal(tz.result.endorsementsPerBlock, params.nodes)
    const endorsements = tz.endorsements ?? []
    assert.equal(endorsements.length, params.nodes)
    for (const byBlock of endorsements) assert.ok(tz.measured.every(b => byBlock[b.key] !== undefined), 'every node endorsed every measured block')
    // Each block after the first carries (at least) the producer's endorsement of its predecessor.
    for (let i = 1; i < tz.measured.length; i++) {
      assert.ok(tz.measured[i].payload.includes(endorsements[0][tz.measured[i - 1].key]), `block ${i} carries the endorsement of block ${i - 1}`)
    }
    const gs = await runGossipsub(params, tz.warmup, tz.measured, endorsements)
    assert.equal(gs.missing, 0)
    assert.equal(gs.payloadBytes, tz.result.payloadBytes)
    // One endorsement message per node per block, each received by every other node (gossipsub
    // delivers a message once per node, duplicates dropped).
    assert.equal(gs.counters['endorsements published'], 1)
    assert.equal(gs.counters['endorsements received'], params.nodes - 1)
  })
})
