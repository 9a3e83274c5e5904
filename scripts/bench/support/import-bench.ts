import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../../src/storage/database.ts'
import { Chain, type BlockInput } from '../../../src/chain/chain.ts'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../../../test/helpers/demo-chain.ts'
import { cpuByThreadOf, threadCpuBetween } from './process-cpu.ts'

/**
 * The local-import benchmark core: a generated demo chain imported into a fresh store, as a
 * bootstrap would apply it (header hash, Merkle check of the operations, protocol application
 * with signatures, atomic store writes). The sync benchmark reuses `generateBenchChain` so both
 * measure the same blocks.
 */
export interface BenchChainOptions {
  blocks: number
  transfersPerBlock: number
  validationPasses?: number
  accounts?: number
  /** Signature worker threads of the importing protocol (default: the protocol's, one per spare core). */
  verifyWorkers?: number
}

export interface BenchChain {
  setup: DemoSetup
  blocks: BlockInput[]
  /**
   * A fresh instance of the chain's protocol. Each import needs its own: a protocol remembers
   * which header and operation objects it has verified, so a second import with the same
   * instance would skip the signature checks.
   */
  freshSetup: () => DemoSetup
}

export async function generateBenchChain (options: BenchChainOptions): Promise<BenchChain> {
  const freshSetup = (): DemoSetup => demoSetup({
    name: `bench-${options.blocks}-${options.transfersPerBlock}`,
    accounts: options.accounts ?? 200,
    validationPasses: options.validationPasses ?? 1,
    ...(options.verifyWorkers === undefined ? {} : { verifyWorkers: options.verifyWorkers })
  })
  const setup = freshSetup()
  const builder = new DemoChainBuilder(setup)
  return { setup, blocks: await builder.grow(options.blocks, options.transfersPerBlock), freshSetup }
}

export interface ImportOptions {
  /** Blocks per `addBlocks` call (a bootstrap hands over batches; default 1000). */
  runLength?: number
  /** Blocks per store commit (default the chain's, 100). */
  commitEvery?: number
  /** Called around the timed part (e.g. to start and stop a profiler). */
  onStart?: () => Promise<void>
  onEnd?: () => Promise<void>
  /**
   * Reads this process's CPU by thread around the import, before the store and the signature
   * workers are closed (their threads' times vanish from /proc when they end).
   */
  cpuByThread?: boolean
}

export interface ImportResult {
  blocks: number
  operations: number
  milliseconds: number
  blocksPerSecond: number
  headLevel: number
  /** CPU seconds per thread name during the import, when asked for. */
  cpuByThread?: Map<string, number>
}

/**
 * Imports `chain` into a fresh store in a temporary directory with a fresh protocol instance,
 * timing only the import.
 */
export async function importBenchChain (chain: BenchChain, options: ImportOptions = {}): Promise<ImportResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tzp2p-import-'))
  const db = await openDatabase(dir, { chainName: 'TZP2P_BENCH' })
  const { protocol, genesis } = chain.freshSetup()
  try {
    const node = await Chain.open(db, {
      protocol,
      genesis,
      ...(options.commitEvery === undefined ? {} : { commitEvery: options.commitEvery })
    })
    const runLength = options.runLength ?? 1000
    await options.onStart?.()
    const threadsStart = options.cpuByThread === true ? await cpuByThreadOf(process.pid) : undefined
    const start = performance.now()
    for (let i = 0; i < chain.blocks.length; i += runLength) await node.addBlocks(chain.blocks.slice(i, i + runLength))
    const milliseconds = performance.now() - start
    const cpuByThread = threadsStart === undefined ? undefined : threadCpuBetween(threadsStart, await cpuByThreadOf(process.pid))
    await options.onEnd?.()
    let operations = 0
    for (const b of chain.blocks) for (const pass of b.operations) operations += pass.length
    return {
      blocks: chain.blocks.length,
      operations,
      milliseconds,
      blocksPerSecond: chain.blocks.length / (milliseconds / 1000),
      headLevel: node.head.header.shell.level,
      ...(cpuByThread === undefined ? {} : { cpuByThread })
    }
  } finally {
    await protocol.close?.()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Writes the whole chain into a fresh store at `dir` (chain name `chainName`), 1 000 blocks per
 * import call: the store the peer processes are copied from.
 */
export async function seedBenchStore (chain: BenchChain, dir: string, chainName: string): Promise<void> {
  const db = await openDatabase(dir, { chainName })
  const { protocol, genesis } = chain.freshSetup()
  const c = await Chain.open(db, { protocol, genesis })
  for (let i = 0; i < chain.blocks.length; i += 1000) await c.addBlocks(chain.blocks.slice(i, i + 1000))
  await protocol.close?.()
  await db.close()
}
