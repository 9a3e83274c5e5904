/**
 * The two runs of the gossip benchmark, on the same edges and the same blocks: tzp2p nodes, then
 * `@libp2p/gossipsub` nodes carrying the exact bytes (header + operations) of the blocks the tzp2p
 * run baked, published from the same node at the same rate. Both are measured the same way:
 *
 * - latency: for every measured block and every node but the producer, arrival time minus the
 *   producer's time (tzp2p: the block was baked and ready to be announced, i.e. validated or
 *   applied in memory, whichever the node announces at; gossipsub: `publish` was called). tzp2p's arrival is when the block
 *   became the node's head (header and every operation received, validated, applied; its store
 *   write begins right after);
 *   gossipsub's is when the payload was delivered on the topic. tzp2p's `announced` times (the
 *   first Current_head naming the block) are kept too.
 * - with `operationsViaMempool` (the realistic case): each block's transfers are injected, at the
 *   start of its slot, at nodes drawn at random (seeded) among the others, and the block is baked
 *   half an interval later, once the baker's mempool holds them all (tzp2p: mempool gossip;
 *   gossipsub: the same operation bytes published from the same nodes at the same offsets on an
 *   operations topic, then the full block on the blocks topic). The operations' traffic counts in
 *   both stacks' bytes. Without it, the operations travel inside blocks only, each stack's worst
 *   case.
 * - with `consensus` (`--consensus`, see consensus.ts): every node endorses every block on its
 *   arrival (tzp2p: one endorsement operation injected into its mempool, which gossips it; the
 *   producer bakes the next block once its mempool holds every node's endorsement, or at 80 % of
 *   the interval with those it has); the blocks carry those endorsements and no transfers. Gossipsub
 *   carries the same traffic: each node publishes the exact endorsement bytes it made in the tzp2p
 *   run on the operations topic as the block arrives (the producer as it publishes it), and the
 *   blocks, carrying the endorsements in full, on the blocks topic.
 * - bytes: each node's bytes written to TCP between two marks around the measured blocks (after a
 *   settling pause, so the forwarding of the last block is counted), over blocks × nodes. These
 *   are the nodes' own counters: with relays between them (`--link-emulation proxy`) the relays'
 *   copies are not in them; the relays' own count over the same window is reported apart.
 */
import { join } from 'node:path'
import { Cluster, removeScratchDir, scratchDir, type Mark } from './cluster.ts'
import { loopbackNetwork, type BenchNetwork } from './network.ts'
import type { EdgeRelays, RelayStats } from './relay-network.ts'
import type { Edge } from './topology.ts'
import type { Tzp2pNodeConfig } from './tzp2p-node.ts'
import { seededRandom } from '../../../test/helpers/seeded-random.ts'

export interface RunParams {
  nodes: number
  edges: Edge[]
  /** Measured blocks, after `warmup` unmeasured ones. */
  heads: number
  warmup: number
  intervalMs: number
  operations: number
  /** Operations injected at random nodes ahead of their block (see above); seed of the draw. */
  operationsViaMempool?: { seed: number }
  /** Every node endorses every block (see above). */
  consensus?: boolean
  /** Where the nodes run and listen; loopback by default. */
  network?: BenchNetwork
  /** Progress lines. */
  log: (line: string) => void
}

