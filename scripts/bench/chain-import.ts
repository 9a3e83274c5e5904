/**
 * Local import benchmark: generates a demo chain (default 10 000 blocks, 2 transfers each) and
 * imports it into a fresh store, printing blocks/s.
 *
 *   node scripts/bench/chain-import.ts [--blocks N] [--transfers K] [--passes P] [--workers W] [--profile file.cpuprofile]
 */
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'
import { generateBenchChain, importBenchChain } from '../../src/chain/import-bench.ts'

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '10000' },
    transfers: { type: 'string', default: '2' },
    passes: { type: 'string', default: '1' },
    workers: { type: 'string' },
    profile: { type: 'string' }
  }
})

const blocks = Number(values.blocks)
const transfersPerBlock = Number(values.transfers)
const generateStart = performance.now()
const chain = await generateBenchChain({
  blocks,
  transfersPerBlock,
  validationPasses: Number(values.passes),
  ...(values.workers === undefined ? {} : { verifyWorkers: Number(values.workers) })
})
console.log(`generated ${blocks} blocks × ${transfersPerBlock} transfers in ${((performance.now() - generateStart) / 1000).toFixed(1)} s`)

// Warm-up (JIT) on the first 1 000 blocks, untimed: a node importing a chain is a warm process.
await importBenchChain({ ...chain, blocks: chain.blocks.slice(0, 1000) })
const session = new Session()
const result = await importBenchChain(chain, values.profile === undefined
  ? {}
  : {
      onStart: async () => { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start') },
      onEnd: async () => {
        const { profile } = await session.post('Profiler.stop')
        await writeFile(values.profile as string, JSON.stringify(profile))
      }
    })
await chain.setup.protocol.close?.()
console.log(`local import: ${result.blocks} blocks, ${result.operations} operations in ${(result.milliseconds / 1000).toFixed(2)} s = ${result.blocksPerSecond.toFixed(0)} blocks/s (${(result.operations / result.milliseconds * 1000).toFixed(0)} operations/s)`)
