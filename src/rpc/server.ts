import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { Registry } from 'prom-client'
import type { TzNode } from '../node/create-node.ts'
import type { RpcContext } from './context.ts'
import { RpcError, type RpcErrorBody } from './errors.ts'
import { LatencySampler } from './latency.ts'
import { registerNetworkRoutes } from './network-routes.ts'
import { registerChainRoutes } from './chain-routes.ts'
import { registerProtocolRoutes } from './protocol-routes.ts'
import { registerContextRoutes } from './context-routes.ts'
import { registerConsensusRoutes } from './consensus-routes.ts'
import { registerMonitorRoutes } from './monitor-routes.ts'
import { registerHealthRoutes, registerMetricsRoute, RpcMetrics } from './metrics-routes.ts'
import { registerStatusRoutes, StatusHistory } from './status-routes.ts'
import { applyCors, type CorsOptions } from './cors.ts'
import { registerChainMetrics } from './chain-metrics.ts'
import { applyAcl } from './acl.ts'
import { describePolicy, policyForListener, resolveAclEntries, type ResolveName, type RpcAclEntry } from './acl-policy.ts'

/** Where an RPC server listens; `port` 0 lets the system pick one. */
export interface ListenAddress {
  host: string
  port: number
}

export interface RpcServerOptions {
  node: TzNode
  /** Addresses to serve the full RPC and the status page on (default 127.0.0.1:8732). */
  listen?: ListenAddress[]
  /** Addresses serving only `/metrics`. */
  metricsListen?: ListenAddress[]
  /** Registry `/metrics` serves; default the node's (`node.metricsRegistry`), else a new one. */
  registry?: Registry
  logger?: Logger
  /** What the node announces in handshakes (Octez `local_metadata`); default both false. */
  local?: { disableMempool: boolean, privateNode: boolean }
  cors?: CorsOptions
  /**
   * Octez's `rpc.acl`: the access policy of each listen address (first matching entry wins);
   * a listener without one allows everything on loopback and only public reads and injection
   * elsewhere. `/metrics`-only listeners have no policy (as Octez's metrics server).
   */
  acl?: readonly RpcAclEntry[]
  /** How `acl` host names become IPs (default: the system's resolver). */
  resolveName?: ResolveName
  /** Period of the latency pings, ms (default 10 s). */
  latencyIntervalMs?: number
  /** Period of the status page's history samples, ms (default 1 s). */
  historyIntervalMs?: number
}

export const DEFAULT_RPC_LISTEN: ListenAddress = { host: '127.0.0.1', port: 8732 }

/** A running RPC: one fastify app per listen address, sharing the node's helpers. */
export interface RpcServer {
  /** `http://host:port` of each RPC listener, in the order given. */
  readonly urls: string[]
  readonly metricsUrls: string[]
  /** The first RPC app (for `inject()` in tests and embedders). */
  readonly app: FastifyInstance | undefined
  close: () => Promise<void>
}

function boundAddress (app: FastifyInstance): { address: string, family: string, port: number } {
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the RPC server is not listening on TCP')
  return address
}

function urlOf (app: FastifyInstance): string {
  const address = boundAddress(app)
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

function baseApp (logger: Logger): FastifyInstance {
  // Typed as Fastify's logger so the instance is the plain FastifyInstance, not one generic in pino's.
  const loggerInstance: FastifyBaseLogger = logger.child({ module: 'rpc' })
  const app = Fastify({
    loggerInstance,
    // One line per request would drown the node's own logs (the status page polls every second).
    logController: new LogController({ disableRequestLogging: true }),
    // Streams (`/monitor/heads`) and keep-alive sockets must not hold a shutdown.
    forceCloseConnections: true,
    return503OnClosing: true,
    // An injected operation is a few kilobytes; a config-sized limit keeps bodies cheap to refuse.
    bodyLimit: 1 << 20
  })
  app.setErrorHandler((error: FastifyError | RpcError, request, reply) => {
    const status = error instanceof RpcError
      ? error.statusCode
      : typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status >= 500) request.log.error({ err: error.message, url: request.url }, 'RPC failed')
    const body: RpcErrorBody = { error: status >= 500 && !(error instanceof RpcError) ? `internal error: ${error.message}` : error.message }
    void reply.code(status).type('application/json').send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    const body: RpcErrorBody = { error: `no such RPC: ${request.method} ${request.url.split('?')[0]} (GET / shows the status page; see the README for the RPC list)` }
    void reply.code(404).send(body)
  })
  return app
}

