/**
 * `npm run bench`: every benchmark in turn (pow, handshake, sync, gossip, peers, attack, octez-wire), each as its own
 * process with `--json <file>`, then one markdown table of their figures, each beside its
 * reference, ratio and goal, with the date and the machine, written to `bench-results.md`; a full
 * run also puts the table in README.md between `<!-- bench-results:start -->` and
 * `<!-- bench-results:end -->`.
 *
 *   npm run bench                          # everything, full size (about 25 minutes: peers runs 10)
 *   npm run bench -- --quick               # short parameters, a few minutes
 *   npm run bench -- --only pow,handshake  # a subset
 *   npm run bench -- --quick --readme      # also refresh the README from a quick or partial run
 *
 * Options: `--out file` (default bench-results.md), `--no-readme` (never touch the README).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseScriptArgs } from '../script-args.ts'
import { renderMarkdown, replaceReadmeSection, type BenchRun, type Machine } from './results-table.ts'
import { scalingSections } from './gossip/scaling-table.ts'
import type { BenchResult } from './results.ts'

interface BenchSpec {
  name: string
  script: string
  /** Arguments of a `--quick` run (a full run uses each script's defaults). */
  quick: string[]
}

const BENCHES: BenchSpec[] = [
  { name: 'pow', script: 'pow.ts', quick: ['--seconds', '1', '--rounds', '1'] },
  { name: 'handshake', script: 'handshake.ts', quick: ['--dials', '100', '--rounds', '2', '--warmup', '100'] },
  { name: 'sync', script: 'sync.ts', quick: ['--blocks', '2000'] },
  { name: 'gossip', script: 'gossip.ts', quick: ['--heads', '20', '--warmup', '3'] },
  { name: 'peers', script: 'peers.ts', quick: ['--peers', '40', '--processes', '2', '--duration', '60', '--sample-every', '15', '--warmup', '5', '--settle', '10'] },
  { name: 'attack', script: 'attack.ts', quick: ['--connections', '100', '--heads', '10'] },
  { name: 'octez-wire', script: 'octez-wire.ts', quick: ['--blocks', '1000'] }
]

const { values } = parseScriptArgs({
  command: 'npm run bench --',
  summary: 'Every benchmark in turn, each in its own process, then one markdown table of their figures beside their references and goals.',
  options: {
    quick: { type: 'boolean', default: false, description: 'short parameters: a few minutes instead of about 25' },
    only: { type: 'string', placeholder: 'names', description: `comma-separated subset of ${BENCHES.map(b => b.name).join(', ')}` },
    out: { type: 'string', default: 'bench-results.md', placeholder: 'file', description: 'where the markdown goes' },
    readme: { type: 'boolean', description: 'also put the table in README.md after a quick or partial run' },
    'no-readme': { type: 'boolean', default: false, description: 'never touch README.md' }
  }
})

const only = values.only?.split(',').map(s => s.trim()).filter(s => s !== '')
const unknown = only?.filter(n => !BENCHES.some(b => b.name === n)) ?? []
if (unknown.length > 0) {
  process.stderr.write(`npm run bench: unknown benchmark ${unknown.join(', ')} (known: ${BENCHES.map(b => b.name).join(', ')})\n`)
  process.exit(2)
}
const selected = BENCHES.filter(b => only === undefined || only.includes(b.name))
const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')

async function gitCommit (): Promise<string | undefined> {
  return await new Promise(resolve => {
    const git = spawn('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    git.stdout.on('data', (d: Buffer) => { out += d.toString() })
    git.on('error', () => { resolve(undefined) })
    git.on('close', code => { resolve(code === 0 ? out.trim() : undefined) })
  })
}

/** Runs one benchmark with its output on our terminal; its figures come back through `--json`. */
async function runBench (spec: BenchSpec, dir: string): Promise<BenchRun> {
  const jsonPath = join(dir, `${spec.name}.json`)
  const args = [join(import.meta.dirname, spec.script), ...(values.quick ? spec.quick : []), '--json', jsonPath]
  process.stdout.write(`\n=== ${spec.name}: node ${args.map(a => a.startsWith(process.cwd()) ? a.slice(process.cwd().length + 1) : a).join(' ')}\n`)
  const started = performance.now()
  const code = await new Promise<number | null>(resolve => {
    const child = spawn(NODE, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', () => { resolve(-1) })
    child.on('exit', c => { resolve(c) })
  })
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) return { name: spec.name, seconds, error: `exited with code ${code}` }
  try {
    return { name: spec.name, seconds, result: JSON.parse(await readFile(jsonPath, 'utf8')) as BenchResult }
  } catch (e) {
    return { name: spec.name, seconds, error: `no JSON result (${(e as Error).message})` }
  }
}

const machine: Machine = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? 'unknown CPU',
  cores: availableParallelism(),
  ramGiB: totalmem() / 2 ** 30,
  node: process.version,
  loadAverage: loadavg()[0],
  commit: await gitCommit(),
  quick: values.quick
}
const dir = await mkdtemp(join(tmpdir(), 'tzp2p-bench-all-'))
const runs: BenchRun[] = []
try {
  for (const spec of selected) runs.push(await runBench(spec, dir))
} finally {
  await rm(dir, { recursive: true, force: true })
}

const markdown = renderMarkdown(machine, runs)
// The tables of `npm run bench:gossip-scaling` come from their own (longer) runs: keep them.
const kept = scalingSections(await readFile(values.out, 'utf8').catch(() => ''))
await writeFile(values.out, [markdown.document.replace(/\n*$/, ''), ...kept].join('\n\n') + '\n')
process.stdout.write(`\n${markdown.table}\nwritten to ${values.out}\n`)

// The README shows full runs of every benchmark; a quick or partial run updates it only on request.
const complete = !values.quick && selected.length === BENCHES.length
if (!values['no-readme'] && (values.readme === true || complete)) {
  const readme = await readFile('README.md', 'utf8')
  await writeFile('README.md', replaceReadmeSection(readme, markdown.section))
  process.stdout.write('README.md benchmark table updated\n')
}
if (runs.some(r => r.error !== undefined)) process.exitCode = 1
