import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { newRelayCounters, startRelay, throughPort, tcpTarget } from '../../scripts/bench/gossip/relay.ts'
import { proxyNetwork } from '../../scripts/bench/gossip/relay-network.ts'
import { runGossipsub, runTzp2p, type RunParams, type StackResult } from '../../scripts/bench/gossip/runs.ts'
import { randomRegularTopology } from '../../scripts/bench/gossip/topology.ts'

/** A record: sequence number, then the sender's `performance.now()` when it was written. */
const RECORD = 16
function record (seq: number): Buffer {
  const b = Buffer.alloc(RECORD)
  b.writeUInt32BE(seq, 0)
  b.writeDoubleBE(performance.now(), 8)
  return b
}

/** Splits a byte stream into records, calling `each(seq, sentAt, arrivedAt)` for each. */
function records (s: Socket, each: (seq: number, sentAt: number, arrivedAt: number) => void): void {
  let rest = Buffer.alloc(0)
  s.on('data', (d: Buffer) => {
    const t = performance.now()
    rest = Buffer.concat([rest, d])
    let k = 0
    for (; k + RECORD <= rest.length; k += RECORD) each(rest.readUInt32BE(k), rest.readDoubleBE(k + 8), t)
    rest = rest.subarray(k)
  })
}

async function listen (server: Server): Promise<number> {
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  return (server.address() as { port: number }).port
}

async function dial (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => { resolve(s) })
    s.once('error', reject)
  })
}

describe('gossip benchmark relay (one edge, real loopback sockets)', () => {
  for (const delayMs of [30, 0]) {
    it(`delay ${delayMs} ms: both directions in order, nothing before its delay, more than its high-water mark in flight, and the end passed on after the data`, async () => {
      // The far end records what arrives (one way) and echoes it back (round trip).
      const oneWay: Array<{ seq: number, late: number }> = []
      let farEnded!: () => void
      const farEnd = new Promise<void>(resolve => { farEnded = resolve })
      const target = createServer({ allowHalfOpen: true }, s => {
        records(s, (seq, sentAt, arrivedAt) => { oneWay.push({ seq, late: arrivedAt - sentAt }) })
        s.pipe(s)
        s.on('end', farEnded)
      })
      const targetPort = await listen(target)
      const counters = newRelayCounters()
      const relay = await startRelay({ host: '127.0.0.1', port: targetPort }, delayMs, counters)
      const client = await dial(relay.port)
      try {
        // Bursts of growing size, each sent when the previous one is back in full; the last is
        // 6.4 MB, beyond the relay's 4 MB high-water mark, so reading pauses and resumes.
        const bursts = [1, 10, 100, 400_000]
        const total = bursts.reduce((a, b) => a + b, 0)
        const back: Array<{ seq: number, late: number }> = []
        let next = 0
        let burst = 0
        const sendBurst = (): void => {
          const n = bursts[burst++]
          client.write(Buffer.concat(Array.from({ length: n }, () => record(next++))))
        }
        const allBack = new Promise<void>(resolve => {
          records(client, (seq, sentAt, arrivedAt) => {
            back.push({ seq, late: arrivedAt - sentAt })
            if (back.length === next) {
              if (burst < bursts.length) sendBurst()
              else resolve()
            }
          })
        })
        sendBurst()
        await allBack
        client.end()
        await farEnd

        assert.deepEqual(oneWay.map(r => r.seq), Array.from({ length: total }, (_, i) => i), 'one way: every record, in order')
        assert.deepEqual(back.map(r => r.seq), Array.from({ length: total }, (_, i) => i), 'round trip: every record, in order')
        const earliestOneWay = oneWay.reduce((m, r) => Math.min(m, r.late), Infinity)
        const earliestBack = back.reduce((m, r) => Math.min(m, r.late), Infinity)
        assert.ok(earliestOneWay >= delayMs, `a record arrived ${earliestOneWay} ms after it was sent, before the ${delayMs} ms delay`)
        assert.ok(earliestBack >= 2 * delayMs, `a record came back ${earliestBack} ms after it was sent, before twice the ${delayMs} ms delay`)
        assert.equal(counters.connections, 1)
        assert.equal(counters.bytes, 2 * total * RECORD, 'the relay counts what it wrote on, both directions')
        assert.ok(counters.lateness.every(l => l >= 0))
      } finally {
        client.destroy()
        await relay.close()
        await new Promise<void>(resolve => { target.close(() => { resolve() }) })
      }
    })
  }

  it('rewrites a node address to go through a relay port, keeping the peer id', () => {
    const a = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWabc'
    assert.deepEqual(tcpTarget(a), { host: '127.0.0.1', port: 4001 })
    assert.equal(throughPort(a, 5555), '/ip4/127.0.0.1/tcp/5555/p2p/12D3KooWabc')
    assert.throws(() => tcpTarget('/ip6/::1/tcp/1'), /not a \/ip4\/…\/tcp\/… address/)
  })
})

describe('gossip benchmark through relays (3 node processes per stack, 25 ms per link)', () => {
  it('delivers every block in both stacks, every byte through the relays, none sooner than one link delay', async () => {
    const delayMs = 25
    const network = await proxyNetwork(delayMs)
    try {
      assert.ok(Number.isFinite(network.overhead.addedOneWayMs) && Number.isFinite(network.overhead.addedBeyondDelayOneWayMs))
      const params: RunParams = {
        nodes: 3, edges: randomRegularTopology(3, 2, 1), heads: 3, warmup: 1, intervalMs: 300, operations: 2, network, log: () => {}
      }
      const check = (name: string, r: StackResult): void => {
        assert.equal(r.missing, 0, `${name}: arrivals missing`)
        assert.equal(r.latencies.length, params.heads * (params.nodes - 1), name)
        assert.ok(r.latencies.every(l => l >= delayMs), `${name}: a block arrived sooner than one link delay: ${r.latencies.join(', ')}`)
        assert.ok(r.bytesPerHeadPerNode > 0 && r.topologyHeld, name)
        assert.ok(r.relay !== undefined, `${name}: relay figures`)
        assert.ok(r.relay.connections >= params.edges.length, `${name}: ${r.relay.connections} relay connections for ${params.edges.length} edges`)
        // What the nodes wrote is what the relays carried: no node reached another around them.
        assert.ok(r.relay.bytesPerHeadPerNode >= 0.9 * r.bytesPerHeadPerNode,
          `${name}: relays carried ${r.relay.bytesPerHeadPerNode} B per head per node, the nodes wrote ${r.bytesPerHeadPerNode}`)
      }
      const tz = await runTzp2p(params)
      check('tzp2p', tz.result)
      check('gossipsub', await runGossipsub(params, tz.warmup, tz.measured))
    } finally {
      await network.close()
    }
  })
})
