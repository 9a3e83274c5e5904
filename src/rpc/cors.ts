import type { FastifyInstance } from 'fastify'

export interface CorsOptions {
  /** Allowed origins (`*` for any); empty: CORS disabled. */
  origins: string[]
  /** Request headers allowed besides the simple ones. */
  headers: string[]
}

/**
 * Octez's `cors-origin`/`cors-headers`: a browser page served elsewhere may call the RPC when its
 * origin is listed. Preflight requests are answered here, before routing.
 */
export function applyCors (app: FastifyInstance, options: CorsOptions): void {
  if (options.origins.length === 0) return
  const any = options.origins.includes('*')
  const allowed = new Set(options.origins)
  const headers = ['Content-Type', ...options.headers].join(', ')
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin
    if (origin === undefined || (!any && !allowed.has(origin))) return
    void reply.header('Access-Control-Allow-Origin', any ? '*' : origin)
    if (!any) void reply.header('Vary', 'Origin')
    if (request.method === 'OPTIONS') {
      void reply.header('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE')
        .header('Access-Control-Allow-Headers', headers)
        .header('Access-Control-Max-Age', '600')
      await reply.code(204).send()
    }
  })
}
