/**
 * How the gossip benchmark's cost grows with the network (issue 16, item 8): one markdown table
 * of `npm run bench:gossip` results at several node counts, each beside gossipsub measured in the
 * same run, and the marked section of `bench-results.md` that holds it. A run over emulated links
 * (`--link-delay`) gets a section of its own, so the loopback and WAN tables sit side by side.
 */
import type { BenchFigure, BenchResult } from '../results.ts'
import { formatNumber } from '../results-table.ts'

export class ScalingTableError extends Error {
  override readonly name = 'ScalingTableError'
}

/** The figures of one `bench:gossip` result the table needs, by the names gossip.ts gives them. */
const FIGURES = {
  p50: 'p50 bake→arrival',
  p99: 'p99 bake→arrival',
  bytes: 'bytes sent per head per node',
  cpu: 'CPU per head (all nodes)'
} as const

function figure (r: BenchResult, name: string): BenchFigure {
  const f = r.figures.find(x => x.name === name)
  if (f?.reference === undefined) throw new ScalingTableError(`the ${String(r.params.nodes)}-node result has no "${name}" figure with its gossipsub reference`)
  return f
}

/** `tzp2p / gossipsub (ratio×)`. */
function pair (f: BenchFigure, scale = 1): string {
  const reference = f.reference as { value: number }
  return `${formatNumber(f.value * scale)} / ${formatNumber(reference.value * scale)} (${formatNumber(f.value / reference.value)}×)`
}

/**
 * The network the results were measured on, as the section's key: `loopback`, `namespaces`,
 * `delay25`, `delay25-loss1` (netem), `relays-delay25` (`--link-emulation proxy`).
 */
export function networkKey (r: BenchResult): string {
  const delay = Number(r.params.linkDelayMs ?? 0)
  const loss = Number(r.params.lossPercent ?? 0)
  if (r.params.network === 'relays') return `relays-delay${delay}`
  if (delay === 0 && loss === 0) return r.params.network === 'namespaces' ? 'namespaces' : 'loopback'
  return [...(delay > 0 ? [`delay${delay}`] : []), ...(loss > 0 ? [`loss${loss}`] : [])].join('-')
}

export function networkTitle (key: string): string {
  if (key === 'loopback') return 'on loopback'
  if (key === 'namespaces') return 'in network namespaces, no netem'
  const delay = /delay([\d.]+)/.exec(key)?.[1]
  if (key.startsWith('relays-')) return `on loopback, every link through a userspace TCP relay delaying each direction by ${delay ?? '?'} ms (--link-emulation proxy)`
  const loss = /loss([\d.]+)/.exec(key)?.[1]
  return `in network namespaces, netem ${[...(delay !== undefined ? [`${delay} ms one-way delay`] : []), ...(loss !== undefined ? [`${loss} % loss`] : [])].join(' and ')} per link`
}

/**
 * The table: one row per node count (ascending), tzp2p beside gossipsub for p50, p99, bytes per
 * head per node and CPU per head per node. Every result must come from the same network.
 */
export function renderScalingTable (results: readonly BenchResult[]): string {
  if (results.length === 0) throw new ScalingTableError('no gossip results to tabulate')
  const keys = new Set(results.map(networkKey))
  if (keys.size > 1) throw new ScalingTableError(`results from different networks (${[...keys].join(', ')}) do not make one table`)
  const rows = [...results].sort((a, b) => Number(a.params.nodes) - Number(b.params.nodes)).map(r => {
    const nodes = Number(r.params.nodes)
    const diameter = typeof r.params.diameter === 'number' ? String(r.params.diameter) : '—'
    return `| ${nodes} | ${String(r.params.edges)} | ${diameter} | ${pair(figure(r, FIGURES.p50))} | ${pair(figure(r, FIGURES.p99))} | ` +
      `${pair(figure(r, FIGURES.bytes))} | ${pair(figure(r, FIGURES.cpu), 1 / nodes)} |`
  })
  return [
    '| nodes | edges | diameter (hops) | p50 bake→arrival, ms | p99 bake→arrival, ms | bytes sent per head per node | CPU per head per node, ms |',
    '|---|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}

export const sectionStart = (key: string): string => `<!-- gossip-scaling:${key}:start -->`
export const sectionEnd = (key: string): string => `<!-- gossip-scaling:${key}:end -->`

/** The marked section: a heading, what was run, the table (tzp2p / gossipsub (ratio)), the parameters. */
export function renderScalingSection (results: readonly BenchResult[], measured: string): string {
  const table = renderScalingTable(results)
  const key = networkKey(results[0])
  const p = results[0].params
  const params = ['degree', 'heads', 'warmup', 'intervalMs', 'operations', 'seed'].map(k => `${k} ${String(p[k])}`).join(', ')
  return [
    sectionStart(key),
    `## bench:gossip against node count, ${networkTitle(key)}`,
    '',
    `Each cell: tzp2p / @libp2p/gossipsub on the same edges and blocks in the same run (ratio). Measured ${measured}; ${params}; ` +
      `loads at the end of each size: ${results.map(r => `${String(r.params.nodes)} nodes ${JSON.stringify(r.params.loadAverage)}`).join(', ')}.`,
    '',
    table,
    sectionEnd(key)
  ].join('\n')
}

/** `document` with its section of the same key replaced by `section`, or `section` appended. */
export function upsertSection (document: string, section: string): string {
  const key = /^<!-- gossip-scaling:(.+):start -->/.exec(section)?.[1]
  if (key === undefined) throw new ScalingTableError('not a gossip-scaling section')
  const start = document.indexOf(sectionStart(key))
  const end = document.indexOf(sectionEnd(key))
  if (start >= 0 && end > start) return document.slice(0, start) + section + document.slice(end + sectionEnd(key).length)
  return `${document.replace(/\n*$/, '')}\n\n${section}\n`
}

/** Every gossip-scaling section of `document`, to carry over when `npm run bench` rewrites the file. */
export function scalingSections (document: string): string[] {
  return [...document.matchAll(/<!-- gossip-scaling:(.+?):start -->[\s\S]*?<!-- gossip-scaling:\1:end -->/g)].map(m => m[0])
}
