/**
 * The work `npm run bench:peers` found largest in the node itself: every peer asking for a new
 * head's operations (Get_operations_for_blocks) within the same second. Grows a demo chain in a
 * fresh store, then, for each of the last `heads` blocks, answers `peers` requests for its
 * operations the way the sync service does (`answersFor`), and prints the CPU time per head.
 *
 *   node scripts/bench/peers/head-answers.ts [--peers 200] [--heads 50] [--transfers 4]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Chain } from '../../../src/chain/chain.ts'
import { DemoChainBuilder, demoSetup } from '../../../test/helpers/demo-chain.ts'
import { openDatabase } from '../../../src/storage/database.ts'
import { answersFor } from '../../../src/sync/answers.ts'
import { blockHash } from '../../../src/wire/block-header.ts'

const { values } = parseArgs({ options: { peers: { type: 'string', default: '200' }, heads: { type: 'string', default: '50' }, transfers: { type: 'string', default: '4' } } })
const PEERS = Number(values.peers)
const HEADS = Number(values.heads)
const setup = demoSetup({ name: 'head-answers', accounts: 64, validationPasses: 1, verifyWorkers: 0 })
const builder = new DemoChainBuilder(setup)
const dir = await mkdtemp(join(tmpdir(), 'tzp2p-bench-head-answers-'))
const db = await openDatabase(dir, { chainName: 'TZP2P_BENCH' })
try {
  const chain = await Chain.open(db, { protocol: setup.protocol, genesis: setup.genesis })
  const cpu = { user: 0, system: 0 }
  let answers = 0
  for (let i = 0; i < HEADS; i++) {
    // One block at a time, as a baker commits them; then every peer asks for it.
    const block = await builder.bake(builder.transfers(builder.randomTransfers(Number(values.transfers))))
    await chain.addBlocks([block])
    const request = { tag: 'Get_operations_for_blocks' as const, keys: [{ blockHash: blockHash(block.header), validationPass: 0 }] }
    const start = process.cpuUsage()
    const all = await Promise.all(Array.from({ length: PEERS }, async (_, p) => await answersFor({ chain, tezosPeerId: 'bench' }, `peer${p}`, [request])))
    const used = process.cpuUsage(start)
    cpu.user += used.user
    cpu.system += used.system
    answers += all.reduce((n, a) => n + a.length, 0)
  }
  if (answers !== PEERS * HEADS) throw new Error(`expected ${PEERS * HEADS} answers, got ${answers}`)
  console.log(`${PEERS} peers × ${HEADS} heads: ${((cpu.user + cpu.system) / 1000 / HEADS).toFixed(2)} ms CPU per head to answer every peer's Get_operations_for_blocks`)
  await setup.protocol.close?.()
} finally {
  await db.close()
  await rm(dir, { recursive: true, force: true })
}
