import type { FastifyInstance } from 'fastify'
import { bytesEqual } from '../encoding/index.ts'
import { decodePublicKeyHash, readAccount } from '../protocol/demo/index.ts'
import { resolveBlockId } from './block-id.ts'
import { chainAccessOf } from './chain-access.ts'
import type { RpcContext } from './context.ts'
import { BadRequestError, NotFoundError, UnavailableError } from './errors.ts'
import { sendJsonString } from './reply.ts'

interface ContractParams { chain: string, block: string, pkh: string }

/**
 * Octez's `…/context/contracts/<tz1…>` (and `/balance`, `/counter`) for the demo protocol's
 * accounts, so that a client can build its next transfer. Only the head's state is kept, so only
 * the head (under any of its names) can be asked. Amounts are strings, as Octez writes mutez.
 */
export function registerContextRoutes (app: FastifyInstance, ctx: RpcContext): void {
  const account = async (params: ContractParams): Promise<{ balance: string, counter: string }> => {
    const access = chainAccessOf(ctx.node)
    if (access === undefined) throw new UnavailableError('this node runs no chain (embedded without a protocol)')
    if (params.chain !== 'main') throw new BadRequestError('contracts are served for the chain "main"')
    const { chain } = access
    // Every version of the demo protocol keeps the same accounts.
    if ((chain.protocol.manifest?.name ?? chain.protocol.name) !== 'demo') throw new NotFoundError(`the ${chain.protocol.name} protocol has no accounts`)
    let pkh: Uint8Array
    try {
      pkh = decodePublicKeyHash(params.pkh)
    } catch (e) {
      throw new BadRequestError(`${JSON.stringify(params.pkh)} is not an account address (tz1…): ${(e as Error).message}`, { cause: e })
    }
    const block = await resolveBlockId(chain, params.block)
    if (!bytesEqual(block.hash, chain.head.hash)) throw new BadRequestError('only the head\'s state is kept: ask for blocks/head')
    const found = await readAccount(chain.state, pkh)
    if (found === undefined) throw new NotFoundError(`no account ${params.pkh}`)
    return { balance: found.balance.toString(), counter: found.counter.toString() }
  }
  const base = '/chains/:chain/blocks/:block/context/contracts/:pkh'
  app.get<{ Params: ContractParams }>(base, async req => await account(req.params))
  app.get<{ Params: ContractParams }>(`${base}/balance`, async (req, reply) => await sendJsonString(reply, (await account(req.params)).balance))
  app.get<{ Params: ContractParams }>(`${base}/counter`, async (req, reply) => await sendJsonString(reply, (await account(req.params)).counter))
}
