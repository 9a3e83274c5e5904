/**
 * What the Tezos handshake costs on top of a bare libp2p connection, on loopback, in one process
 * (both ends share one JavaScript thread, so connections/s is what one core sustains for both).
 *
 *   (a) bare:          libp2p.dial → connection open (TCP + Noise + yamux), then close
 *   (b) authenticated: node.dial → Tezos handshake done both ways, then close
 *
 * Both use the same libp2p configuration (TCP, Noise, yamux/mplex, identify, ping); (b) adds the
 * handshake service, and a tzp2p node answers identify without requesting it (a bare host requests
 * it as each connection opens). Dials are sequential fresh connections; rounds of (a) and (b)
 * alternate after a warm-up so drift (JIT, GC, CPU frequency) hits both alike.
 *
 *   npm run bench:handshake [-- --dials 300 --rounds 5 --warmup 200 --json file] [--only bare|handshake]
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import { randomBytes, x25519Keypair } from '../../src/crypto/index.ts'
import { makeIdentity } from '../../src/identity/identity.ts'
import { createNode, type TzNode } from '../../src/node/create-node.ts'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson } from './results.ts'

const { values: args } = parseScriptArgs({
  command: 'npm run bench:handshake --',
  summary: 'Connections per second on loopback: bare libp2p (TCP + Noise + yamux) against the same with the Tezos handshake.',
  options: {
    dials: { type: 'string', default: '300', placeholder: 'N', description: 'sequential dials per round' },
    rounds: { type: 'string', default: '5', placeholder: 'R', description: 'rounds of each kind, alternated' },
    warmup: { type: 'string', default: '200', placeholder: 'N', description: 'dials before the measured rounds' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' },
    only: {
      type: 'string',
      placeholder: 'bare|handshake',
      description: 'run one mode alone (for a CPU profile of it, e.g. node --cpu-prof); no ratio is reported'
    }
  }
})
const DIALS = Number(args.dials)
const ROUNDS = Number(args.rounds)
const WARMUP = Number(args.warmup)
const ONLY = args.only
if (ONLY !== undefined && ONLY !== 'bare' && ONLY !== 'handshake') {
  process.stderr.write(`--only: expected bare or handshake, got ${ONLY}\n`)
  process.exit(2)
}

const LISTEN = ['/ip4/127.0.0.1/tcp/0']

async function bareHost (): Promise<Libp2p> {
  const host = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: LISTEN },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    services: { identify: identify(), ping: ping() },
    // Sequential dials from one loopback IP exceed libp2p's default of 5 new connections/s.
    connectionManager: { inboundConnectionThreshold: 1_000_000 }
  })
  await host.start()
  return host
}

async function tezosNode (): Promise<TzNode> {
  // Difficulty 0: the bench measures the handshake, not the identity search.
  const { publicKey, secretKey } = x25519Keypair()
  const node = await createNode({
    identity: makeIdentity(publicKey, secretKey, randomBytes(24)),
    privateKey: await generateKeyPair('Ed25519'),
    expectedPow: 0,
    chainName: 'TZP2P_BENCH',
    listen: LISTEN,
    inboundConnectionsPerIpPerSecond: 1_000_000
  })
  await node.start()
  return node
}

/** One sequential dial → ready → close; returns the dial-to-ready latency in ms. */
type DialOnce = () => Promise<number>

interface RoundResult { latencies: number[], elapsedMs: number, cpuMs: number }

async function run (dialOnce: DialOnce, n: number): Promise<RoundResult> {
  const latencies: number[] = []
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < n; i++) latencies.push(await dialOnce())
  const elapsedMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { latencies, elapsedMs, cpuMs: (used.user + used.system) / 1000 }
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

interface Summary { connectionsPerSecond: number, cpuMsPerConnection: number, p50Ms: number, p99Ms: number, dials: number }

function summarise (r: RoundResult): Summary {
  const sorted = [...r.latencies].sort((x, y) => x - y)
  return {
    dials: r.latencies.length,
    connectionsPerSecond: r.latencies.length / (r.elapsedMs / 1000),
    cpuMsPerConnection: r.cpuMs / r.latencies.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99)
  }
}

async function bareMode (): Promise<{ dialOnce: DialOnce, stop: () => Promise<void> }> {
  const dialer = await bareHost()
  const listener = await bareHost()
  const target: Multiaddr = listener.getMultiaddrs()[0]
  return {
    dialOnce: async () => {
      const t0 = performance.now()
      const connection = await dialer.dial(target)
      const dt = performance.now() - t0
      await connection.close()
      return dt
    },
    stop: async () => { await Promise.all([dialer.stop(), listener.stop()]) }
  }
}