export interface StackResult {
  /** Arrival latencies (ms) of every (measured block, node) pair that arrived. */
  latencies: number[]
  /** tzp2p only: latencies to the first Current_head naming the block. */
  announced?: number[]
  /**
   * tzp2p only: per (block, node), from the first Current_head naming the block to the block
   * becoming the node's head: the part of a hop spent in the receiving node (fetch if any,
   * validation, application, store write).
   */
  heardToHead?: number[]
  /**
   * tzp2p only: latencies to the block being validated at the node (header and every operation in
   * hand and checked; the moment it forwards the block and could hand it to an embedder), before
   * its application and store write. The nearest point to gossipsub's delivery, which checks a
   * message's signature and hands it over.
   */
  validated?: number[]
  /**
   * tzp2p only: per (block, node) but the producer, the stages from validated to head (ms):
   * `validated→applied` (the rest of the application), `applied→written` (the store write),
   * `written→head` (what follows the write up to the 'head' event).
   */
  stages?: Record<string, number[]>
  /** (block, node) pairs that never arrived before the deadline. */
  missing: number
  bytesPerHeadPerNode: number
  /** Bytes per head per node written on each protocol's streams (payload before Noise/muxer framing). */
  byProtocol: Record<string, number>
  /** The nodes' own counters (tzp2p: messages, requests) per block per node. */
  counters: Record<string, number>
  /** CPU seconds of all nodes per measured block. */
  cpuSecondsPerHead: number
  /** Whether every node was still connected to exactly its neighbours at the end. */
  topologyHeld: boolean
  /** Mean payload size (header + operations) of the measured blocks. */
  payloadBytes: number
  /** With consensus: endorsements per measured block (mean), of the nodes' count. */
  endorsementsPerBlock?: number
  /** With relays on the edges: what they carried, their CPU and how late chunks left, between the marks. */
  relay?: { bytesPerHeadPerNode: number, connections: number, cpuSecondsPerHead: number, lateness: RelayStats['lateness'] }
}

export interface Block {
  key: string
  payload: string
  /** With operations via mempool: which node injected which operations (hex), at the start of the block's slot. */
  injected?: Array<{ node: number, operations: string[] }>
}

/** Time from a block's slot start (operations injected) to its bake or publication. */
const leadMs = (p: RunParams): number => Math.floor(p.intervalMs / 2)

async function untilTime (t: number): Promise<void> {
  const wait = t - Date.now()
  if (wait > 0) await delay(wait)
}

/**
 * `--operations-via-mempool`, tzp2p: per slot, the transfers are signed and injected at random
 * nodes (never the producer), then the producer bakes once its mempool holds them.
 */
class MempoolProducer {
  private readonly p: RunParams
  private readonly cluster: Cluster
  private readonly random: () => number
  private readonly counters = new Map<number, bigint>()
  private blocks = 0

  constructor (p: RunParams, cluster: Cluster, seed: number) {
    this.p = p
    this.cluster = cluster
    this.random = seededRandom(seed)
  }

  async produce (count: number): Promise<Block[]> {
    const p = this.p
    const accounts = Math.max(32, p.operations)
    const out: Block[] = []
    const start = Date.now()
    for (let i = 0; i < count; i++, this.blocks++) {
      await untilTime(start + i * p.intervalMs)
      const byNode = new Map<number, Array<{ from: number, to: number, counter: string }>>()
      for (let k = 0; k < p.operations; k++) {
        const from = (this.blocks * p.operations + k) % accounts
        const counter = (this.counters.get(from) ?? 0n) + 1n
        this.counters.set(from, counter)
        const node = 1 + Math.floor(this.random() * (p.nodes - 1))
        const list = byNode.get(node) ?? []
        list.push({ from, to: (from + 1) % accounts, counter: counter.toString() })
        byNode.set(node, list)
      }
      const injected = await Promise.all([...byNode].map(async ([node, transfers]) =>
        ({ node, operations: (await this.cluster.nodes[node].call({ cmd: 'inject', transfers }, 'injected')).operations as string[] })))
      await untilTime(start + i * p.intervalMs + leadMs(p))
      const baked = await this.cluster.nodes[PRODUCER].call({ cmd: 'bake', operations: p.operations, deadlineMs: 30_000 }, 'baked', 60_000)
      out.push({ ...(baked.block as Block), injected })
    }
    return out
  }
}

/** The gossipsub replay of `MempoolProducer`'s schedule: the same operation bytes from the same nodes, then the block. */
async function publishViaMempool (p: RunParams, cluster: Cluster, blocks: Block[]): Promise<Array<{ key: string, t: number }>> {
  const out: Array<{ key: string, t: number }> = []
  const start = Date.now()
  for (let i = 0; i < blocks.length; i++) {
    await untilTime(start + i * p.intervalMs)
    await Promise.all((blocks[i].injected ?? []).map(async ({ node, operations }) =>
      await cluster.nodes[node].call({ cmd: 'publish-operations', operations }, 'published-operations')))
    await untilTime(start + i * p.intervalMs + leadMs(p))
    const published = await cluster.nodes[PRODUCER].call({ cmd: 'publish', payloads: [blocks[i].payload], intervalMs: 0 }, 'published')
    out.push(...published.heads as Array<{ key: string, t: number }>)
  }
  return out
}

