/**
 * How much an attack costs the honest network: a victim node in its own process relays an honest
 * baker's blocks to an honest observer, first undisturbed, then while N attacking connections
 * (slowloris handshakes, pre-authentication stream floods, sync request floods, garbage senders;
 * see test/hostile/flood.ts) hammer it. Prints, side by side, the bake → arrival times (p50/p99)
 * with and without the attack and their ratio, the victim's memory, and its queues' high-water
 * marks against their bounds.
 *
 *   npm run bench:attack [-- --connections 200 --heads 40 --json <file>]
 */
import { cpus, loadavg } from 'node:os'
import { measureUnderAttack, mib, percentile } from '../../test/hostile/resource-bounds.ts'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson } from './results.ts'

const { values: args } = parseScriptArgs({
  command: 'npm run bench:attack --',
  summary: 'Block relay times through a victim node with and without N attacking connections, its memory and queue high-water marks.',
  options: {
    connections: { type: 'string', default: '200', placeholder: 'N', description: 'attacking connections' },
    heads: { type: 'string', default: '40', placeholder: 'N', description: 'blocks measured in each phase' },
    'bake-interval-ms': { type: 'string', default: '500', placeholder: 'ms', description: 'time between the baker\'s blocks' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
  }
})
const connections = Number(args.connections)
const heads = Number(args.heads)
const bakeIntervalMs = Number(args['bake-interval-ms'])
for (const [name, v] of [['--connections', connections], ['--heads', heads], ['--bake-interval-ms', bakeIntervalMs]] as const) {
  if (!Number.isSafeInteger(v) || v < 1) { process.stderr.write(`bench:attack: ${name} must be a positive integer\n`); process.exit(2) }
}

/** Stated goals (README, security model). */
const RSS_GOAL_MIB = 512
const P50_FACTOR_GOAL = 5

process.stdout.write(`bench:attack — ${connections} attacking connections, ${heads} blocks per phase every ${bakeIntervalMs} ms; ` +
  `${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0].toFixed(2)}\n`)
const r = await measureUnderAttack({ heads, connections, bakeIntervalMs, log: line => { process.stdout.write(`  ${line}\n`) } })

// Bake → arrival percentiles, without and with the attack, and their ratios.
const latency = {
  p50: { calm: percentile(r.baseline.latencies, 50), attacked: percentile(r.attack.latencies, 50) },
  p99: { calm: percentile(r.baseline.latencies, 99), attacked: percentile(r.attack.latencies, 99) }
}
const factor = latency.p50.attacked / latency.p50.calm
const factor99 = latency.p99.attacked / latency.p99.calm
const rssOver = (r.attack.rssPeak - r.baselineRss) / 1048576
const rows = [
  ['bake → arrival p50', `${latency.p50.calm.toFixed(1)} ms`, `${latency.p50.attacked.toFixed(1)} ms`, `${factor.toFixed(2)}×`],
  ['bake → arrival p99', `${latency.p99.calm.toFixed(1)} ms`, `${latency.p99.attacked.toFixed(1)} ms`, `${factor99.toFixed(2)}×`],
  ['victim RSS peak', mib(r.baseline.rssPeak), mib(r.attack.rssPeak), `+${mib(r.attack.rssPeak - r.baselineRss)}`],
  ['victim heap peak', mib(r.baseline.heapPeak), mib(r.attack.heapPeak), `+${mib(r.attack.heapPeak - r.baselineHeap)}`],
  ['connections peak', String(r.baseline.connectionsPeak), String(r.attack.connectionsPeak), ''],
  ['streams per connection peak', String(r.baseline.streamsPerConnectionPeak), String(r.attack.streamsPerConnectionPeak), '']
]
process.stdout.write('\n| | no attack | under attack | ratio |\n|---|---|---|---|\n')
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`)
process.stdout.write(`\nafter the attack (GC): RSS ${mib(r.afterRss)}, heap ${mib(r.afterHeap)}\n`)
process.stdout.write(`queues: gossip announcements per peer high-water ${r.gossipQueueHighWater} (bound ${r.gossipQueueBound}); ` +
  `sync request streams in flight high-water ${r.syncHighWater} (bound 64 per connection); sync requests throttled ${r.syncThrottled}\n`)
process.stdout.write(`attackers: ${JSON.stringify(r.kinds)}; dials ${r.flood.dials}, refused ${r.flood.refused}, authenticated ${r.flood.authenticated}, ` +
  `streams ${r.flood.streams}, sync requests ${r.flood.syncRequests}, garbage ${r.flood.garbage}; greylisted entries ${r.greylisted}\n`)
process.stdout.write(`every block reached the observer: ${r.observerLevel === r.bakerLevel ? 'yes' : 'NO'} (level ${r.observerLevel}/${r.bakerLevel})\n`)

process.stdout.write(`goals: RSS ≤ baseline + ${RSS_GOAL_MIB} MiB: ${rssOver <= RSS_GOAL_MIB ? 'met' : 'MISSED'} (+${rssOver.toFixed(1)} MiB); ` +
  `p50 under attack ≤ ${P50_FACTOR_GOAL}× undisturbed: ${factor <= P50_FACTOR_GOAL ? 'met' : 'MISSED'} (${factor.toFixed(2)}×)\n`)

await writeBenchJson(process.argv.slice(2), {
  bench: 'attack',
  command: 'npm run bench:attack',
  params: { connections, heads, bakeIntervalMs, load: Number(loadavg()[0].toFixed(2)) },
  figures: [
    { name: 'bake→arrival p50 under attack', unit: 'ms', value: latency.p50.attacked, reference: { name: 'no attack', value: latency.p50.calm }, ratio: factor, goal: `≤ ${P50_FACTOR_GOAL}× no attack`, met: factor <= P50_FACTOR_GOAL },
    { name: 'bake→arrival p99 under attack', unit: 'ms', value: latency.p99.attacked, reference: { name: 'no attack', value: latency.p99.calm }, ratio: factor99 },
    { name: 'victim RSS over baseline, peak', unit: 'MiB', value: rssOver, goal: `≤ ${RSS_GOAL_MIB} MiB`, met: rssOver <= RSS_GOAL_MIB }
  ]
})
