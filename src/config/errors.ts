/**
 * Configuration errors. Every problem names where the bad value came from — the config-file key
 * (`p2p.limits.min-connections`) or the command-line flag (`--connections`) — what is wrong, the
 * accepted form and how to fix it, so that a user never has to guess which setting to change.
 */

/** One problem in the configuration. */
export interface ConfigProblem {
  /** Config-file key path, e.g. `p2p.limits.min-connections` or `p2p.bootstrap-peers[2]`. */
  key: string
  /** The flag the value came from, when it came from the command line. */
  flag?: string
  /** What is wrong, e.g. `got "ten"`. */
  message: string
  /** The accepted form, e.g. `an integer from 0 to 65535`. */
  expected?: string
  /** How to fix it, e.g. `lower it or raise p2p.limits.expected-connections`. */
  hint?: string
}

/** Renders one problem as one line: `where: what; expected … — hint`. */
export function formatProblem (p: ConfigProblem): string {
  const where = p.flag !== undefined
    ? (p.key !== '' && p.key !== p.flag ? `${p.flag} (config key ${p.key})` : p.flag)
    : p.key
  let text = where === '' ? p.message : `${where}: ${p.message}`
  if (p.expected !== undefined) text += `; expected ${p.expected}`
  if (p.hint !== undefined) text += ` — ${p.hint}`
  return text
}

/**
 * A configuration that cannot be used: a bad value in the config file or on the command line,
 * inconsistent settings, a missing or malformed config file. `problems` lists every problem found
 * (the message names them all); `key` and `flag` are those of the first.
 */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError'
  readonly problems: readonly ConfigProblem[]
  /** Key path of the first problem (`''` for a problem with the file as a whole). */
  readonly key: string
  /** Flag of the first problem, if it came from the command line. */
  readonly flag?: string
  /** The config file involved, if any. */
  readonly file?: string

  constructor (problems: readonly ConfigProblem[], options: { file?: string, cause?: unknown, headline?: string } = {}) {
    const lines = problems.map(formatProblem)
    const headline = options.headline ?? `invalid configuration${options.file !== undefined ? ` in ${options.file}` : ''}`
    const message = lines.length === 1
      ? `${headline}: ${lines[0]}`
      : `${headline} (${lines.length} problems):\n${lines.map(l => `  - ${l}`).join('\n')}`
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined)
    this.problems = problems
    this.key = problems[0]?.key ?? ''
    const flag = problems[0]?.flag
    if (flag !== undefined) this.flag = flag
    if (options.file !== undefined) this.file = options.file
  }
}

/** The config file named by `--config-file` (or the given path) does not exist or cannot be read. */
export class ConfigFileError extends ConfigError {
  override readonly name = 'ConfigFileError'
  /** `ENOENT`, `EACCES`, … or `EJSON` for malformed JSON, `ETOOBIG` for an oversized file. */
  readonly code: string
  /** 1-based position of a JSON syntax error. */
  readonly line?: number
  readonly column?: number

  /** The message reads `config file <file>: <problem>`. */
  constructor (file: string, code: string, problem: ConfigProblem, position?: { line: number, column: number }, cause?: unknown) {
    super([problem], { file, cause, headline: `config file ${file}` })
    this.code = code
    if (position !== undefined) {
      this.line = position.line
      this.column = position.column
    }
  }
}

/** Levenshtein distance (insertions, deletions, substitutions), for "did you mean" suggestions. */
export function editDistance (a: string, b: string): number {
  if (a === b) return 0
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]
}

/**
 * The known names closest to `name`, best first: those within a third of the name's length
 * (at least 2 edits), ignoring case and the `-`/`_` difference Octez's own keys mix.
 */
export function closestNames (name: string, known: Iterable<string>, max = 3): string[] {
  const norm = (s: string): string => s.toLowerCase().replace(/_/g, '-')
  const target = norm(name)
  const limit = Math.max(2, Math.floor(name.length / 3))
  return [...new Set(known)]
    .map(k => ({ k, d: norm(k) === target ? 0 : editDistance(target, norm(k)) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, max)
    .map(({ k }) => k)
}

/** `"text"`, `42`, `true`, `null`, `an object`, `a list`: how a bad value is shown in messages. */
export function describeValue (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return typeof value === 'symbol' ? value.toString() : 'a function'
}
