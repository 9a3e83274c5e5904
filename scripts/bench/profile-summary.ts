/**
 * Summarises a V8 CPU profile (`.cpuprofile`, as written by `node --cpu-prof` or the benches'
 * `--profile`): the functions with the most self time, and self time per package or source
 * directory, as markdown tables.
 *
 *   node scripts/bench/profile-summary.ts file.cpuprofile [--top 10]
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseScriptArgs } from '../script-args.ts'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number }
export interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface SelfTime { name: string, where: string, ms: number, share: number }

export class BadProfileError extends Error {
  override readonly name = 'BadProfileError'
}

/** `node_modules/<package>` (scoped too), `src/<dir>` or `node:` for Node's own code. */
export function ownerOf (url: string): string {
  if (url === '') return '(V8 / native)'
  if (url.startsWith('node:')) return 'node: (runtime)'
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  const src = url.indexOf('/src/')
  if (src >= 0) return `src/${url.slice(src + 5).split('/')[0]}`
  return url.split('/').slice(-2).join('/')
}

function shortUrl (url: string): string {
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length)
  const src = url.lastIndexOf('/src/')
  return src >= 0 ? url.slice(src + 1) : url
}

/** Self time per function (by name and place) and per owner, largest first. */
export function selfTimes (profile: CpuProfile): { functions: SelfTime[], owners: SelfTime[], totalMs: number } {
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new BadProfileError('not a V8 CPU profile (nodes, samples and timeDeltas expected)')
  }
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const perNode = new Map<number, number>()
  // timeDeltas[i] is the time before sample i; it is that sample's share of the run.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    perNode.set(profile.samples[i], (perNode.get(profile.samples[i]) ?? 0) + delta)
  }
  const functions = new Map<string, SelfTime>()
  const owners = new Map<string, SelfTime>()
  let totalUs = 0
  for (const [id, us] of perNode) {
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) continue
    totalUs += us
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName
    const where = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    const key = `${name}@${where}`
    const f = functions.get(key) ?? { name, where, ms: 0, share: 0 }
    f.ms += us / 1000
    functions.set(key, f)
    const owner = ownerOf(frame.url)
    const o = owners.get(owner) ?? { name: owner, where: '', ms: 0, share: 0 }
    o.ms += us / 1000
    owners.set(owner, o)
  }
  const totalMs = totalUs / 1000
  const sorted = (m: Map<string, SelfTime>): SelfTime[] =>
    [...m.values()].map(x => ({ ...x, share: totalMs === 0 ? 0 : x.ms / totalMs })).sort((a, b) => b.ms - a.ms)
  return { functions: sorted(functions), owners: sorted(owners), totalMs }
}

export function summaryMarkdown (profile: CpuProfile, top: number): string {
  const { functions, owners, totalMs } = selfTimes(profile)
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`
  return [
    `${(totalMs / 1000).toFixed(2)} s of samples`,
    '',
    '| # | function | where | self ms | self % |',
    '|---|---|---|---|---|',
    ...functions.slice(0, top).map((f, i) => `| ${i + 1} | \`${f.name}\` | ${f.where === '' ? '—' : `\`${f.where}\``} | ${f.ms.toFixed(0)} | ${pct(f.share)} |`),
    '',
    '| package / directory | self ms | self % |',
    '|---|---|---|',
    ...owners.slice(0, top).map(o => `| ${o.name} | ${o.ms.toFixed(0)} | ${pct(o.share)} |`)
  ].join('\n')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseScriptArgs({
    command: 'node scripts/bench/profile-summary.ts',
    summary: 'The functions with the most self time in a V8 CPU profile, and self time per package or source directory, as markdown.',
    positionals: '<file.cpuprofile>',
    options: { top: { type: 'string', default: '10', placeholder: 'N', description: 'functions listed' } }
  })
  if (positionals.length !== 1) {
    process.stderr.write('usage: node scripts/bench/profile-summary.ts file.cpuprofile [--top N]\n')
    process.exit(2)
  }
  const profile = JSON.parse(await readFile(positionals[0], 'utf8')) as CpuProfile
  process.stdout.write(summaryMarkdown(profile, Number(values.top)) + '\n')
}
