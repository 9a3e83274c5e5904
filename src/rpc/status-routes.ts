import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { b58Encode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { StoredHeader } from '../chain/store.ts'
import type { TzNode } from '../node/create-node.ts'
import { asDemoV3 } from '../protocol/demo-v3/index.ts'
import { chainIdToJson } from '../wire/json.ts'
import { chainAccessOf } from './chain-access.ts'
import type { RpcContext } from './context.ts'
import { BadRequestError, UnavailableError } from './errors.ts'
import type { LatencySampler } from './latency.ts'
import { greylistJson, rfc3339, type GreylistJson } from './network-json.ts'

/** One point of the status page's chart. */
export interface HistorySample {
  /** ms since the epoch. */
  t: number
  connections: number
  /** Head level, null without a chain. */
  level: number | null
}

/**
 * Connections and head level sampled every `intervalMs` (default 1 s), the last `size` samples
 * (default 600: ten minutes), so the status page draws a chart with history as soon as it opens.
 */
export class StatusHistory {
  private readonly node: TzNode
  private readonly intervalMs: number
  private readonly size: number
  private readonly samples: HistorySample[] = []
  private timer: NodeJS.Timeout | undefined

  constructor (node: TzNode, options: { intervalMs?: number, size?: number } = {}) {
    this.node = node
    this.intervalMs = options.intervalMs ?? 1000
    this.size = options.size ?? 600
  }

  start (): void {
    if (this.timer !== undefined) return
    this.sample()
    this.timer = setInterval(() => { this.sample() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Samples taken after `since` (ms), oldest first. */
  after (since: number): HistorySample[] {
    return this.samples.filter(s => s.t > since)
  }

  private sample (): void {
    const chain = chainAccessOf(this.node)?.chain
    this.samples.push({ t: Date.now(), connections: this.node.peers.size, level: chain?.head.header.shell.level ?? null })
    if (this.samples.length > this.size) this.samples.splice(0, this.samples.length - this.size)
  }
}

/** A line of the status page's block list. */
export interface BlockSummary {
  level: number
  hash: string
  timestamp: string
  operations: number
  /** The operations in each validation pass (demo v3: consensus, voting, anonymous, manager). */
  operations_by_pass: number[]
  /** The header's fitness, its elements in hex (as the RPC's headers). */
  fitness: string[]
}

/**
 * Pages of `size` blocks of the current chain for the status page's explorer, newest first, with
 * their operation counts: the latest ones (what every poll shows), or those below a level (paging
 * back). Summaries are cached by hash, so a poll reads the store only for new blocks.
 */
export class RecentBlocks {
  private readonly cache = new Map<string, BlockSummary>()
  readonly size: number

  constructor (size = 12) {
    this.size = size
  }

  /** The page ending at the head, or, with `below`, the page of the blocks under that level. */
  async list (chain: ChainReader, options: { below?: number } = {}): Promise<BlockSummary[]> {
    const out: BlockSummary[] = []
    const below = options.below
    let h: StoredHeader | undefined = below === undefined || below > chain.head.header.shell.level
      ? chain.head
      : below <= 0 ? undefined : await chain.getBlockByLevel(below - 1)
    while (h !== undefined && out.length < this.size) {
      let summary = this.cache.get(h.hex)
      if (summary === undefined) {
        const passes = h.header.shell.level === 0 ? 0 : h.header.shell.validationPass
        const byPass: number[] = []
        for (let pass = 0; pass < passes; pass++) byPass.push((await chain.getOperations(h.hash, pass))?.length ?? 0)
        summary = {
          level: h.header.shell.level,
          hash: b58Encode('blockHash', h.hash),
          timestamp: rfc3339(Number(h.header.shell.timestamp) * 1000),
          operations: byPass.reduce((a, b) => a + b, 0),
          operations_by_pass: byPass,
          fitness: h.header.shell.fitness.map(e => toHex(e))
        }
        this.cache.set(h.hex, summary)
      }
      out.push(summary)
      if (h.header.shell.level === 0) break
      h = await chain.getHeader(h.header.shell.predecessor)
    }
    // Forget what fell out of the window (or off the chain).
    if (this.cache.size > this.size * 4) {
      const keep = new Set(out.map(b => b.hash))
      for (const [hex, b] of this.cache) if (!keep.has(b.hash)) this.cache.delete(hex)
    }
    return out
  }
}

export interface StatusJson {
  now: string
  identity: { peer_id: string, libp2p_peer_id: string, addresses: string[] }
  chain: null | {
    chain_id: string
    protocol: string
    head: { level: number, hash: string, timestamp: string, age_s: number }
    bootstrapped: boolean
    mempool: number | null
    /** Whether the protocol has delegates and rights (demo v3): the page then shows them from the consensus views. */
    consensus: boolean
    /** The latest blocks, newest first. */
    blocks: BlockSummary[]
  }
  peers: Array<{
    /** `libp2p`, or `octez` (Octez's raw-TCP wire). */
    wire: 'libp2p' | 'octez'
    peer_id: string
    /** libp2p wire only. */
    libp2p_peer_id?: string
    direction: 'inbound' | 'outbound'
    address: string
    latency_ms: number | null
    score: number
    trusted: boolean
    since?: string
  }>
  points: { known: number, trusted: number }
  greylist: GreylistJson
  bans: number
  history: HistorySample[]
}

/** What the status page shows, in one JSON it polls. */
export async function statusJson (ctx: RpcContext, history: StatusHistory, latency: LatencySampler, recent: RecentBlocks, since: number): Promise<StatusJson> {
  const { node } = ctx
  const access = chainAccessOf(node)
  const now = Date.now()
  let chain: StatusJson['chain'] = null
  if (access !== undefined) {
    const head = access.chain.head
    const seconds = Number(head.header.shell.timestamp)
    chain = {
      chain_id: chainIdToJson(access.chainId),
      protocol: access.chain.protocol.hash,
      head: {
        level: head.header.shell.level,
        hash: b58Encode('blockHash', head.hash),
        timestamp: rfc3339(seconds * 1000),
        age_s: Math.max(0, Math.round(now / 1000 - seconds))
      },
      bootstrapped: access.bootstrapped(),
      mempool: access.mempool?.size ?? null,
      consensus: asDemoV3(access.chain.protocol) !== undefined,
      blocks: await recent.list(access.chain)
    }
  }
  const points = node.points()
  return {
    now: new Date(now).toISOString(),
    identity: {
      peer_id: node.identity.peerId,
      libp2p_peer_id: node.peerId.toString(),
      addresses: node.getMultiaddrs().map(String)
    },
    chain,
    peers: [...node.peerList().map(({ peer: p, score, trusted }) => ({
      wire: 'libp2p' as const,
      peer_id: p.tezosPeerId,
      libp2p_peer_id: p.libp2pPeerId.toString(),
      direction: p.direction,
      address: p.remoteAddress.toString(),
      latency_ms: latency.latencyOf(p.tezosPeerId),
      score,
      trusted,
      since: rfc3339(p.authenticatedAt)
    })), ...(node.octez?.connected() ?? []).map(p => ({
      wire: 'octez' as const,
      peer_id: p.tezosPeerId,
      direction: p.incoming ? 'inbound' as const : 'outbound' as const,
      address: `${p.remoteIp}:${p.connection.remotePort}`,
      latency_ms: null,
      score: node.scores.score(p.tezosPeerId),
      trusted: node.octez?.isTrusted(p) ?? false
    }))],
    points: { known: points.length, trusted: points.filter(p => p.trusted).length },
    greylist: greylistJson(node.greylist.list()),
    bans: node.banList.size,
    history: history.after(since)
  }
}

/** The page's files, read once: `status-page/` beside this module (copied to `dist/` by the build). */
const asset = (name: string): string => readFileSync(new URL(`./status-page/${name}`, import.meta.url), 'utf8')

/** `/status/blocks?below=<level>`: the explorer's page of blocks under that level (the latest without it). */
function belowLevel (text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d{1,10}$/.test(text)) throw new BadRequestError(`below: expected a block level (a whole number), got ${JSON.stringify(text)}`)
  return Number(text)
}

/** `/` (the status page), its script and style, `/status` (what it polls) and `/status/blocks` (paging back). */
export function registerStatusRoutes (app: FastifyInstance, ctx: RpcContext, history: StatusHistory, latency: LatencySampler): void {
  const page = asset('index.html')
  const script = asset('status.js')
  const consensusScript = asset('consensus.js')
  const explorerScript = asset('explorer.js')
  const style = asset('status.css')
  const recent = new RecentBlocks()
  app.get('/', async (_req, reply) => await reply.type('text/html; charset=utf-8').send(page))
  app.get('/status.js', async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(script))
  app.get('/status-consensus.js', async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(consensusScript))
  app.get('/status-explorer.js', async (_req, reply) => await reply.type('text/javascript; charset=utf-8').send(explorerScript))
  app.get('/status.css', async (_req, reply) => await reply.type('text/css; charset=utf-8').send(style))
  app.get<{ Querystring: { since?: string } }>('/status', async req => {
    const since = req.query.since === undefined ? 0 : Number(req.query.since)
    return await statusJson(ctx, history, latency, recent, Number.isFinite(since) ? since : 0)
  })
  // A cache of its own, so that paging back does not evict the summaries every poll shows.
  const older = new RecentBlocks(recent.size)
  app.get<{ Querystring: { below?: string } }>('/status/blocks', async req => {
    const below = belowLevel(req.query.below)
    const access = chainAccessOf(ctx.node)
    if (access === undefined) throw new UnavailableError('this node runs no chain')
    return { head_level: access.chain.head.header.shell.level, page_size: older.size, blocks: await older.list(access.chain, { below }) }
  })
}
