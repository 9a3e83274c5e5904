import { readFile, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DATA_DIR_ENV, DEFAULT_DATA_DIR_NAME } from '../identity/data-dir.ts'
import { ConfigError, ConfigFileError, type ConfigProblem } from './errors.ts'
import { flagsToConfigOverrides, isConfigOverrides, type ConfigOverrides } from './flags.ts'
import type { NodeConfig } from './node-config.ts'
import { NETWORK_PRESET_NAMES, networkPreset, type NetworkPresetName } from './presets.ts'
import { resolveNodeConfig } from './resolve.ts'
import { configFileSchema, issuesToProblems, reportKeysWithoutEffect } from './schema.ts'
import { putPolicy } from '../rpc/acl-policy.ts'

/** Octez's name for the config file in the data dir. */
export const CONFIG_FILE_NAME = 'config.json'

/** A config file is a few kilobytes; anything this large is not one. */
export const MAX_CONFIG_FILE_BYTES = 1 << 20

export interface LoadConfigOptions {
  /** Config file to read. Default: `--config-file`, else `<data-dir>/config.json` when it exists. */
  file?: string
  /** `tzp2p run` options as commander parsed them, or overrides from `flagsToConfigOverrides`. */
  cliFlags?: Record<string, unknown> | ConfigOverrides
  /** For `$TZP2P_DATA_DIR`; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Relative paths are resolved against it; default `process.cwd()`. */
  cwd?: string
}

/**
 * The node's configuration: defaults < config file < command-line flags, checked as a whole.
 * Throws a `ConfigError` (a `ConfigFileError` for a file that is missing, unreadable or not JSON)
 * naming every bad key or flag.
 */
export async function loadConfig (options: LoadConfigOptions = {}): Promise<NodeConfig> {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const overrides = toOverrides(options.cliFlags)
  const explicit = options.file ?? overrides.configFile
  let file: string | null
  let json: unknown = {}
  if (explicit !== undefined) {
    file = resolve(cwd, explicit)
    json = await readConfigFile(file, options.file !== undefined ? undefined : '--config-file')
  } else {
    const implicit = join(dataDirBeforeFile(overrides, env, cwd), CONFIG_FILE_NAME)
    const found = await stat(implicit).then(s => s.isFile(), () => false)
    file = found ? implicit : null
    if (found) json = await readConfigFile(implicit)
  }
  return resolveConfig(json, overrides, { env, cwd, configFile: file })
}

export interface ResolveConfigOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** The file `json` came from, for messages and `NodeConfig.configFile`. */
  configFile?: string | null
}

/** As `loadConfig`, from a config object already in memory (embedding, tests). */
export function resolveConfig (json: unknown, cliFlags: Record<string, unknown> | ConfigOverrides = {}, options: ResolveConfigOptions = {}): NodeConfig {
  const overrides = toOverrides(cliFlags)
  const file = options.configFile ?? null
  const errorOptions = file !== null ? { file } : {}
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError([{ key: '', message: 'the config file must hold a JSON object', expected: '{ "p2p": { … }, "rpc": { … }, … }' }], errorOptions)
  }
  // The file alone first, so that its problems are never blamed on a flag.
  const schema = configFileSchema()
  const fromFile = schema.safeParse(json)
  const effects = reportKeysWithoutEffect(json)
  const fileProblems = [...(fromFile.success ? [] : issuesToProblems(fromFile.error.issues, json)), ...effects.problems]
  if (fileProblems.length > 0) throw new ConfigError(fileProblems, errorOptions)

  const { merged, origins } = applyOverrides(json as Record<string, unknown>, overrides)
  const checked = schema.safeParse(merged)
  if (!checked.success) throw new ConfigError(withFlags(issuesToProblems(checked.error.issues, merged), origins), errorOptions)

  const result = resolveNodeConfig(merged, {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    configFile: file,
    origins,
    peers: overrides.peers,
    noBootstrapPeers: overrides.noBootstrapPeers,
    ...(overrides.connections !== undefined ? { connections: overrides.connections } : {}),
    ...(overrides.peerTableSize !== undefined ? { peerTableSize: overrides.peerTableSize } : {})
  })
  const problems = withFlags(result.problems, origins)
  if (problems.length > 0 || result.config === undefined) throw new ConfigError(problems, errorOptions)
  result.config.warnings.unshift(...effects.warnings)
  return result.config
}

function toOverrides (cliFlags: Record<string, unknown> | ConfigOverrides | undefined): ConfigOverrides {
  if (cliFlags === undefined) return { set: [], append: [], peers: [], noBootstrapPeers: false }
  return isConfigOverrides(cliFlags) ? cliFlags : flagsToConfigOverrides(cliFlags)
}

/** Where to look for `config.json` when no file is named: `--data-dir`, else `$TZP2P_DATA_DIR`, else `~/.tzp2p`. */
function dataDirBeforeFile (overrides: ConfigOverrides, env: NodeJS.ProcessEnv, cwd: string): string {
  const flag = overrides.set.find(o => o.key === 'data-dir')?.value
  if (typeof flag === 'string') return resolve(cwd, flag)
  const fromEnv = env[DATA_DIR_ENV]
  return fromEnv !== undefined && fromEnv !== '' ? resolve(cwd, fromEnv) : join(homedir(), DEFAULT_DATA_DIR_NAME)
}

