/**
 * The relays of the gossip benchmark's `--link-emulation proxy`, in a process of their own:
 *
 *   node scripts/bench/gossip/relay-process.ts
 *
 * A process apart from the harness so that no work of the harness (reading the nodes' events)
 * delays a chunk past its due time, and apart from the nodes so that their CPU figures hold none
 * of the relays' copying. One process serves both stacks' runs alike, one set of relays per run.
 *
 * Events (stdout): `ready`, `opened` (the relays' ports, in the order of the targets), `stats`,
 * `closed`, `error`. Commands (stdin): `open` (delayMs, targets: multiaddrs), `stats` (set, and
 * from: the chunk count of an earlier answer, to take the lateness of a window), `close` (set:
 * the number `opened` gave).
 */
import { emit, serveCommands, type Command } from './child-io.ts'
import { newRelayCounters, startRelay, tcpTarget, type Relay, type RelayCounters } from './relay.ts'

const sets = new Map<number, { relays: Relay[], counters: RelayCounters }>()
let nextSet = 1

/** Nearest-rank percentile. */
function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

function set (c: Command): { relays: Relay[], counters: RelayCounters } {
  const s = sets.get(c.set as number)
  if (s === undefined) throw new Error(`no relay set ${String(c.set)}`)
  return s
}

async function command (c: Command): Promise<void> {
  switch (c.cmd) {
    case 'open': {
      const counters = newRelayCounters()
      const relays = await Promise.all((c.targets as string[]).map(async t => await startRelay(tcpTarget(t), c.delayMs as number, counters)))
      const id = nextSet++
      sets.set(id, { relays, counters })
      emit({ event: 'opened', set: id, ports: relays.map(r => r.port) })
      return
    }
    case 'stats': {
      const { counters } = set(c)
      // Lateness of the chunks from the `from`-th on (the chunks count of an earlier answer): a window.
      const late = counters.lateness.slice(typeof c.from === 'number' ? c.from : 0).sort((a, b) => a - b)
      const cpu = process.cpuUsage()
      emit({
        event: 'stats',
        connections: counters.connections,
        bytes: counters.bytes,
        chunks: counters.lateness.length,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        lateness: { p50: percentile(late, 50), p99: percentile(late, 99), max: late.at(-1) ?? 0 }
      })
      return
    }
    case 'close': {
      const s = set(c)
      await Promise.all(s.relays.map(async r => { await r.close() }))
      sets.delete(c.set as number)
      emit({ event: 'closed' })
    }
  }
}

emit({ event: 'ready', address: '', peer: '' })
serveCommands(command, async () => {
  await Promise.all([...sets.values()].flatMap(s => s.relays.map(async r => { await r.close() })))
})
