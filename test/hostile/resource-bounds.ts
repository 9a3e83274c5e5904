/**
 * Resource bounds under attack, measured on real processes: a victim node (its own process, so its
 * memory is its own), an honest baker and an honest observer connected only through the victim,
 * and a flood of attacking connections (`flood.ts`) from the measuring process.
 *
 * Two phases of the same length: `heads` blocks baked with no attack, then `heads` more while the
 * flood runs. For each block: the time from its bake on the baker to its arrival at the observer
 * (it must cross the victim). Throughout: the victim's RSS and heap, connections, streams per
 * connection, and its bounded queues (gossip announcements per peer, sync request streams).
 */
import { demoSetup } from '../helpers/demo-chain.ts'
import { resolveGenesis } from '../../src/chain/genesis.ts'
import { ChildNode, type ChildEvent } from '../e2e/chain-harness.ts'
import { TEST_CHAIN } from '../helpers/node.ts'
import { startFlood, type Flood, type FloodCounts } from './flood.ts'
import { waitFor } from '../helpers/wait.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

export interface PhaseReport {
  /** Bake → arrival at the observer, ms, one per block of the phase. */
  latencies: number[]
  rssPeak: number
  heapPeak: number
  connectionsPeak: number
  streamsPerConnectionPeak: number
  samples: number
}

export interface ResourceReport {
  baselineRss: number
  baselineHeap: number
  baseline: PhaseReport
  attack: PhaseReport
  /** After the flood stopped and a GC. */
  afterRss: number
  afterHeap: number
  gossipQueueHighWater: number
  gossipQueueBound: number
  syncHighWater: number
  syncThrottled: number
  greylisted: number
  flood: FloodCounts
  kinds: Record<string, number>
  /** The observer's head at the end equals the baker's: nothing was lost. */
  observerLevel: number
  bakerLevel: number
}

const CHAIN = 'bounds'