async function handshakeMode (): Promise<{ dialOnce: DialOnce, stop: () => Promise<void> }> {
  const dialer = await tezosNode()
  const listener = await tezosNode()
  const target: Multiaddr = listener.getMultiaddrs()[0]
  return {
    dialOnce: async () => {
      const t0 = performance.now()
      const peer = await dialer.dial(target)
      const dt = performance.now() - t0
      const connection = dialer.libp2p.getConnections().find(c => c.id === peer.connectionId)
      await connection?.close()
      return dt
    },
    stop: async () => { await Promise.all([dialer.stop(), listener.stop()]) }
  }
}

const row = (name: string, s: Summary): string =>
  `${name.padEnd(15)} ${s.connectionsPerSecond.toFixed(0).padStart(6)} conn/s   CPU ${s.cpuMsPerConnection.toFixed(2)} ms/conn   ` +
  `p50 ${s.p50Ms.toFixed(2).padStart(6)} ms   p99 ${s.p99Ms.toFixed(2).padStart(6)} ms`

if (ONLY !== undefined) {
  // One mode alone, so that a CPU profile of the process shows only its work.
  const mode = ONLY === 'bare' ? await bareMode() : await handshakeMode()
  await run(mode.dialOnce, WARMUP)
  const measured = await run(mode.dialOnce, DIALS * ROUNDS)
  await mode.stop()
  process.stdout.write(row(ONLY === 'bare' ? '(a) bare' : '(b) handshake', summarise(measured)) + '\n')
  process.exit(0)
}

const bare = await bareMode()
const authenticated = await handshakeMode()

await run(bare.dialOnce, WARMUP)
await run(authenticated.dialOnce, WARMUP)

const empty = (): RoundResult => ({ latencies: [], elapsedMs: 0, cpuMs: 0 })
const results = { bare: empty(), authenticated: empty() }
for (let r = 0; r < ROUNDS; r++) {
  // Alternate which mode goes first so neither always runs right after a GC-heavy round.
  const order = r % 2 === 0 ? (['bare', 'authenticated'] as const) : (['authenticated', 'bare'] as const)
  for (const name of order) {
    const round = await run(name === 'bare' ? bare.dialOnce : authenticated.dialOnce, DIALS)
    results[name].latencies.push(...round.latencies)
    results[name].elapsedMs += round.elapsedMs
    results[name].cpuMs += round.cpuMs
  }
}

await Promise.all([bare.stop(), authenticated.stop()])

const a = summarise(results.bare)
const b = summarise(results.authenticated)
const report = {
  node: process.version,
  dialsPerMode: a.dials,
  bare: a,
  authenticated: b,
  ratio: {
    /** Time per connection, authenticated over bare (1.15 = the handshake adds 15 %). */
    timePerConnection: a.connectionsPerSecond / b.connectionsPerSecond,
    /** CPU per connection (both ends), authenticated over bare: robust when the machine is busy. */
    cpuPerConnection: b.cpuMsPerConnection / a.cpuMsPerConnection,
    p50: b.p50Ms / a.p50Ms,
    p99: b.p99Ms / a.p99Ms
  }
}

process.stdout.write([
  `tzp2p handshake bench — Node ${process.version}, loopback TCP, both ends in one process, ${a.dials} sequential dials per mode`,
  row('(a) bare', a),
  row('(b) handshake', b),
  `b/a: time per connection ×${report.ratio.timePerConnection.toFixed(3)} (+${((report.ratio.timePerConnection - 1) * 100).toFixed(1)} %), ` +
    `CPU per connection ×${report.ratio.cpuPerConnection.toFixed(3)}, p50 ×${report.ratio.p50.toFixed(3)}, p99 ×${report.ratio.p99.toFixed(3)}`,
  ''
].join('\n'))

const bareName = 'bare libp2p dial (TCP + Noise + yamux)'
await writeBenchJson(process.argv, {
  bench: 'handshake',
  command: 'npm run bench:handshake',
  params: { dialsPerMode: a.dials, rounds: ROUNDS, warmup: WARMUP },
  figures: [
    {
      name: 'loopback dials, connections/s',
      unit: 'conn/s',
      value: b.connectionsPerSecond,
      reference: { name: bareName, value: a.connectionsPerSecond },
      // Stated as time per connection (authenticated over bare), as the goal is.
      ratio: report.ratio.timePerConnection,
      goal: '≤ 1.15× time per connection (≤ +15 %)',
      met: report.ratio.timePerConnection <= 1.15
    },
    {
      name: 'CPU per connection, both ends',
      unit: 'ms',
      value: b.cpuMsPerConnection,
      reference: { name: bareName, value: a.cpuMsPerConnection },
      ratio: report.ratio.cpuPerConnection,
      goal: '≤ 1.15×',
      met: report.ratio.cpuPerConnection <= 1.15
    },
    { name: 'dial → authenticated, p50', unit: 'ms', value: b.p50Ms, reference: { name: bareName, value: a.p50Ms }, ratio: report.ratio.p50 },
    { name: 'dial → authenticated, p99', unit: 'ms', value: b.p99Ms, reference: { name: bareName, value: a.p99Ms }, ratio: report.ratio.p99 }
  ]
})
