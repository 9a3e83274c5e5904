/**
 * How the gossip benchmark's figures grow with the network: `npm run bench:gossip` at several node
 * counts (10, 20, 40 by default), each its own process measuring tzp2p and gossipsub in the same
 * run, then one table of p50/p99 bake→arrival, bytes per head per node and CPU per head per node
 * against node count, printed and written into bench-results.md (its own marked section, kept by
 * `npm run bench`). The network options go to every run: with `--link-delay 25` the table is the
 * one over emulated WAN links (root and sch_netem needed, as for bench:gossip).
 *
 *   npm run bench:gossip-scaling [-- --sizes 10,20,40 --heads 30 --link-delay 25 --out bench-results.md]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseScriptArgs } from '../script-args.ts'
import type { BenchResult } from './results.ts'
import { renderScalingSection, renderScalingTable, upsertSection } from './gossip/scaling-table.ts'

const { values: args } = parseScriptArgs({
  command: 'npm run bench:gossip-scaling --',
  summary: 'npm run bench:gossip at several node counts, each with gossipsub in the same run, then one table of latency, bytes and CPU against node count, written into bench-results.md.',
  options: {
    sizes: { type: 'string', default: '10,20,40', placeholder: 'N,N,…', description: 'node counts, one run each' },
    heads: { type: 'string', default: '30', placeholder: 'N', description: 'measured blocks per run' },
    warmup: { type: 'string', default: '5', placeholder: 'N', description: 'first blocks left out of the figures' },
    degree: { type: 'string', placeholder: 'D', description: 'edges per node (bench:gossip\'s default)' },
    'interval-ms': { type: 'string', placeholder: 'ms', description: 'time between blocks (bench:gossip\'s default)' },
    operations: { type: 'string', placeholder: 'N', description: 'signed transfers per block (bench:gossip\'s default)' },
    seed: { type: 'string', placeholder: 'S', description: 'seed of the random graphs (bench:gossip\'s default)' },
    'link-delay': { type: 'string', placeholder: 'ms', description: 'netem one-way delay on every link, in network namespaces (root)' },
    loss: { type: 'string', placeholder: 'percent', description: 'netem loss on every link, in network namespaces (root)' },
    'link-emulation': { type: 'string', placeholder: 'netem|proxy', description: 'how --link-delay is applied, as bench:gossip takes it (netem by default)' },
    'net-namespaces': { type: 'boolean', default: false, description: 'each node in its own network namespace, no netem (root)' },
    out: { type: 'string', default: 'bench-results.md', placeholder: 'file', description: 'markdown file whose gossip-scaling section is replaced (or appended)' },
    'no-write': { type: 'boolean', default: false, description: 'only print the table' }
  }
})

const sizes = (args.sizes ?? '').split(',').map(s => Number(s.trim()))
if (sizes.length === 0 || !sizes.every(n => Number.isInteger(n) && n >= 2)) {
  process.stderr.write(`npm run bench:gossip-scaling: --sizes must be node counts ≥ 2 separated by commas, got ${JSON.stringify(args.sizes)}\n`)
  process.exit(2)
}

/** The options every run gets, as bench:gossip takes them. */
const passed: string[] = ['--heads', args.heads, '--warmup', args.warmup]
for (const name of ['degree', 'interval-ms', 'operations', 'seed', 'link-delay', 'loss', 'link-emulation'] as const) {
  const v = args[name]
  if (v !== undefined) passed.push(`--${name}`, v)
}
if (args['net-namespaces'] === true) passed.push('--net-namespaces')

const NODE = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'node')
const dir = await mkdtemp(join(tmpdir(), 'tzp2p-bench-gossip-scaling-'))
const results: BenchResult[] = []
const failed: string[] = []
const started = new Date().toISOString()
try {
  for (const nodes of sizes) {
    const json = join(dir, `${nodes}.json`)
    const runArgs = [join(import.meta.dirname, 'gossip.ts'), '--nodes', String(nodes), ...passed, '--json', json]
    process.stdout.write(`\n=== ${nodes} nodes: npm run bench:gossip -- ${runArgs.slice(1, -2).join(' ')}\n`)
    const code = await new Promise<number | null>(resolve => {
      const child = spawn(NODE, runArgs, { stdio: ['ignore', 'inherit', 'inherit'] })
      child.on('error', () => { resolve(-1) })
      child.on('exit', c => { resolve(c) })
    })
    if (code !== 0) {
      failed.push(`${nodes} nodes (exit code ${code})`)
      // The network could not be built (bench:gossip said why): every other size would fail the same way.
      if (code === 1 && results.length === 0 && passed.some(a => a === '--link-delay' || a === '--loss' || a === '--net-namespaces')) break
      continue
    }
    results.push(JSON.parse(await readFile(json, 'utf8')) as BenchResult)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}

if (results.length > 0) {
  const measured = `${started.slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`
  process.stdout.write(`\n${renderScalingTable(results)}\n`)
  if (failed.length > 0) process.stdout.write(`no result for ${failed.join(', ')}\n`)
  if (args['no-write'] !== true) {
    const out = args.out
    const before = await readFile(out, 'utf8').catch(() => '# tzp2p benchmark results\n')
    await writeFile(out, upsertSection(before, renderScalingSection(results, measured)))
    process.stdout.write(`written to ${out}\n`)
  }
}
if (failed.length > 0) {
  process.stderr.write(`npm run bench:gossip-scaling: no result for ${failed.join(', ')}\n`)
  process.exitCode = 1
}