const PRODUCER = 0

/** `--consensus`, tzp2p: block i at start + i × interval, baked once every node's endorsement of the head is in the producer's mempool. */
async function produceWithEndorsements (p: RunParams, cluster: Cluster, count: number): Promise<Block[]> {
  const out: Block[] = []
  const start = Date.now()
  for (let i = 0; i < count; i++) {
    await untilTime(start + i * p.intervalMs)
    const baked = await cluster.nodes[PRODUCER].call({ cmd: 'bake', operations: p.nodes, deadlineMs: Math.floor(p.intervalMs * 0.8) }, 'baked', 60_000)
    out.push(baked.block as Block)
  }
  return out
}

/** Each node's endorsements of the tzp2p run, by block (hex → hex), to replay on gossipsub. */
async function collectEndorsements (cluster: Cluster): Promise<Array<Record<string, string>>> {
  return await Promise.all(cluster.nodes.map(async n => (await n.call({ cmd: 'endorsements' }, 'endorsements')).byBlock as Record<string, string>))
}
const DIR = import.meta.dirname

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** How long to wait for a batch of blocks to reach everyone before counting the rest as missing. */
function arrivalDeadline (p: RunParams, count: number): number {
  return 60_000 + count * p.intervalMs
}

/** Forwarding of the last block, and gossip about it, is still going on when it arrives everywhere. */
function settleMs (p: RunParams): number {
  return Math.max(1000, 2 * p.intervalMs)
}

/** A run's relays (when the network has them), opened on its nodes' listen addresses and used for every dial. */
async function openLinks (network: BenchNetwork, cluster: Cluster, edges: Edge[]): Promise<EdgeRelays | undefined> {
  const relays = await network.links?.(cluster.nodes.map(n => n.address), edges)
  if (relays !== undefined) cluster.dialAddress = relays.dialAddress
  return relays
}

function relayFigures (p: RunParams, before: RelayStats | undefined, after: RelayStats | undefined): StackResult['relay'] {
  if (before === undefined || after === undefined) return undefined
  return {
    bytesPerHeadPerNode: (after.bytes - before.bytes) / (p.heads * p.nodes),
    connections: after.connections,
    cpuSecondsPerHead: (after.cpuSeconds - before.cpuSeconds) / p.heads,
    lateness: after.lateness
  }
}

function summarize (p: RunParams, cluster: Cluster, keys: string[], origin: Map<string, number>, before: Mark, after: Mark, payloadBytes: number, topologyHeld: boolean): StackResult {
  const latencies: number[] = []
  const announced: number[] = []
  const heardToHead: number[] = []
  const validated: number[] = []
  const stages: Record<string, number[]> = { 'validated→applied': [], 'applied→written': [], 'written→head': [] }
  let missing = 0
  for (let i = 0; i < cluster.nodes.length; i++) {
    if (i === PRODUCER) continue
    const heads = cluster.nodes[i].arrivals.get('head')
    const firstHeard = cluster.nodes[i].arrivals.get('announced')
    const ready = cluster.nodes[i].arrivals.get('ready')
    const applied = cluster.nodes[i].arrivals.get('applied')
    const written = cluster.nodes[i].arrivals.get('written')
    for (const key of keys) {
      const t0 = origin.get(key) as number
      const t = heads?.get(key)
      if (t === undefined) missing++
      else latencies.push(t - t0)
      const a = firstHeard?.get(key)
      if (a !== undefined) announced.push(a - t0)
      if (a !== undefined && t !== undefined) heardToHead.push(t - a)
      const v = ready?.get(key)
      if (v !== undefined) validated.push(v - t0)
      const ap = applied?.get(key)
      const w = written?.get(key)
      if (v !== undefined && ap !== undefined) stages['validated→applied'].push(ap - v)
      if (ap !== undefined && w !== undefined) stages['applied→written'].push(w - ap)
      if (w !== undefined && t !== undefined) stages['written→head'].push(t - w)
    }
  }
  const perHeadNode = p.heads * p.nodes
  const sent = after.sent.reduce((n, s, i) => n + s - before.sent[i], 0)
  const perBlockAndNode = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(a)) {
      const delta = v - (b[k] ?? 0)
      if (delta > 0) out[k] = delta / perHeadNode
    }
    return out
  }
  return {
    latencies,
    ...(announced.length > 0 ? { announced, heardToHead } : {}),
    ...(validated.length > 0 ? { validated } : {}),
    ...(stages['written→head'].length > 0 ? { stages } : {}),
    missing,
    bytesPerHeadPerNode: sent / perHeadNode,
    byProtocol: perBlockAndNode(after.byProtocol, before.byProtocol),
    counters: perBlockAndNode(after.counters, before.counters),
    cpuSecondsPerHead: (after.cpuSeconds - before.cpuSeconds) / p.heads,
    topologyHeld,
    payloadBytes
  }
}

