import type { FastifyInstance, FastifyReply } from 'fastify'
import { b58Decode, b58Encode } from '../crypto/index.ts'
import { DecodeError, decodeExact, fromHex, hexDigitsProblem } from '../encoding/index.ts'
import { MempoolRefusedError } from '../chain/mempool.ts'
import { chainIdToJson } from '../wire/json.ts'
import { operationCodec, OPERATION_MAX_BYTES } from '../wire/operation.ts'
import { blockJson, blockOperations, headerJson, operationJson } from './block-json.ts'
import { resolveBlockId } from './block-id.ts'
import { chainAccessOf, type ChainAccess } from './chain-access.ts'
import type { RpcContext } from './context.ts'
import { sendJsonString } from './reply.ts'
import { BadRequestError, NotFoundError, UnavailableError } from './errors.ts'

interface BlockParams { chain: string, block: string }

/**
 * `/chains/<chain>/…` and `/injection/operation`. `<chain>` is `main` or the chain id (`Net…`),
 * as in Octez; blocks are named as `block-id.ts` describes.
 */
export function registerChainRoutes (app: FastifyInstance, ctx: RpcContext): void {
  const access = (): ChainAccess => {
    const a = chainAccessOf(ctx.node)
    if (a === undefined) throw new UnavailableError('this node runs no chain (embedded without a protocol)')
    return a
  }
  /** The chain access, once `<chain>` names this node's chain. */
  const chainNamed = (name: string): ChainAccess => {
    const a = access()
    if (name === 'main') return a
    let id: Uint8Array
    try {
      id = b58Decode('chainId', name)
    } catch {
      throw new BadRequestError(`invalid chain ${JSON.stringify(name)}: expected main or a chain id (Net…)`)
    }
    if (chainIdToJson(id) !== chainIdToJson(a.chainId)) throw new NotFoundError(`unknown chain ${name}: this node runs ${chainIdToJson(a.chainId)}`)
    return a
  }

  app.get<{ Params: { chain: string } }>('/chains/:chain/chain_id', async (req, reply) =>
    await sendJsonString(reply, chainIdToJson(chainNamed(req.params.chain).chainId)))

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block', async req => {
    const { chain } = chainNamed(req.params.chain)
    return await blockJson(chain, await resolveBlockId(chain, req.params.block))
  })

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block/header', async req => {
    const { chain } = chainNamed(req.params.chain)
    return headerJson(chain, await resolveBlockId(chain, req.params.block))
  })

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block/hash', async (req, reply) => {
    const { chain } = chainNamed(req.params.chain)
    return await sendJsonString(reply, b58Encode('blockHash', (await resolveBlockId(chain, req.params.block)).hash))
  })

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block/operations', async req => {
    const { chain } = chainNamed(req.params.chain)
    const ops = await blockOperations(chain, await resolveBlockId(chain, req.params.block))
    return ops.map(pass => pass.map(op => operationJson(chain, op)))
  })

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block/operation_hashes', async req => {
    const { chain } = chainNamed(req.params.chain)
    const ops = await blockOperations(chain, await resolveBlockId(chain, req.params.block))
    return ops.map(pass => pass.map(op => operationJson(chain, op).hash))
  })

  /**
   * Octez's pending operations (version 2 layout). tzp2p's mempool holds only operations that
   * passed validation on the head, so `validated` is the whole pool; with the shell protocol
   * nothing is validated (only size and branch are checked), so the pool is Octez's
   * `unprocessed` class, each operation marked `validated: false`.
   */
  app.get<{ Params: { chain: string } }>('/chains/:chain/mempool/pending_operations', req => {
    const a = chainNamed(req.params.chain)
    const mempool = a.mempool
    if (mempool === undefined) throw new UnavailableError('this node runs without a mempool')
    const ops = mempool.operations().map(op => operationJson(a.chain, op))
    if (a.chain.protocol.shellOnly === true) return { validated: [], unprocessed: ops.map(op => ({ ...op, validated: false })) }
    return { validated: ops }
  })

  /** Octez's injection: the body is the operation's binary form as a JSON hex string; answers its hash. */
  app.post<{ Body: unknown }>('/injection/operation', async (req, reply: FastifyReply) => {
    const a = access()
    const body = req.body
    if (typeof body !== 'string') {
      throw new BadRequestError('the body must be a JSON string holding the operation in hex, e.g. "3f8a…" (Content-Type: application/json)')
    }
    const notHex = hexDigitsProblem(body)
    if (notHex !== undefined) throw new BadRequestError(`the operation must be its bytes in hex: ${notHex}`)
    if (body.length / 2 > OPERATION_MAX_BYTES) throw new BadRequestError(`the operation is ${body.length / 2} bytes; at most ${OPERATION_MAX_BYTES}`)
    const bytes = fromHex(body)
    try {
      // Decoded here first so that a malformed operation gets a 400 naming the bad field.
      decodeExact(operationCodec, bytes)
    } catch (e) {
      if (e instanceof DecodeError) throw new BadRequestError(`not an operation: ${e.message}`, { cause: e })
      throw e
    }
    try {
      const hash = await a.inject(bytes)
      return await sendJsonString(reply, b58Encode('operationHash', hash))
    } catch (e) {
      if (e instanceof MempoolRefusedError) throw new BadRequestError(e.message, { cause: e })
      throw e
    }
  })
}
