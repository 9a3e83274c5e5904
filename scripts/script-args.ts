/**
 * Command-line parsing for the scripts behind `npm run bench:*`, `fuzz` and `soak`: Node's
 * `parseArgs`, plus `--help`/`-h` (the usage line and every option with its default, exit 0) and
 * one-line errors (exit 2) instead of a stack trace for an unknown or malformed option.
 */
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util'

/** An option of `parseArgs` with what `--help` says of it. */
export type DescribedOption = ParseArgsOptionDescriptor & {
  /** What it sets, for `--help`. */
  description: string
  /** The value's name in `--help` (`--blocks <N>`); `value` by default. */
  placeholder?: string
  /** The default as `--help` shows it, when it is computed rather than given as `default`. */
  defaultText?: string
}

export interface ScriptSpec<O extends Record<string, DescribedOption>> {
  /** How the script is run, e.g. `npm run bench:pow --`. */
  command: string
  /** One paragraph on what it does. */
  summary: string
  options: O
  /** Positional arguments, as the usage line shows them (e.g. `<file.cpuprofile>`); none if unset. */
  positionals?: string
  /** The arguments; `process.argv.slice(2)` by default. */
  args?: string[]
}

/** The scripts' help text: usage line, summary, then one line per option. */
export function scriptHelp<O extends Record<string, DescribedOption>> (spec: ScriptSpec<O>): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short !== undefined ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` <${o.placeholder ?? 'value'}>` : ''}`
    const shown = o.defaultText ?? (o.default !== undefined && o.default !== false ? String(o.default) : undefined)
    return [flag, `${o.description}${shown !== undefined ? ` (default: ${shown})` : ''}`]
  })
  rows.push(['-h, --help', 'print this help and exit'])
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return [
    `Usage: ${spec.command} ${spec.positionals !== undefined ? `${spec.positionals} ` : ''}[options]`,
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`)
  ].join('\n') + '\n'
}

/**
 * Parses the script's arguments. `--help` or `-h` prints the help and exits with 0; a bad option
 * prints one line naming it and exits with 2.
 */
export function parseScriptArgs<O extends Record<string, DescribedOption>> (spec: ScriptSpec<O>): ReturnType<typeof parseArgs<{ options: O, allowPositionals: true }>> {
  const args = spec.args ?? process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(scriptHelp(spec))
    process.exit(0)
  }
  try {
    const parsed = parseArgs({ args, options: spec.options, allowPositionals: true })
    if (spec.positionals === undefined && parsed.positionals.length > 0) {
      fail(spec, `unexpected argument ${JSON.stringify(parsed.positionals[0])}`)
    }
    return parsed
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node's text goes on about positionals after `--`, which these scripts do not take.
      fail(spec, `unknown option ${/'[^']*'/.exec((e as Error).message)?.[0] ?? ''}`)
    }
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) fail(spec, (e as Error).message)
    throw e
  }
}

function fail (spec: ScriptSpec<Record<string, DescribedOption>>, message: string): never {
  process.stderr.write(`${spec.command.replace(/ --$/, '')}: ${message.split('\n')[0]} (--help lists the options)\n`)
  process.exit(2)
}