function redialLog (p: RunParams, stack: string): (edge: Edge) => void {
  return ([a, b]) => { p.log(`${stack}: edge ${a}–${b} lost before the measurement, dialled again`) }
}

export async function runTzp2p (p: RunParams): Promise<{ result: StackResult, warmup: Block[], measured: Block[], endorsements?: Array<Record<string, string>> }> {
  const network = p.network ?? loopbackNetwork
  const dirs = await Promise.all(Array.from({ length: p.nodes }, async () => await scratchDir('tzp2p-bench-gossip-')))
  let cluster: Cluster | undefined
  let relays: EdgeRelays | undefined
  try {
    const config = (i: number): Tzp2pNodeConfig => ({
      dataDir: dirs[i],
      chain: 'gossip-bench',
      accounts: Math.max(32, p.operations),
      baker: i === PRODUCER,
      listen: `/ip4/${network.address(i)}/tcp/0`,
      maxClockDrift: Math.ceil((p.heads + p.warmup) * p.intervalMs / 1000) + 60,
      operationsViaMempool: p.operationsViaMempool !== undefined,
      ...(p.consensus === true ? { consensus: { index: i, nodes: p.nodes } } : {})
    })
    p.log(`tzp2p: starting ${p.nodes} node processes`)
    cluster = await Cluster.start('tzp2p', p.nodes, i => [join(DIR, 'tzp2p-node.ts'), JSON.stringify(config(i))], network.command)
    relays = await openLinks(network, cluster, p.edges)
    await cluster.connect(p.edges)
    await cluster.waitTopology(p.edges, 60_000, undefined, redialLog(p, 'tzp2p'))
    const producer = cluster.nodes[PRODUCER]
    const viaMempool = p.operationsViaMempool === undefined ? undefined : new MempoolProducer(p, cluster, p.operationsViaMempool.seed)
    const produce = async (count: number): Promise<Block[]> => p.consensus === true
      ? await produceWithEndorsements(p, cluster!, count)
      : viaMempool !== undefined
      ? await viaMempool.produce(count)
      : (await producer.call({ cmd: 'produce', count, intervalMs: p.intervalMs, operations: p.operations }, 'produced', arrivalDeadline(p, count))).heads as Block[]

    p.log(`tzp2p: ${p.warmup} warm-up blocks`)
    const warmup = await produce(p.warmup)
    await cluster.waitArrivals(warmup.map(b => b.key), PRODUCER, arrivalDeadline(p, p.warmup))
    await delay(settleMs(p))
    const before = await cluster.mark()
    const relayBefore = await relays?.stats()
    p.log(`tzp2p: ${p.heads} blocks, one every ${p.intervalMs} ms`)
    const measured = await produce(p.heads)
    const keys = measured.map(b => b.key)
    await cluster.waitArrivals(keys, PRODUCER, arrivalDeadline(p, p.heads))
    await delay(settleMs(p))
    const after = await cluster.mark()
    const relay = relayFigures(p, relayBefore, await relays?.stats(relayBefore?.chunks))
    const topologyHeld = await cluster.topologyMismatch(p.edges) === undefined
    const origin = producer.arrivals.get('ready') ?? producer.arrivals.get('head') ?? new Map<string, number>()
    const payloadBytes = measured.reduce((n, b) => n + b.payload.length / 2, 0) / measured.length
    const result = summarize(p, cluster, keys, origin, before, after, payloadBytes, topologyHeld)
    if (p.consensus !== true) return { result: relay === undefined ? result : { ...result, relay }, warmup, measured }
    const endorsements = await collectEndorsements(cluster)
    const keySet = new Set(keys)
    const made = endorsements.reduce((n, byBlock) => n + Object.keys(byBlock).filter(k => keySet.has(k)).length, 0)
    return { result: { ...result, endorsementsPerBlock: made / keys.length, ...(relay === undefined ? {} : { relay }) }, warmup, measured, endorsements }
  } finally {
    await cluster?.stop()
    await relays?.close()
    await Promise.all(dirs.map(async d => { await removeScratchDir(d) }))
  }
}

