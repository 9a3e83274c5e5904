/**
 * Local import benchmark: generates a demo chain (default 10 000 blocks, 2 transfers each) and
 * imports it into a fresh store (header hashes, operations Merkle check, signatures, protocol
 * application, atomic commits), printing blocks/s for each run and the median.
 *
 *   node scripts/bench/chain-import.ts [--blocks N] [--transfers K] [--passes P] [--workers W]
 *                                      [--runs R] [--profile file.cpuprofile]
 *
 * `--workers` sets the signature-verification threads (default: one per core but one).
 * `--profile` writes a CPU profile of the last run (open it in Chrome DevTools).
 */
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { parseScriptArgs } from '../script-args.ts'
import { generateBenchChain, importBenchChain, type ImportOptions } from './support/import-bench.ts'

const { values } = parseScriptArgs({
  command: 'npm run bench:chain-import --',
  summary: 'Imports a generated demo chain into a fresh store and prints blocks/s per run and their median.',
  options: {
    blocks: { type: 'string', default: '10000', placeholder: 'N', description: 'blocks of the generated chain' },
    transfers: { type: 'string', default: '2', placeholder: 'K', description: 'signed transfers per block' },
    passes: { type: 'string', default: '1', placeholder: 'P', description: 'validation passes per block' },
    workers: { type: 'string', placeholder: 'W', defaultText: 'one per core but one', description: 'signature-verification threads' },
    runs: { type: 'string', default: '3', placeholder: 'R', description: 'import runs' },
    profile: { type: 'string', placeholder: 'file.cpuprofile', description: 'write a CPU profile of the last run there' }
  }
})

const blocks = Number(values.blocks)
const transfersPerBlock = Number(values.transfers)
const runs = Math.max(1, Number(values.runs))
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
const profiling: ImportOptions = {
  onStart: async () => { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start') },
  onEnd: async () => {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(values.profile as string, JSON.stringify(profile))
  }
}
const rates: number[] = []
const cpuPerBlock: number[] = []
for (let run = 1; run <= runs; run++) {
  const cpuStart = process.cpuUsage()
  const r = await importBenchChain(chain, { ...(values.profile !== undefined && run === runs ? profiling : {}), cpuByThread: true })
  const cpu = process.cpuUsage(cpuStart)
  const threads = r.cpuByThread ?? new Map<string, number>()
  rates.push(r.blocksPerSecond)
  cpuPerBlock.push((cpu.user + cpu.system) / r.blocks)
  // CPU by thread (main, the signature workers, libuv's threadpool running LevelDB, V8's GC helpers).
  const perBlock = [...threads].filter(([, x]) => x >= 0.005).sort((x, y) => y[1] - x[1]).map(([name, x]) => `${name} ${(x * 1e6 / r.blocks).toFixed(0)}`).join(', ')
  console.log(`run ${run}: ${r.blocks} blocks, ${r.operations} operations in ${(r.milliseconds / 1000).toFixed(2)} s = ${r.blocksPerSecond.toFixed(0)} blocks/s; CPU ${((cpu.user + cpu.system) / r.blocks).toFixed(0)} µs per block (by thread, µs: ${perBlock})`)
}
const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]
const medianCpu = [...cpuPerBlock].sort((a, b) => a - b)[Math.floor(cpuPerBlock.length / 2)]
console.log(`local import (median of ${runs}): ${median.toFixed(0)} blocks/s, ${(median * transfersPerBlock).toFixed(0)} operations/s, ${medianCpu.toFixed(0)} µs of CPU per block`)