/**
 * Starts the node's HTTP RPC (JSON, Octez-like paths), the status page at `/`, `/metrics` and
 * `/health`. Listens on loopback unless told otherwise. The RPC has no authentication and can ban
 * peers and inject operations: on any other address, each listener applies its access policy
 * (`acl`, else Octez's secure default).
 */
export async function startRpcServer (options: RpcServerOptions): Promise<RpcServer> {
  const { node } = options
  const logger = options.logger ?? node.logger ?? pino({ level: 'silent' })
  const registry = options.registry ?? node.metricsRegistry ?? new Registry()
  const latency = new LatencySampler(node, { intervalMs: options.latencyIntervalMs, logger })
  const history = new StatusHistory(node, { intervalMs: options.historyIntervalMs })
  const metrics = RpcMetrics.register(registry)
  registerChainMetrics(registry, node)
  const closers: Array<() => void> = []
  const ctx: RpcContext = {
    node,
    latency,
    registry,
    logger,
    local: options.local ?? { disableMempool: false, privateNode: false },
    onClose: fn => { closers.push(fn) }
  }
  const apps: FastifyInstance[] = []
  const metricsApps: FastifyInstance[] = []
  try {
    const acl = await resolveAclEntries(options.acl ?? [], options.resolveName)
    for (const address of options.listen ?? [DEFAULT_RPC_LISTEN]) {
      const app = baseApp(logger)
      if (options.cors !== undefined) applyCors(app, options.cors)
      // After CORS, so that a refusal reaches a browser page that may call the RPC.
      const gate = applyAcl(app)
      metrics.instrument(app)
      registerNetworkRoutes(app, ctx)
      registerChainRoutes(app, ctx)
      registerProtocolRoutes(app, ctx)
      registerContextRoutes(app, ctx)
      registerConsensusRoutes(app, ctx)
      registerMonitorRoutes(app, ctx)
      registerMetricsRoute(app, ctx)
      registerHealthRoutes(app, ctx)
      registerStatusRoutes(app, ctx, history, latency)
      apps.push(app)
      await app.listen({ host: address.host, port: address.port })
      // The policy depends on the bound address (a name resolved, port 0 chosen), as Octez matches it.
      const bound = boundAddress(app)
      gate.set(policyForListener(acl, bound.address, bound.port))
      logger.info({ module: 'rpc', listener: gate.current.listener }, `RPC on ${gate.current.listener} serves ${describePolicy(gate.current)}`)
    }
    for (const address of options.metricsListen ?? []) {
      const app = baseApp(logger)
      registerMetricsRoute(app, ctx)
      metricsApps.push(app)
      await app.listen({ host: address.host, port: address.port })
    }
  } catch (e) {
    await Promise.all([...apps, ...metricsApps].map(async a => { await a.close() }))
    throw new RpcListenError(e as Error)
  }
  latency.start()
  history.start()
  let closed: Promise<void> | undefined
  return {
    urls: apps.map(urlOf),
    metricsUrls: metricsApps.map(urlOf),
    app: apps[0],
    close: async () => {
      closed ??= (async () => {
        for (const fn of closers) fn()
        history.stop()
        await latency.stop()
        await Promise.all([...apps, ...metricsApps].map(async a => { await a.close() }))
      })()
      await closed
    }
  }
}

/** The RPC could not listen (address in use, not an address of this machine, …). */
export class RpcListenError extends Error {
  override readonly name = 'RpcListenError'
  constructor (cause: Error) {
    const hint = (cause as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? ' (another program, or another node, uses it: pick another port with --rpc-addr or rpc.listen-addrs)'
      : (cause as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL' ? ' (not an address of this machine: check --rpc-addr or rpc.listen-addrs)' : ''
    super(`the RPC server cannot listen: ${cause.message}${hint}`, { cause })
  }
}