/** Gossipsub's mesh target is 6 with a floor of 4: a node with fewer neighbours meshes with all of them. */
const GOSSIPSUB_MESH_LOW = 4

export async function runGossipsub (p: RunParams, warmup: Block[], measured: Block[], endorsements?: Array<Record<string, string>>): Promise<StackResult> {
  const network = p.network ?? loopbackNetwork
  let cluster: Cluster | undefined
  let relays: EdgeRelays | undefined
  try {
    p.log(`gossipsub: starting ${p.nodes} node processes`)
    cluster = await Cluster.start('gossipsub', p.nodes, i => [join(DIR, 'gossipsub-node.ts'), `/ip4/${network.address(i)}/tcp/0`, ...(p.operationsViaMempool === undefined && endorsements === undefined ? [] : ['operations'])], network.command)
    if (endorsements !== undefined) await Promise.all(cluster.nodes.map(async (n, i) => await n.call({ cmd: 'endorse', byBlock: endorsements[i] }, 'endorsing')))
    relays = await openLinks(network, cluster, p.edges)
    await cluster.connect(p.edges)
    // Subscriptions exchanged with every neighbour and the mesh grafted (heartbeats, 1 s apart).
    await cluster.waitTopology(p.edges, 60_000, (a, degree) =>
      (a.subscribers as number) === degree && (a.mesh as number) >= Math.min(degree, GOSSIPSUB_MESH_LOW), redialLog(p, 'gossipsub'))
    const producer = cluster.nodes[PRODUCER]
    const publish = async (blocks: Block[]): Promise<Array<{ key: string, t: number }>> => p.operationsViaMempool !== undefined
      ? await publishViaMempool(p, cluster!, blocks)
      : (await producer.call({ cmd: 'publish', payloads: blocks.map(b => b.payload), intervalMs: p.intervalMs }, 'published', arrivalDeadline(p, blocks.length))).heads as Array<{ key: string, t: number }>

    p.log(`gossipsub: ${warmup.length} warm-up blocks`)
    await publish(warmup)
    await cluster.waitArrivals(warmup.map(b => b.key), PRODUCER, arrivalDeadline(p, warmup.length))
    await delay(settleMs(p))
    const before = await cluster.mark()
    const relayBefore = await relays?.stats()
    p.log(`gossipsub: the same ${measured.length} blocks, one every ${p.intervalMs} ms`)
    const published = await publish(measured)
    const keys = measured.map(b => b.key)
    await cluster.waitArrivals(keys, PRODUCER, arrivalDeadline(p, measured.length))
    await delay(settleMs(p))
    const after = await cluster.mark()
    const relay = relayFigures(p, relayBefore, await relays?.stats(relayBefore?.chunks))
    const topologyHeld = await cluster.topologyMismatch(p.edges) === undefined
    const origin = new Map(published.map(x => [x.key, x.t]))
    const payloadBytes = measured.reduce((n, b) => n + b.payload.length / 2, 0) / measured.length
    const result = summarize(p, cluster, keys, origin, before, after, payloadBytes, topologyHeld)
    return relay === undefined ? result : { ...result, relay }
  } finally {
    await cluster?.stop()
    await relays?.close()
  }
}
