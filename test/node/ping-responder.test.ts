/**
 * The node's ping answer (src/node/ping-responder.ts) over real TCP + Noise + yamux on loopback:
 * the library's pinger gets its echo, an exchange that outlasts the timeout is aborted, and a
 * finished exchange's stream can be collected (the library's answer keeps it for the whole
 * timeout).
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping, PING_PROTOCOL, type Ping, type PingComponents } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { nodePing } from '../../src/node/ping-responder.ts'

type PingHost = Libp2p<{ ping: Ping }>
const hosts: PingHost[] = []

async function startHost (service: (components: PingComponents) => Ping, start = true): Promise<PingHost> {
  const host = await createLibp2p({
    start: false,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // No pings but the test's own.
    connectionMonitor: { enabled: false },
    services: { ping: service }
  })
  if (start) await host.start()
  hosts.push(host)
  return host
}

/** V8's garbage collector, exposed at runtime (the test runner starts files without `--expose-gc`). */
function gc (): () => void {
  setFlagsFromString('--expose-gc')
  const collect = runInNewContext('gc') as (options?: { type: 'major', execution: 'sync' }) => void
  return () => { collect({ type: 'major', execution: 'sync' }) }
}

/** Polls until `check` holds; the deadline only keeps a broken test from hanging. */
async function until (what: string, check: () => boolean, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${deadlineMs} ms: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

after(async () => { await Promise.all(hosts.map(async h => { await h.stop() })) })

describe('ping answered by the node', () => {
  it('echoes the library pinger, many times over one connection', async () => {
    const answering = await startHost(nodePing({ timeout: 60_000 }))
    const pinging = await startHost(ping())
    for (let i = 0; i < 5; i++) {
      const rtt = await pinging.services.ping.ping(answering.getMultiaddrs()[0])
      assert.ok(Number.isFinite(rtt) && rtt >= 0, `round trip ${rtt}`)
    }
  })

  it('lets go of the stream once an exchange ends, where the library\'s answer keeps it for the timeout', async () => {
    const timeout = 10 * 60_000
    /** A host whose answers are recorded as weak references to their streams. */
    const recording = async (service: (components: PingComponents) => Ping): Promise<{ host: PingHost, streams: Array<WeakRef<Stream>> }> => {
      const host = await startHost(service, false)
      const streams: Array<WeakRef<Stream>> = []
      const answering = host.services.ping as unknown as { handlePing: (stream: Stream, connection: Connection) => Promise<void> }
      const answer = answering.handlePing
      answering.handlePing = async (stream, connection) => { streams.push(new WeakRef(stream)); await answer(stream, connection) }
      await host.start()
      return { host, streams }
    }
    const ours = await recording(nodePing({ timeout }))
    const stock = await recording(ping({ timeout }))
    const pinging = await startHost(ping())
    for (const { host } of [ours, stock]) await pinging.services.ping.ping(host.getMultiaddrs()[0])
    const collect = gc()
    await until('our answer\'s stream collected', () => { collect(); return ours.streams[0].deref() === undefined })
    // The library's answer, in the same process after the same collections, still holds its stream.
    collect()
    assert.notEqual(stock.streams[0].deref(), undefined, 'the library\'s answer keeps its stream until its timeout')
  })

  it('aborts an exchange that outlasts the timeout', async () => {
    const answering = await startHost(nodePing({ timeout: 300 }))
    const pinging = await startHost(ping())
    const connection = await pinging.dial(answering.getMultiaddrs()[0])
    const stream = await connection.newStream(PING_PROTOCOL)
    const echoed: Uint8Array[] = []
    stream.addEventListener('message', evt => { echoed.push(evt.data.subarray()) })
    stream.send(new Uint8Array(32).fill(7))
    // The echo comes back, then the pinger neither closes nor sends: the answering side gives up.
    await until('the echo', () => echoed.reduce((n, c) => n + c.byteLength, 0) === 32)
    assert.deepEqual(Buffer.concat(echoed), Buffer.alloc(32, 7))
    await until('the stream reset by the answering side', () => stream.status !== 'open')
    assert.equal(connection.status, 'open', 'only the stream ends, not the connection')
  })
})