export async function measureUnderAttack (options: { heads: number, connections: number, bakeIntervalMs?: number, log?: (line: string) => void }): Promise<ResourceReport> {
  const log = options.log ?? (() => {})
  const dirs = await Promise.all(['victim', 'baker', 'observer'].map(async n => await tempDir(`bounds-${n}`)))
  const base = { chain: CHAIN, accounts: 2, validationPasses: 1, networkName: TEST_CHAIN, maxClockDrift: 3600 }
  const nodes: ChildNode[] = []
  let flood: Flood | undefined
  try {
    const victim = await ChildNode.start('victim', { ...base, dataDir: dirs[0], ip: '127.0.2.1' })
    nodes.push(victim)
    const baker = await ChildNode.start('baker', { ...base, dataDir: dirs[1], ip: '127.0.1.200', baker: true, bakeIntervalMs: options.bakeIntervalMs ?? 500 })
    nodes.push(baker)
    const observer = await ChildNode.start('observer', { ...base, dataDir: dirs[2], ip: '127.0.1.201' })
    nodes.push(observer)
    const victimAddress = victim.address
    await baker.call({ cmd: 'dial', address: victimAddress }, 'dialled')
    await observer.call({ cmd: 'dial', address: victimAddress }, 'dialled')

    const stats = async (gc = false): Promise<ChildEvent> => await victim.call({ cmd: 'stats', gc }, 'stats')
    // Warm up: a few blocks through the whole path before measuring.
    const warm = (await baker.waitFor(e => e.event === 'head')).level as number
    await observer.waitFor(e => e.event === 'head' && (e.level as number) >= warm + 3)
    const first = await stats(true)
    const baselineRss = first.rss as number
    const baselineHeap = first.heapUsed as number
    log(`baseline: victim RSS ${mib(baselineRss)}, heap ${mib(baselineHeap)}`)

    const phase = async (name: string): Promise<PhaseReport> => {
      const report: PhaseReport = { latencies: [], rssPeak: 0, heapPeak: 0, connectionsPeak: 0, streamsPerConnectionPeak: 0, samples: 0 }
      let sampling = true
      const sampler = (async () => {
        while (sampling) {
          const s = await stats().catch(() => undefined)
          if (s !== undefined) {
            report.samples++
            report.rssPeak = Math.max(report.rssPeak, s.rss as number)
            report.heapPeak = Math.max(report.heapPeak, s.heapUsed as number)
            report.connectionsPeak = Math.max(report.connectionsPeak, s.connections as number)
            report.streamsPerConnectionPeak = Math.max(report.streamsPerConnectionPeak, s.maxStreamsPerConnection as number)
          }
          await new Promise(resolve => setTimeout(resolve, 250))
        }
      })()
      const startIndex = baker.events.length
      const startLevel = Math.max(...baker.events.filter(e => e.event === 'head').map(e => e.level as number))
      for (let level = startLevel + 1; level <= startLevel + options.heads; level++) {
        const baked = await baker.waitFor(e => e.event === 'head' && e.level === level, 120_000, startIndex)
        const arrived = await observer.waitFor(e => e.event === 'head' && (e.level as number) >= level, 120_000)
        // A later head may carry this one (the observer then never had it as its head alone).
        report.latencies.push(Math.max(0, (arrived.at as number) - (baked.at as number)))
      }
      sampling = false
      await sampler
      log(`${name}: ${report.latencies.length} blocks, bake→arrival p50 ${percentile(report.latencies, 50).toFixed(1)} ms, p99 ${percentile(report.latencies, 99).toFixed(1)} ms; ` +
        `victim RSS peak ${mib(report.rssPeak)}, heap peak ${mib(report.heapPeak)}, connections peak ${report.connectionsPeak}`)
      return report
    }

    const baseline = await phase('no attack')
    const chainId = resolveGenesis(demoSetup({ name: CHAIN, accounts: 2, validationPasses: 1, verifyWorkers: 0 }).genesis).chainId
    flood = startFlood({ victim: victimAddress, chainName: TEST_CHAIN, chainId, connections: options.connections })
    log(`flood: ${options.connections} attacking connections (${Object.entries(flood.kinds).map(([k, n]) => `${n} ${k}`).join(', ')})`)
    // Measure only once every kind of attack is under way: connections refused, pre-authentication
    // streams opened, authenticated sync floods sending, garbage sent and its sender greylisted. On a
    // busy machine that can take far longer than the attack phase itself.
    const f = flood
    let seen: ChildEvent | undefined
    const floodStart = performance.now()
    await waitFor(async () => {
      seen = await stats()
      return f.counts.refused > 0 && f.counts.streams > 0 && f.counts.authenticated > 0 && f.counts.syncRequests > 0 &&
        f.counts.garbage > 0 && (seen.greylisted as number) > 0
    }, {
      what: () => `every attack under way (flood ${JSON.stringify(f.counts)}, victim greylist ${String(seen?.greylisted)})`,
      timeoutMs: 180_000,
      intervalMs: 250
    })
    log(`every attack under way after ${((performance.now() - floodStart) / 1000).toFixed(1)} s: ${JSON.stringify(f.counts)}, victim greylist ${String(seen?.greylisted)}`)
    const attack = await phase('under attack')
    const counts = { ...flood.counts }
    const kinds = { ...flood.kinds }
    await flood.stop()
    flood = undefined
    const last = await stats(true)
    const bakerLevel = Math.max(...baker.events.filter(e => e.event === 'head').map(e => e.level as number))
    await observer.waitFor(e => e.event === 'head' && (e.level as number) >= bakerLevel, 60_000)
    const observerLevel = Math.max(...observer.events.filter(e => e.event === 'head').map(e => e.level as number))
    return {
      baselineRss,
      baselineHeap,
      baseline,
      attack,
      afterRss: last.rss as number,
      afterHeap: last.heapUsed as number,
      gossipQueueHighWater: last.gossipQueueHighWater as number,
      gossipQueueBound: last.gossipQueueBound as number,
      syncHighWater: last.syncHighWater as number,
      syncThrottled: last.syncThrottled as number,
      greylisted: last.greylisted as number,
      flood: counts,
      kinds,
      observerLevel,
      bakerLevel
    }
  } finally {
    await flood?.stop()
    await Promise.all(nodes.map(async n => { await n.stop().catch(() => { n.kill() }) }))
    await Promise.all(dirs.map(async d => { await removeDir(d) }))
  }
}

export function percentile (xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export function mib (bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`
}
