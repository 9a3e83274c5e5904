/**
 * Block gossip benchmark: how fast and at what cost a new head reaches every node of a devnet,
 * with tzp2p (Current_head announcements, operations pulled by hash over /tzp2p/sync) and with
 * `@libp2p/gossipsub` carrying the same blocks over the same edges.
 *
 * N node processes (default 20) on loopback, or each in its own network namespace with `tc netem`
 * delay and loss on every node's link (`--link-delay`, `--loss`: as `devnet --net-namespaces`
 * builds them; root, iproute2 and the kernel's sch_netem needed), wired as a fixed random graph of degree ~D (seeded),
 * one producer (node 0) making a block every interval with a few signed transfers. Per block and
 * node: the time from production to arrival (p50, p99 over all pairs, warm-up blocks ignored); per
 * block and node: bytes written to TCP. Then the same for gossipsub, and the ratios.
 * See scripts/bench/gossip/runs.ts for exactly what is timed and counted.
 *
 *   npm run bench:gossip [-- --nodes 20 --degree 6 --heads 60 --warmup 5 --interval-ms 500
 *                           --operations 5 [--operations-via-mempool] --seed 1 --json file]
 *   npm run bench:gossip -- --consensus    (every node endorses every block: gossip/consensus.ts)
 *   npm run bench:gossip -- --link-delay 25 [--loss 1]
 *   npm run bench:gossip -- --link-delay 25 --link-emulation proxy
 *
 * `--link-emulation proxy` needs no kernel support: every node on loopback, every edge through a
 * userspace TCP relay (scripts/bench/gossip/relay.ts, in a process of its own) that holds each
 * chunk for the delay in each direction. It models delay only: no loss (refused), and TCP on
 * either side of a relay runs over loopback (no slow start or congestion window over the long
 * round trip). It prints the relay's own added latency, measured against a direct connection.
 *
 * When the network asked for cannot be built here (not root, no iproute2, no netem), it says
 * what is missing in one line and exits with 1; it never falls back to loopback.
 */
import { cpus, loadavg } from 'node:os'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson, type BenchFigure } from './results.ts'
import { LinkShapingError, MAX_LINK_DELAY_MS, MAX_LOSS_PERCENT, parseLinkShaping, shapingOptions, type LinkShaping } from './gossip/link-shaping.ts'
import { BenchNetworkUnavailableError, loopbackNetwork, namespaceNetwork, type BenchNetwork } from './gossip/network.ts'
import { proxyNetwork, type RelayOverhead } from './gossip/relay-network.ts'
import { runGossipsub, runTzp2p, type RunParams, type StackResult } from './gossip/runs.ts'
import { diameter, randomRegularTopology } from './gossip/topology.ts'

