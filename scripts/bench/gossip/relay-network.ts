/**
 * The gossip benchmark's `--link-emulation proxy` network: every node on 127.0.0.1, and every
 * edge [a, b] through a relay (./relay.ts) that a dials instead of b, delaying each direction by
 * the link delay. Both stacks get the same edges through relays of the same delay, in one relay
 * process (./relay-process.ts) started for the whole benchmark; the relays of a run are opened
 * once its nodes listen and closed with them.
 *
 * Before the nodes start, it measures what a relay adds beyond its delay: round trips of a small
 * message to an echo server here, straight and through a relay, at delay 0 and at the link
 * delay, taken in turn so that the machine's load weighs on both alike.
 *
 * The relay process is raised above the nodes' scheduling when this user may (root): real-time
 * (SCHED_FIFO, `chrt`), else a lower nice value. It stands for the network, which does not wait
 * for a core behind the nodes it connects; on a loaded machine a relay at the nodes' priority
 * holds chunks tens of ms past their due time (and a nice value alone does not stop that: the
 * scheduler still lets a running node finish its slice first).
 */
import { createServer, connect, type Socket } from 'node:net'
import { execFile } from 'node:child_process'
import { setPriority } from 'node:os'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { Cluster, type BenchChild } from './cluster.ts'
import type { BenchNetwork } from './network.ts'
import { throughPort } from './relay.ts'
import type { Edge } from './topology.ts'

/** What a run's relays did. */
export interface RelayStats {
  connections: number
  /** Bytes written on by the relays, both directions of every edge. */
  bytes: number
  /** Chunks written on so far. */
  chunks: number
  /** The relay process's CPU seconds so far (every set of relays it serves). */
  cpuSeconds: number
  /** How long after its due time (arrival + delay) a chunk was written, ms: of the chunks from `from` on. */
  lateness: { p50: number, p99: number, max: number }
}

/** One run's relays, one per edge. */
export interface EdgeRelays {
  /** The address node `from` dials to reach node `to` (through the edge's relay). */
  dialAddress: (from: number, to: number) => string
  /** `from`: an earlier answer's `chunks`, for the lateness of the chunks since. */
  stats: (from?: number) => Promise<RelayStats>
  close: () => Promise<void>
}

/** A relay's own cost: added one-way latency (ms, medians) beyond its delay, from round trips. */
export interface RelayOverhead {
  rounds: { direct: number, delay0: number, delayed: number }
  /** Median round trip straight to the echo server, ms. */
  directRttMs: number
  /** (median round trip through a delay-0 relay − direct) / 2. */
  addedOneWayMs: number
  /** (median round trip through a relay of the link delay − 2 × delay − direct) / 2. */
  addedBeyondDelayOneWayMs: number
}

function median (values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]
}

async function openSocket (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => { s.off('error', reject); resolve(s) })
    s.once('error', reject)
  })
}

/** One round trip of `size` bytes on `s` (an echo), ms. */
async function roundTrip (s: Socket, size: number): Promise<number> {
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    let got = 0
    const onData = (d: Buffer): void => {
      got += d.length
      if (got >= size) { s.off('data', onData); s.off('error', reject); resolve() }
    }
    s.on('data', onData)
    s.once('error', reject)
    s.write(Buffer.alloc(size, 7))
  })
  return performance.now() - t0
}

async function openRelays (relay: BenchChild, delayMs: number, targets: string[]): Promise<{ set: number, ports: number[] }> {
  const opened = await relay.call({ cmd: 'open', delayMs, targets }, 'opened')
  return { set: opened.set as number, ports: opened.ports as number[] }
}

