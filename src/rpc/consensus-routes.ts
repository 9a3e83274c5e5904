import type { FastifyInstance } from 'fastify'
import { b58Encode } from '../crypto/index.ts'
import { bytesEqual } from '../encoding/index.ts'
import { decodePublicKeyHash } from '../protocol/demo/index.ts'
import { asDemoV3, decodeV3Fitness, type DemoV3Protocol } from '../protocol/demo-v3/index.ts'
import { cycleOf } from '../protocol/demo-v3/parameters.ts'
import { delegates, frozenDeposit, implicit, readContract, readDenouncement, stakeOf, type Denouncement } from '../protocol/demo-v3/store.ts'
import type { ChainReader as Chain } from '../chain/chain-reader.ts'
import { blockOperations, operationJson } from './block-json.ts'
import { resolveBlockId } from './block-id.ts'
import { sendJsonString } from './reply.ts'
import { chainAccessOf } from './chain-access.ts'
import type { RpcContext } from './context.ts'
import { BadRequestError, NotFoundError, UnavailableError } from './errors.ts'

/**
 * Demo v3's consensus views (protocols/sync.md, Appendix A.2), in the shape of the Emmy*-era Octez
 * RPCs where one exists (`src/proto_011_PtHangz2/lib_protocol/delegate_services.ml`):
 * - `…/blocks/<block>/operations/<pass>`: one validation pass (Octez's route), each operation with
 *   its decoded contents (kind and pass);
 * - `…/blocks/<block>/fitness`: the block's fitness decoded, `{level, endorsing_power}`;
 * - `…/blocks/head/helpers/baking_rights?level=`, `…/endorsing_rights?level=`: who may bake at
 *   each priority and who holds each endorsement slot;
 * - `…/blocks/head/context/delegates`: the registered delegates (Octez's list, without its filters);
 * - `…/blocks/head/context/delegates/<tz1…>`: a delegate's balance, stake, frozen deposits and the
 *   offences denounced against it (tzp2p's addition: the deposit each took, the reward and who got
 *   it); its fields also one by one (`…/frozen_balance`, `…/frozen_balance_by_cycle`, …), as Octez.
 * Rights and deposits come from the head's state (only the head's is kept), read as it is when asked.
 */

const pkhText = (pkh: Uint8Array): string => b58Encode('ed25519PublicKeyHash', pkh)

function v3Chain (ctx: RpcContext, chainName: string): { chain: Chain, protocol: DemoV3Protocol } {
  const access = chainAccessOf(ctx.node)
  if (access === undefined) throw new UnavailableError('this node runs no chain (embedded without a protocol)')
  if (chainName !== 'main') throw new BadRequestError('consensus views are served for the chain "main"')
  const protocol = asDemoV3(access.chain.protocol)
  if (protocol === undefined) throw new NotFoundError(`the ${access.chain.protocol.name} protocol has no delegates or rights (demo v3 has)`)
  return { chain: access.chain, protocol }
}

async function headOnly (chain: Chain, block: string): Promise<void> {
  const b = await resolveBlockId(chain, block)
  if (!bytesEqual(b.hash, chain.head.hash)) throw new BadRequestError('only the head\'s state is kept: ask for blocks/head')
}

function levelParam (chain: Chain, query: { level?: string }): number {
  if (query.level === undefined) return chain.head.header.shell.level + 1
  const level = Number(query.level)
  if (!Number.isSafeInteger(level) || level < 1 || level > 0x7fffffff) throw new BadRequestError(`level ${JSON.stringify(query.level)} is not a block level ≥ 1`)
  return level
}

interface BlockParams { chain: string, block: string }