const { values: args } = parseScriptArgs({
  command: 'npm run bench:gossip --',
  summary: 'How fast and at what cost a new head reaches every node of a devnet, with tzp2p and with @libp2p/gossipsub, ' +
    'on loopback or with emulated WAN links. --link-emulation netem (the default with --link-delay/--loss): every node in its own network ' +
    'namespace and tc netem on every node\'s link, modelling delay and loss of packets under real TCP (root, iproute2 and sch_netem needed; ' +
    'when they are missing it says so and exits with 1, never falling back). --link-emulation proxy (no kernel support needed): every node on loopback and every ' +
    'edge through a userspace TCP relay, in a process of its own, that holds each chunk for the delay in each direction, in order (a round trip ' +
    'costs twice the delay); it models delay only: no loss (--loss is refused), no bandwidth limit, and TCP on either side of a relay runs over ' +
    'loopback, so no slow start or congestion window over the long round trip and an instant TCP handshake. ' +
    'The relay process runs at real-time priority where allowed (it stands for the network, which waits for no core); its own added latency ' +
    'is measured against a direct connection and printed, and its CPU and its copies of the bytes are not in the nodes\' figures.',
  options: {
    nodes: { type: 'string', default: '20', placeholder: 'N', description: 'node processes' },
    degree: { type: 'string', default: '6', placeholder: 'D', description: 'edges per node of the random graph' },
    heads: { type: 'string', default: '60', placeholder: 'N', description: 'blocks produced' },
    warmup: { type: 'string', default: '5', placeholder: 'N', description: 'first blocks left out of the figures' },
    'interval-ms': { type: 'string', default: '500', placeholder: 'ms', description: 'time between blocks' },
    operations: { type: 'string', default: '5', placeholder: 'N', description: 'signed transfers per block (0: header-only blocks)' },
    consensus: { type: 'boolean', default: false, description: 'as on a real Tezos network, every node endorses every block: the chain runs demo v3 with one delegate per node; tzp2p: each node injects one endorsement of each new head into its mempool, which gossips it, and the producer bakes the next block with them (once it holds all, or at 80 % of the interval); gossipsub: each node publishes the same endorsement bytes on an operations topic as the block arrives (one message per node per block), and the blocks carry them in full on the blocks topic. The blocks carry endorsements and no transfers (--operations is ignored; --operations-via-mempool is refused)' },
    'operations-via-mempool': { type: 'boolean', default: false, description: 'the realistic case: each block\'s transfers are injected at random nodes half an interval before it and gossiped (tzp2p: mempool announcements; gossipsub: an operations topic, the block still carrying them in full); without it they travel inside blocks only, the worst case' },
    seed: { type: 'string', default: '1', placeholder: 'S', description: 'seed of the random graph (and of the nodes injecting operations)' },
    'link-delay': { type: 'string', placeholder: 'ms', description: `one-way delay of every link, 0 to ${MAX_LINK_DELAY_MS} (a round trip costs twice this): netem adds it to every packet a node sends (implies --net-namespaces), or with --link-emulation proxy the edge's relay to each direction` },
    loss: { type: 'string', placeholder: 'percent', description: `share of the packets a node sends that netem drops, 0 to ${MAX_LOSS_PERCENT}; implies --net-namespaces` },
    'link-emulation': { type: 'string', placeholder: 'netem|proxy', defaultText: 'netem', description: 'how --link-delay is applied: netem in network namespaces (delay and loss), or proxy: a userspace TCP relay per edge on loopback (delay only)' },
    'net-namespaces': { type: 'boolean', default: false, description: 'each node in its own network namespace on a bridge, as devnet --net-namespaces (root only); without --link-delay/--loss, no netem' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
  }
})

function positive (name: string, value: string | undefined, min = 1): number {
  const n = Number(value)
  if (!(Number.isInteger(n) && n >= min)) {
    console.error(`--${name} must be an integer ≥ ${min}, got ${value}`)
    process.exit(2)
  }
  return n
}

let shaping: LinkShaping
try {
  shaping = parseLinkShaping({ linkDelay: args['link-delay'], loss: args.loss, netNamespaces: args['net-namespaces'], linkEmulation: args['link-emulation'] })
} catch (e) {
  if (!(e instanceof LinkShapingError)) throw e
  console.error(e.message)
  process.exit(2)
}

if (args.consensus && args['operations-via-mempool']) {
  console.error('--consensus and --operations-via-mempool do not go together: with --consensus the blocks carry endorsements, not transfers')
  process.exit(2)
}
const nodes = positive('nodes', args.nodes, 2)
const degree = positive('degree', args.degree)
const seed = positive('seed', args.seed, 0)
const edges = randomRegularTopology(nodes, degree, seed)
const params: RunParams = {
  nodes,
  edges,
  heads: positive('heads', args.heads),
  warmup: positive('warmup', args.warmup),
  intervalMs: positive('interval-ms', args['interval-ms']),
  operations: args.consensus ? 0 : positive('operations', args.operations, 0),
  ...(args['operations-via-mempool'] ? { operationsViaMempool: { seed } } : {}),
  ...(args.consensus ? { consensus: true } : {}),
  log: line => { console.log(`  ${line}`) }
}

/** Nearest-rank percentile. */
function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

const fmt = (n: number, digits = 1): string => Number.isFinite(n) ? n.toFixed(digits) : 'n/a'

let network: BenchNetwork = loopbackNetwork
let relayOverhead: RelayOverhead | undefined
let relayPriority = ''
if (shaping.proxy) {
  const proxied = await proxyNetwork(shaping.delayMs)
  network = proxied
  relayOverhead = proxied.overhead
  relayPriority = proxied.priority
} else if (shaping.namespaces) {
  try {
    network = await namespaceNetwork(nodes, shaping)
  } catch (e) {
    if (!(e instanceof BenchNetworkUnavailableError)) throw e
    console.error(`npm run bench:gossip: cannot build the emulated network: ${e.message}`)
    process.exit(1)
  }
}
params.network = network

console.log(`gossip benchmark on ${network.description}: ${nodes} nodes, ${edges.length} edges (degree ${Math.min(degree, nodes - 1)}, seed ${seed}, diameter ${diameter(nodes, edges)} hops), ` +
  `${params.heads} blocks (+${params.warmup} warm-up) every ${params.intervalMs} ms with ` +
  (params.consensus === true ? 'the endorsements of every node (demo v3, one delegate per node)' : `${params.operations} transfers each`) +
  (params.consensus === true ? '' : params.operationsViaMempool !== undefined ? ', injected at random nodes half an interval ahead (via the mempools)' : ', carried inside the blocks only'))
if (relayOverhead !== undefined) {
  const o = relayOverhead
  console.log(`relay process at ${relayPriority}`)
  console.log(`relay's own latency (median of round trips of 64 B to an echo server, before the nodes start): direct round trip ${fmt(o.directRttMs, 3)} ms; ` +
    `a relay adds ${fmt(o.addedOneWayMs, 3)} ms one way at delay 0, and ${fmt(o.addedBeyondDelayOneWayMs, 3)} ms one way beyond its ${shaping.delayMs} ms delay`)
}
// An error or Ctrl-C removes the namespaces from the exit handler (network.ts); here the ordinary end.
const tz = await runTzp2p(params)
const gs = await runGossipsub(params, tz.warmup, tz.measured, tz.endorsements)
await network.close()

interface Row { label: string, unit: string, tz: number, gs: number, digits?: number }
const rows: Row[] = [
  { label: 'p50 bake→arrival', unit: 'ms', tz: percentile(tz.result.latencies, 50), gs: percentile(gs.latencies, 50) },
  { label: 'p99 bake→arrival', unit: 'ms', tz: percentile(tz.result.latencies, 99), gs: percentile(gs.latencies, 99) },
  { label: 'bytes sent per head per node', unit: 'B', tz: tz.result.bytesPerHeadPerNode, gs: gs.bytesPerHeadPerNode, digits: 0 },
  { label: 'CPU per head (all nodes)', unit: 'ms', tz: tz.result.cpuSecondsPerHead * 1000, gs: gs.cpuSecondsPerHead * 1000 }
]

function describe (name: string, r: StackResult): void {
  const delivered = r.latencies.length
  console.log(`${name}: ${delivered} of ${delivered + r.missing} (block, node) arrivals; topology held: ${r.topologyHeld ? 'yes' : 'NO'}`)
  const protocols = Object.entries(r.byProtocol).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v, 0)} B`).join(', ')
  console.log(`  stream payload per block per node, by protocol (before Noise/yamux framing): ${protocols}`)
  const counters = Object.entries(r.counters).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')
  if (counters !== '') console.log(`  per block per node: ${counters}`)
  if (r.relay !== undefined) {
    const l = r.relay.lateness
    console.log(`  relays: ${fmt(r.relay.bytesPerHeadPerNode, 0)} B forwarded per head per node (the nodes' own count above: ${fmt(r.bytesPerHeadPerNode, 0)} B), ` +
      `${r.relay.connections} connections for ${edges.length} edges, relay CPU ${fmt(r.relay.cpuSecondsPerHead * 1000)} ms per head (not in the nodes' figure); ` +
      `while measured a chunk left p50 ${fmt(l.p50, 2)} ms, p99 ${fmt(l.p99, 2)} ms, at most ${fmt(l.max, 1)} ms after its due time`)
  }
}