export async function measureRelayOverhead (relay: BenchChild, delayMs: number, rounds = { direct: 200, delay0: 200, delayed: 40 }): Promise<RelayOverhead> {
  const echo = createServer({ noDelay: true }, s => { s.pipe(s) })
  await new Promise<void>(resolve => { echo.listen(0, '127.0.0.1', resolve) })
  const echoPort = (echo.address() as { port: number }).port
  const target = `/ip4/127.0.0.1/tcp/${echoPort}`
  const zero = await openRelays(relay, 0, [target])
  const delayed = await openRelays(relay, delayMs, [target])
  const sockets = await Promise.all([echoPort, zero.ports[0], delayed.ports[0]].map(openSocket))
  try {
    const times: number[][] = [[], [], []]
    const want = [rounds.direct, rounds.delay0, rounds.delayed]
    // In turn, so that a burst of load elsewhere on the machine weighs on all three.
    for (let k = 0; k < Math.max(...want); k++) {
      for (let j = 0; j < 3; j++) if (k < want[j]) times[j].push(await roundTrip(sockets[j], 64))
    }
    const [direct, rtt0, rttD] = times.map(median)
    return { rounds, directRttMs: direct, addedOneWayMs: (rtt0 - direct) / 2, addedBeyondDelayOneWayMs: (rttD - 2 * delayMs - direct) / 2 }
  } finally {
    for (const s of sockets) s.destroy()
    await relay.call({ cmd: 'close', set: zero.set }, 'closed')
    await relay.call({ cmd: 'close', set: delayed.set }, 'closed')
    await new Promise<void>(resolve => { echo.close(() => { resolve() }) })
  }
}

/** The relay process's real-time priority (SCHED_FIFO), or failing that its nice value; the nodes run at nice 0. */
const RELAY_RT_PRIORITY = 10
const RELAY_NICE = -10

/** Raises `pid` above the nodes as far as allowed; says how, for the report. */
async function raisePriority (pid: number): Promise<string> {
  try {
    await promisify(execFile)('chrt', ['-f', '-p', String(RELAY_RT_PRIORITY), String(pid)])
    return `real-time priority (SCHED_FIFO ${RELAY_RT_PRIORITY}), above the nodes`
  } catch (e) {
    const rt = (e as Error).message.split('\n')[0]
    try {
      setPriority(pid, RELAY_NICE)
      return `nice ${RELAY_NICE}, above the nodes (real-time refused: ${rt})`
    } catch (e2) {
      return `the nodes' priority (raising it failed: ${rt}; ${(e2 as Error).message})`
    }
  }
}

/** Every node on 127.0.0.1, every edge through a relay of `delayMs` in a relay process started here. */
export async function proxyNetwork (delayMs: number): Promise<BenchNetwork & { overhead: RelayOverhead, priority: string }> {
  const relays = await Cluster.start('relay', 1, () => [join(import.meta.dirname, 'relay-process.ts')])
  const relay = relays.nodes[0]
  try {
    const priority = await raisePriority(relay.process.pid ?? 0)
    const overhead = await measureRelayOverhead(relay, delayMs)
    return {
      description: `loopback, every edge through a userspace TCP relay (one process) delaying each direction by ${delayMs} ms`,
      address: () => '127.0.0.1',
      command: (_i, program, args) => ({ command: program, args }),
      overhead,
      priority,
      links: async (listen: readonly string[], edges: readonly Edge[]): Promise<EdgeRelays> => {
        // Relay k serves edge k and forwards to the dialled end, edges[k][1].
        const { set, ports } = await openRelays(relay, delayMs, edges.map(([, b]) => listen[b]))
        const byEdge = new Map(edges.map(([a, b], k) => [`${a}-${b}`, k]))
        return {
          dialAddress: (from, to) => {
            const k = byEdge.get(`${from}-${to}`)
            if (k === undefined) throw new Error(`no relay for a dial from node ${from} to node ${to}: not an edge`)
            return throughPort(listen[to], ports[k])
          },
          stats: async (from?: number) => {
            const s = await relay.call({ cmd: 'stats', set, from }, 'stats')
            return {
              connections: s.connections as number,
              bytes: s.bytes as number,
              chunks: s.chunks as number,
              cpuSeconds: s.cpuSeconds as number,
              lateness: s.lateness as RelayStats['lateness']
            }
          },
          close: async () => { await relay.call({ cmd: 'close', set }, 'closed') }
        }
      },
      close: async () => { await relays.stop() }
    }
  } catch (e) {
    await relays.stop()
    throw e
  }
}