export function registerConsensusRoutes (app: FastifyInstance, ctx: RpcContext): void {
  app.get<{ Params: BlockParams & { pass: string } }>('/chains/:chain/blocks/:block/operations/:pass', async req => {
    const access = chainAccessOf(ctx.node)
    if (access === undefined) throw new UnavailableError('this node runs no chain (embedded without a protocol)')
    const ops = await blockOperations(access.chain, await resolveBlockId(access.chain, req.params.block))
    const pass = Number(req.params.pass)
    if (!Number.isInteger(pass) || pass < 0 || pass >= ops.length) throw new NotFoundError(`the block has validation passes 0 to ${ops.length - 1}, not ${req.params.pass}`)
    return ops[pass].map(op => operationJson(access.chain, op))
  })

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block/fitness', async req => {
    const { chain } = v3Chain(ctx, req.params.chain)
    const b = await resolveBlockId(chain, req.params.block)
    const header = await chain.getHeader(b.hash)
    if (header === undefined) throw new NotFoundError('no such block')
    try {
      const f = decodeV3Fitness(header.header.shell.fitness)
      return { level: f.level, endorsing_power: f.endorsingPower }
    } catch {
      throw new NotFoundError('the block is not a demo v3 block (its fitness is the level only)')
    }
  })

  app.get<{ Params: BlockParams, Querystring: { level?: string, max_priority?: string } }>('/chains/:chain/blocks/:block/helpers/baking_rights', async req => {
    const { chain, protocol } = v3Chain(ctx, req.params.chain)
    await headOnly(chain, req.params.block)
    const level = levelParam(chain, req.query)
    const max = req.query.max_priority === undefined ? 8 : Number(req.query.max_priority)
    if (!Number.isInteger(max) || max < 1 || max > protocol.parameters.maxPriority) throw new BadRequestError(`max_priority must be from 1 to ${protocol.parameters.maxPriority}`)
    const rights = await protocol.rightsAt(chain.state, level, max)
    return rights.bakers.map((d, priority) => ({ level, cycle: rights.cycle, delegate: pkhText(d), priority }))
  })

  app.get<{ Params: BlockParams, Querystring: { level?: string } }>('/chains/:chain/blocks/:block/helpers/endorsing_rights', async req => {
    const { chain, protocol } = v3Chain(ctx, req.params.chain)
    await headOnly(chain, req.params.block)
    const level = req.query.level === undefined ? chain.head.header.shell.level : levelParam(chain, req.query)
    const rights = await protocol.rightsAt(chain.state, level, 0)
    const byDelegate = new Map<string, number[]>()
    rights.slots.forEach((d, slot) => {
      const k = pkhText(d)
      byDelegate.set(k, [...byDelegate.get(k) ?? [], slot])
    })
    return [...byDelegate].map(([delegate, slots]) => ({ level, cycle: rights.cycle, delegate, slots }))
  })

  app.get<{ Params: BlockParams }>('/chains/:chain/blocks/:block/context/delegates', async req => {
    const { chain } = v3Chain(ctx, req.params.chain)
    await headOnly(chain, req.params.block)
    return (await delegates(chain.state)).map(pkhText)
  })

  app.get<{ Params: BlockParams & { pkh: string } }>('/chains/:chain/blocks/:block/context/delegates/:pkh', async req => {
    const { chain, protocol } = v3Chain(ctx, req.params.chain)
    await headOnly(chain, req.params.block)
    return await delegateView(chain, protocol, req.params.pkh)
  })

  for (const field of ['frozen_balance', 'frozen_balance_by_cycle', 'staking_balance', 'balance'] as const) {
    app.get<{ Params: BlockParams & { pkh: string } }>(`/chains/:chain/blocks/:block/context/delegates/:pkh/${field}`, async (req, reply) => {
      const { chain, protocol } = v3Chain(ctx, req.params.chain)
      await headOnly(chain, req.params.block)
      const value = (await delegateView(chain, protocol, req.params.pkh))[field]
      // An amount is a JSON string, as Octez's mutez (Fastify would send a bare string as text).
      return typeof value === 'string' ? await sendJsonString(reply, value) : value
    })
  }
}

interface DenouncedJson { level: number, kind: 'double_baking' | 'double_endorsement', deposit_taken: string, reward: string, reporter: string | null }

const denouncedJson = (level: number, kind: DenouncedJson['kind'], d: Denouncement): DenouncedJson =>
  ({ level, kind, deposit_taken: d.taken.toString(), reward: d.reward.toString(), reporter: d.reporter === undefined ? null : pkhText(d.reporter) })

/** A delegate's view at the head (Octez's `delegate_services.ml` `info`, with tzp2p's `denounced`). */
async function delegateView (chain: Chain, protocol: DemoV3Protocol, address: string): Promise<{
  balance: string, staking_balance: string, frozen_balance: string, frozen_balance_by_cycle: Array<{ cycle: number, deposits: string }>, denounced: DenouncedJson[]
}> {
  let pkh: Uint8Array
  try {
    pkh = decodePublicKeyHash(address)
  } catch (e) {
    throw new BadRequestError(`${JSON.stringify(address)} is not a delegate address (tz1…): ${(e as Error).message}`, { cause: e })
  }
  const p = protocol.parameters
  const head = chain.head
  const state = chain.state
  if (!(await delegates(state)).some(d => bytesEqual(d, pkh))) throw new NotFoundError(`${address} is not a registered delegate`)
  const current = cycleOf(p, head.header.shell.level + 1)
  const byCycle: Array<{ cycle: number, deposits: string }> = []
  let frozen = 0n
  for (let c = Math.max(0, current - p.preservedCycles - 1); c <= current; c++) {
    const d = await frozenDeposit(state, c, pkh)
    frozen += d
    if (d > 0n) byCycle.push({ cycle: c, deposits: d.toString() })
  }
  // Offences denounced on the chain within the evidence window (protocols/sync.md A.2), newest
  // first, with the deposit each took and the reward paid to the baker that included it.
  const denounced: DenouncedJson[] = []
  const window = p.blocksPerCycle * (p.preservedCycles + 1)
  for (let l = head.header.shell.level; l >= 1 && l > head.header.shell.level - window; l--) {
    const baking = await readDenouncement(state, 'baking', l, pkh)
    if (baking !== undefined) denounced.push(denouncedJson(l, 'double_baking', baking))
    const endorsement = await readDenouncement(state, 'endorsement', l, pkh)
    if (endorsement !== undefined) denounced.push(denouncedJson(l, 'double_endorsement', endorsement))
  }
  return {
    balance: ((await readContract(state, implicit(pkh)))?.balance ?? 0n).toString(),
    staking_balance: (await stakeOf(state, pkh)).toString(),
    frozen_balance: frozen.toString(),
    frozen_balance_by_cycle: byCycle,
    denounced
  }
}