console.log('')
console.log(`block payload (header + operations): ${fmt(tz.result.payloadBytes, 0)} B on average`)
describe('tzp2p', tz.result)
if (tz.result.endorsementsPerBlock !== undefined) console.log(`  endorsements made per measured block: ${fmt(tz.result.endorsementsPerBlock, 2)} of ${nodes} nodes`)
if (tz.result.announced !== undefined) {
  console.log(`  tzp2p first Current_head naming the block: p50 ${fmt(percentile(tz.result.announced, 50))} ms, p99 ${fmt(percentile(tz.result.announced, 99))} ms`)
  const heard = tz.result.heardToHead ?? []
  console.log(`  tzp2p from that Current_head to the block being the node's head: p50 ${fmt(percentile(heard, 50))} ms, p90 ${fmt(percentile(heard, 90))} ms`)
}
if (tz.result.validated !== undefined) {
  // Validated: held whole and checked, forwarded, before the application and the store write that
  // make it the node's head (the arrival above). Gossipsub's arrival is a delivery: closest to this.
  const v = tz.result.validated
  console.log(`  tzp2p block validated at the node (before its application and store write): p50 ${fmt(percentile(v, 50))} ms (${fmt(percentile(v, 50) / percentile(gs.latencies, 50), 2)}× gossipsub's arrival), ` +
    `p99 ${fmt(percentile(v, 99))} ms (${fmt(percentile(v, 99) / percentile(gs.latencies, 99), 2)}×)`)
}
if (tz.result.stages !== undefined) {
  const parts = Object.entries(tz.result.stages).map(([k, v]) => `${k} p50 ${fmt(percentile(v, 50), 2)} / p99 ${fmt(percentile(v, 99), 2)} ms`)
  console.log(`  tzp2p from validated to head at each node: ${parts.join(', ')}`)
}
describe('gossipsub', gs)
console.log('')
console.log(`${'figure'.padEnd(34)}${'tzp2p'.padStart(12)}${'gossipsub'.padStart(12)}${'ratio'.padStart(8)}`)
for (const r of rows) {
  const d = r.digits ?? 1
  console.log(`${`${r.label} (${r.unit})`.padEnd(34)}${fmt(r.tz, d).padStart(12)}${fmt(r.gs, d).padStart(12)}${fmt(r.tz / r.gs, 2).padStart(8)}`)
}
// The goals of issue 16: arrival no later than gossipsub's at p50 and p99, with at most 0.6× its bytes.
const BYTES_GOAL = 0.6
const p50Met = rows[0].tz <= rows[0].gs
const p99Met = rows[1].tz <= rows[1].gs
const bytesMet = rows[2].tz <= BYTES_GOAL * rows[2].gs
console.log('')
console.log(`goal: tzp2p p50 and p99 ≤ gossipsub's (${p50Met ? 'met' : 'missed'}, ${p99Met ? 'met' : 'missed'}) with ≤ ${BYTES_GOAL}× its bytes per head (${bytesMet ? 'met' : 'missed'})`)
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg().map(l => l.toFixed(2)).join(' ')} at the end`)

const reference = (r: Row): Pick<BenchFigure, 'reference' | 'ratio'> => ({
  reference: { name: '@libp2p/gossipsub', value: Number(fmt(r.gs, r.digits ?? 1)) },
  ratio: Number(fmt(r.tz / r.gs, 2))
})
const figure = (r: Row, goal?: { text: string, met: boolean }): BenchFigure => ({
  name: r.label, unit: r.unit, value: Number(fmt(r.tz, r.digits ?? 1)), ...reference(r), ...(goal === undefined ? {} : { goal: goal.text, met: goal.met })
})
await writeBenchJson(process.argv.slice(2), {
  bench: 'gossip',
  command: ['npm run bench:gossip', ...(shapingOptions(shaping).length > 0 ? ['--', ...shapingOptions(shaping)] : [])].join(' '),
  params: {
    nodes, degree: Math.min(degree, nodes - 1), edges: edges.length, diameter: diameter(nodes, edges), heads: params.heads, warmup: params.warmup,
    intervalMs: params.intervalMs, operations: params.operations, operationsViaMempool: params.operationsViaMempool !== undefined, consensus: params.consensus === true, seed,
    network: shaping.proxy ? 'relays' : shaping.namespaces ? 'namespaces' : 'loopback', linkDelayMs: shaping.delayMs, lossPercent: shaping.lossPercent,
    ...(relayOverhead === undefined
      ? {}
      : {
          relayAddedOneWayMs: Number(fmt(relayOverhead.addedOneWayMs, 3)),
          relayAddedBeyondDelayOneWayMs: Number(fmt(relayOverhead.addedBeyondDelayOneWayMs, 3)),
          relayLatenessP99Ms: { tzp2p: Number(fmt(tz.result.relay?.lateness.p99 ?? NaN, 2)), gossipsub: Number(fmt(gs.relay?.lateness.p99 ?? NaN, 2)) }
        }),
    // Twenty processes per stack share the machine's cores: the load says how contended they were.
    loadAverage: loadavg().map(l => Number(l.toFixed(2)))
  },
  figures: [
    figure(rows[0], { text: '≤ 1.0× gossipsub', met: p50Met }),
    figure(rows[1], { text: '≤ 1.0× gossipsub', met: p99Met }),
    figure(rows[2], { text: `≤ ${BYTES_GOAL}× gossipsub`, met: bytesMet }),
    figure(rows[3]),
    ...(tz.result.validated === undefined
      ? []
      : [
          figure({ label: 'p50 bake→validated (before application and store write)', unit: 'ms', tz: percentile(tz.result.validated, 50), gs: rows[0].gs }),
          figure({ label: 'p99 bake→validated (before application and store write)', unit: 'ms', tz: percentile(tz.result.validated, 99), gs: rows[1].gs })
        ])
  ]
})
