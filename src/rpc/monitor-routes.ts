import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { chainIdToJson } from '../wire/json.ts'
import type { HeadChange } from '../chain/chain-reader.ts'
import { monitorHeadJson } from './block-json.ts'
import { chainAccessOf } from './chain-access.ts'
import type { RpcContext } from './context.ts'
import { NotFoundError, UnavailableError } from './errors.ts'

/** Lines a slow client may have queued before it is cut off (each a few hundred bytes). */
const MAX_QUEUED_BYTES = 4 << 20

/**
 * `/monitor/heads` (and Octez's `/monitor/heads/<chain>`): one JSON header per line, the current
 * head first, then each new head as it is committed, until the client closes. A client that does
 * not read is disconnected rather than buffered without bound.
 */
export function registerMonitorRoutes (app: FastifyInstance, ctx: RpcContext): void {
  const streams = new Set<PassThrough>()
  ctx.onClose(() => { for (const s of streams) s.end() })

  const monitor = async (chainName: string, reply: FastifyReply): Promise<unknown> => {
    const access = chainAccessOf(ctx.node)
    if (access === undefined) throw new UnavailableError('this node runs no chain (embedded without a protocol)')
    const id = chainIdToJson(access.chain.genesis.chainId)
    if (chainName !== 'main' && chainName !== id) throw new NotFoundError(`unknown chain ${chainName}: this node runs ${id} (or say main)`)
    const { chain } = access
    const out = new PassThrough()
    streams.add(out)
    const write = (line: unknown): void => {
      if (out.writableLength > MAX_QUEUED_BYTES) {
        out.destroy()
        return
      }
      out.write(`${JSON.stringify(line)}\n`)
    }
    const onHead = (change: HeadChange): void => { write(monitorHeadJson(change.head)) }
    const cleanup = (): void => {
      chain.off('head', onHead)
      streams.delete(out)
    }
    chain.on('head', onHead)
    out.on('close', cleanup)
    reply.raw.on('close', () => { out.destroy() })
    write(monitorHeadJson(chain.head))
    return await reply.type('application/json').header('cache-control', 'no-cache').send(out)
  }

  app.get('/monitor/heads', async (_req, reply) => await monitor('main', reply))
  app.get<{ Params: { chain: string } }>('/monitor/heads/:chain', async (req, reply) => await monitor(req.params.chain, reply))
}
