/**
 * The one JSON shape every `scripts/bench/*.ts` writes with `--json <file>`, read back by
 * `scripts/bench/all.ts` (`npm run bench`) to build the results table. A benchmark prints its
 * human-readable figures as before and, when `--json <file>` is on its command line, also writes
 * one `BenchResult` there.
 */
import { writeFile } from 'node:fs/promises'

export interface BenchReference {
  /** What the figure is compared with, e.g. `@libp2p/gossipsub` or `native C loop`. */
  name: string
  value: number
}

export interface BenchFigure {
  /** What is measured, e.g. `p99 bake→arrival`. */
  name: string
  /** Unit of `value` (and of `reference.value`), e.g. `ms`, `blocks/s`, `KiB`. */
  unit: string
  value: number
  /** The same quantity measured in the same run on the reference, when there is one. */
  reference?: BenchReference
  /** value / reference.value (or the ratio the goal is stated in). */
  ratio?: number
  /** The goal, as people read it: `≤ 1.0× gossipsub`, `≥ 5 000 blocks/s`. */
  goal?: string
  met?: boolean
}

export interface BenchResult {
  /** Short name: `pow`, `handshake`, `sync`, `gossip`, `peers`. */
  bench: string
  /** The command that runs it on its own, e.g. `npm run bench:gossip`. */
  command: string
  /** The parameters of this run (sizes, durations), for the reader of the table. */
  params: Record<string, unknown>
  figures: BenchFigure[]
}

/** The file named by `--json <file>` (or `--json=<file>`) in `argv`, if any. */
export function jsonOutputPath (argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--json') {
      const next = argv[i + 1]
      return next !== undefined && !next.startsWith('--') ? next : undefined
    }
    if (a.startsWith('--json=')) return a.slice('--json='.length)
  }
  return undefined
}

/** Writes `result` to the `--json <file>` of `argv`; does nothing without that option. */
export async function writeBenchJson (argv: string[], result: BenchResult): Promise<void> {
  const path = jsonOutputPath(argv)
  if (path === undefined || path === '') return
  await writeFile(path, JSON.stringify(result, null, 2) + '\n')
}