/** Problems on keys a flag set name that flag. */
function withFlags (problems: ConfigProblem[], origins: Map<string, string>): ConfigProblem[] {
  return problems.map(p => {
    if (p.flag !== undefined) return p
    const bare = p.key.replace(/\[\d+\].*$/, '')
    for (const [key, flag] of origins) {
      if (bare === key || bare.startsWith(`${key}.`)) return { ...p, flag }
    }
    return p
  })
}

function setAt (json: Record<string, unknown>, key: string, value: unknown): void {
  const segments = key.split('.')
  let node = json
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment]
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {}
    node = node[segment] as Record<string, unknown>
  }
  node[segments[segments.length - 1]] = value
}

function getAt (json: Record<string, unknown>, key: string): unknown {
  let node: unknown = json
  for (const segment of key.split('.')) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined
  return node
}

/**
 * The file with the flags applied. A flag setting a key inside `network` turns a preset name into
 * the object it stands for first (`--chain-name` on the devnet keeps the devnet genesis).
 */
export function applyOverrides (json: Record<string, unknown>, overrides: ConfigOverrides): { merged: Record<string, unknown>, origins: Map<string, string> } {
  const merged = structuredClone(json)
  const origins = new Map<string, string>()
  const networkFlag = overrides.set.find(o => o.key === 'network')
  if (networkFlag !== undefined) {
    merged.network = networkFlag.value
    origins.set('network', networkFlag.flag)
  }
  if (overrides.set.some(o => o.key.startsWith('network.'))) {
    const network = merged.network ?? 'devnet'
    if (typeof network === 'string' && (NETWORK_PRESET_NAMES as readonly string[]).includes(network)) {
      merged.network = networkPreset(network as NetworkPresetName)
    }
  }
  for (const o of overrides.set) {
    if (o.key === 'network') continue
    setAt(merged, o.key, structuredClone(o.value))
    origins.set(o.key, o.flag)
  }
  for (const o of overrides.append) {
    const current = getAt(merged, o.key)
    const existing: unknown[] = Array.isArray(current) ? current : []
    setAt(merged, o.key, [...existing, ...o.values])
  }
  // Octez's `--allow-all-rpc`: an allow-all entry put in place of the one for that address (`put_policy`).
  for (const address of overrides.allowAllRpc ?? []) {
    const current = getAt(merged, 'rpc.acl')
    setAt(merged, 'rpc.acl', putPolicy<{ address: string, blacklist?: string[] }>(Array.isArray(current) ? current as Array<{ address: string }> : [], { address, blacklist: [] }))
    origins.set('rpc.acl', '--allow-all-rpc')
  }
  return { merged, origins }
}

/**
 * Reads and parses a config file. `flag` names the option that named the file, for the message
 * of a missing file. JSON syntax errors carry their line and column.
 */
export async function readConfigFile (file: string, flag?: string): Promise<unknown> {
  let text: string
  try {
    const info = await stat(file)
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
    if (info.size > MAX_CONFIG_FILE_BYTES) {
      throw new ConfigFileError(file, 'ETOOBIG', { key: '', ...(flag !== undefined ? { flag } : {}), message: `the file is ${info.size} bytes, more than a config file can be (${MAX_CONFIG_FILE_BYTES})` })
    }
    text = await readFile(file, 'utf8')
  } catch (e) {
    if (e instanceof ConfigFileError) throw e
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO'
    const message = code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code})`
    const hint = code === 'ENOENT'
      ? `check the path, or create one with \`tzp2p config init --data-dir <dir>\`${flag !== undefined ? ` (or drop ${flag} to use <data-dir>/${CONFIG_FILE_NAME})` : ''}`
      : undefined
    throw new ConfigFileError(file, code, { key: '', ...(flag !== undefined ? { flag } : {}), message, ...(hint !== undefined ? { hint } : {}) }, undefined, e)
  }
  return parseConfigText(text, file)
}

/** `JSON.parse` with the position of a syntax error as line and column. */
export function parseConfigText (text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return JSON.parse(body)
  } catch (e) {
    const reason = (e as Error).message
    const offset = syntaxErrorOffset(reason, body)
    const position = lineAndColumn(body, offset)
    const detail = reason.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/^Unexpected end of JSON input$/, 'the text ends before the JSON does')
    throw new ConfigFileError(file, 'EJSON', {
      key: '',
      message: `malformed JSON at line ${position.line}, column ${position.column}: ${detail}`,
      hint: 'fix the syntax (keys and strings in double quotes, no trailing commas, no comments)'
    }, position, e)
  }
}

function syntaxErrorOffset (message: string, text: string): number {
  const m = /at position (\d+)/.exec(message)
  if (m !== null) return Number(m[1])
  const lc = /\(line (\d+) column (\d+)\)/.exec(message)
  if (lc !== null) {
    const lines = text.split('\n')
    return lines.slice(0, Number(lc[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1
  }
  return text.length
}

/** 1-based line and column of a character offset. */
export function lineAndColumn (text: string, offset: number): { line: number, column: number } {
  const before = text.slice(0, Math.min(offset, text.length))
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return { line, column }
}
