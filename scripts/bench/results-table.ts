/**
 * The markdown `npm run bench` writes: the machine, then one table with every figure beside its
 * reference, ratio, goal and whether the goal is met; and the README section holding the same.
 */
import type { BenchFigure, BenchResult } from './results.ts'

export const README_START = '<!-- bench-results:start -->'
export const README_END = '<!-- bench-results:end -->'

export interface Machine {
  /** ISO date of the start of the run. */
  date: string
  cpu: string
  cores: number
  ramGiB: number
  node: string
  /** 1-minute load average when the run began. */
  loadAverage: number
  commit?: string
  quick: boolean
}

/** One benchmark of a run: its result, or why there is none. */
export interface BenchRun {
  name: string
  seconds: number
  result?: BenchResult
  error?: string
}

export class ReadmeMarkersError extends Error {
  override readonly name = 'ReadmeMarkersError'
}

/** A figure for people: 3 significant digits, thousands separated by a thin space. */
export function formatNumber (value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
  const [whole, fraction] = value.toFixed(digits).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')
  return fraction === undefined ? grouped : `${grouped}.${fraction}`
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function figureRow (command: string, f: BenchFigure): string {
  const unit = f.unit === '×' ? '×' : ` ${f.unit}`
  const value = `${formatNumber(f.value)}${unit}`
  const reference = f.reference === undefined ? '—' : `${f.reference.name}: ${formatNumber(f.reference.value)}${unit}`
  const ratio = f.ratio === undefined ? '—' : `${formatNumber(f.ratio)}×`
  const met = f.met === undefined ? '—' : f.met ? 'yes' : '**no**'
  return `| \`${command}\` | ${cell(f.name)} | ${cell(value)} | ${cell(reference)} | ${ratio} | ${cell(f.goal ?? '—')} | ${met} |`
}

/** A parameter's value as the table shows it: strings bare, everything else as JSON. */
function paramText (v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === undefined) return String(v)
  return JSON.stringify(v)
}

function paramsLine (r: BenchResult): string {
  const params = Object.entries(r.params).map(([k, v]) => `${k} ${paramText(v)}`).join(', ')
  return `- \`${r.command}\`: ${params === '' ? 'defaults' : params}`
}

export function machineLine (m: Machine): string {
  return `${m.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cpu}, ${m.cores} cores, ${m.ramGiB.toFixed(0)} GiB RAM, ` +
    `Node ${m.node}, load average ${m.loadAverage.toFixed(2)} at start${m.commit === undefined ? '' : `, commit ${m.commit}`}` +
    (m.quick ? ' — **quick run** (short parameters; not the reference figures)' : '')
}

export function renderTable (runs: readonly BenchRun[]): string {
  const rows = ['| command | figure | tzp2p | reference (same run) | ratio | goal | met |', '|---|---|---|---|---|---|---|']
  for (const run of runs) {
    if (run.result === undefined) rows.push(`| \`npm run bench:${run.name}\` | — | failed: ${cell(run.error ?? 'no result')} | — | — | — | — |`)
    else for (const f of run.result.figures) rows.push(figureRow(run.result.command, f))
  }
  return rows.join('\n')
}

export interface RenderedResults {
  /** The whole `bench-results.md`. */
  document: string
  table: string
  /** What goes between the README markers: the machine line, the table, the parameters. */
  section: string
}

export function renderMarkdown (machine: Machine, runs: readonly BenchRun[]): RenderedResults {
  const table = renderTable(runs)
  const params = runs.flatMap(r => r.result === undefined ? [] : [paramsLine(r.result)])
  const section = [
    `Measured ${machineLine(machine)}.`,
    '',
    table,
    '',
    'Parameters of this run:',
    ...params
  ].join('\n')
  const durations = runs.map(r => `${r.name} ${formatNumber(r.seconds)} s`).join(', ')
  const document = ['# tzp2p benchmark results', '', `Written by \`npm run bench${machine.quick ? ' -- --quick' : ''}\`.`, '', section, '', `Durations: ${durations}.`, ''].join('\n')
  return { document, table, section }
}

/** README.md with the text between the benchmark markers replaced by `section`. */
export function replaceReadmeSection (readme: string, section: string): string {
  const start = readme.indexOf(README_START)
  const end = readme.indexOf(README_END)
  if (start < 0 || end < 0 || end < start) throw new ReadmeMarkersError(`README.md has no ${README_START} … ${README_END} section`)
  return `${readme.slice(0, start + README_START.length)}\n${section}\n${readme.slice(end)}`
}
