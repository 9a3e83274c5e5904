import type { FastifyInstance } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import { b58Encode } from '../crypto/index.ts'
import { chainAccessOf } from './chain-access.ts'
import type { RpcContext } from './context.ts'

/**
 * `/metrics` (Prometheus text of the node's registry: libp2p's metrics, tzp2p's, the process's)
 * and `/health`.
 */
export function registerMetricsRoute (app: FastifyInstance, ctx: RpcContext): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.registry.metrics()
    return await reply.type(ctx.registry.contentType).send(text)
  })
}

export interface HealthJson {
  /** `not-ready` only on `/health/ready`, with its 503: the body agrees with the status code. */
  status: 'ok' | 'stopping' | 'not-ready'
  /** Why the node is not ready (`/health/ready` with 503 only). */
  reason?: string
  peer_id: string
  connections: number
  /** Octez's bootstrapped state; null for a node without a chain. */
  bootstrapped: boolean | null
  head: { level: number, hash: string } | null
  uptime_s: number
}

/**
 * `/health`: 200 with a small JSON while the node runs (load balancers and `devnet status` ask it);
 * `/health/ready` (Lodestar and Octez clients ask a readiness question): 200 with the same body once
 * bootstrapped (or without a chain), else 503 with `status: "not-ready"` and the reason.
 */
export function registerHealthRoutes (app: FastifyInstance, ctx: RpcContext): void {
  const started = Date.now()
  const health = (): HealthJson => {
    const { node } = ctx
    const access = chainAccessOf(node)
    const head = access?.chain.head
    return {
      status: 'ok',
      peer_id: node.identity.peerId,
      connections: node.peers.size,
      bootstrapped: access?.bootstrapped() ?? null,
      head: head === undefined ? null : { level: head.header.shell.level, hash: b58Encode('blockHash', head.hash) },
      uptime_s: Math.floor((Date.now() - started) / 1000)
    }
  }
  app.get('/health', () => health())
  app.get('/health/ready', async (_request, reply) => {
    const h = health()
    if (h.bootstrapped !== false) return await reply.code(200).send(h)
    const notReady: HealthJson = {
      ...h,
      status: 'not-ready',
      reason: `not bootstrapped yet (${h.connections} peer${h.connections === 1 ? '' : 's'} connected): ready once ` +
        'enough peers (the synchronisation threshold) show recent heads and the node has caught up with them'
    }
    return await reply.code(503).send(notReady)
  })
}

/** Requests served by the RPC, by route and status code. */
export class RpcMetrics {
  readonly requests: Counter<'route' | 'method' | 'status'>

  private constructor (requests: Counter<'route' | 'method' | 'status'>) {
    this.requests = requests
  }

  /** One counter per registry, shared by every app of the node (prom-client refuses duplicates). */
  static register (registry: Registry): RpcMetrics {
    const name = 'tzp2p_rpc_requests_total'
    const existing = registry.getSingleMetric(name) as Counter<'route' | 'method' | 'status'> | undefined
    return new RpcMetrics(existing ?? new Counter({
      name, help: 'HTTP RPC requests served, by route, method and status code', labelNames: ['route', 'method', 'status'], registers: [registry]
    }))
  }

  instrument (app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, not the URL: peer ids and block hashes would make a series each.
      const route = request.routeOptions.url ?? 'unknown'
      this.requests.inc({ route, method: request.method, status: String(reply.statusCode) })
    })
  }
}
