import { z } from 'zod'
import { SETTINGS, SETTINGS_BY_KEY, type SettingSpec } from './settings.ts'
import { NETWORK_PRESET_NAMES, OCTEZ_NETWORK_NAMES } from './presets.ts'
import { PROTOCOL_NAMES, type ProtocolName } from './values.ts'
import { closestNames, describeValue, type ConfigProblem } from './errors.ts'

/**
 * The zod schema of the config file, assembled from the settings table, and the translation of
 * zod's issues into problems that name the key, show the bad value, give the accepted form and,
 * for an unknown key, the closest known one.
 *
 * Every object is strict: a misspelt key must not silently leave a setting at its default.
 */

type Path = ReadonlyArray<PropertyKey>

/** `p2p.bootstrap-peers[2]`, `protocol.parameters.bootstrap-accounts[0].balance`. */
export function pathToKey (path: Path): string {
  let key = ''
  for (const segment of path) {
    if (typeof segment === 'number') key += `[${segment}]`
    else key += key === '' ? String(segment) : `.${String(segment)}`
  }
  return key
}

/** The settings-table form of a key: list indices become `[]`. */
const tableKey = (key: string): string => key.replace(/\[\d+\]/g, '[]')

/** The setting describing `key`, or for a list element the list's setting. */
export function settingFor (key: string): SettingSpec | undefined {
  const k = tableKey(key)
  return SETTINGS_BY_KEY.get(k) ?? SETTINGS_BY_KEY.get(k.replace(/\[\]$/, ''))
}

/** Names of the direct children of `prefix` (`''`, `p2p.`, `x[].`) among `settings`. */
function childNames (prefix: string, settings: readonly SettingSpec[]): string[] {
  const names = new Set<string>()
  for (const s of settings) {
    if (!s.key.startsWith(prefix) || s.key === prefix) continue
    const rest = s.key.slice(prefix.length)
    names.add(rest.split('.')[0].replace(/\[\]$/, ''))
  }
  return [...names]
}

const inProtocolParameters = (s: SettingSpec): boolean => s.key.startsWith('protocol.parameters.')

/** The settings that exist for `protocol.parameters` of one protocol. */
function parameterSettings (name: ProtocolName): SettingSpec[] {
  return SETTINGS.filter(s => inProtocolParameters(s) && s.protocols?.includes(name) === true)
}

function objectSchema (prefix: string, settings: readonly SettingSpec[]): z.ZodType {
  const shape: Record<string, z.ZodType> = {}
  for (const name of childNames(prefix, settings)) {
    const key = prefix + name
    const spec = SETTINGS_BY_KEY.get(key)
    let schema: z.ZodType
    if (key === 'protocol') schema = protocolSchema()
    else if (spec?.schema !== undefined) schema = spec.schema
    else if (settings.some(s => s.key.startsWith(`${key}[].`))) schema = z.array(objectSchema(`${key}[].`, settings))
    else schema = objectSchema(`${key}.`, settings)
    if (key === 'network') schema = z.union([z.enum(NETWORK_PRESET_NAMES), schema])
    shape[name] = isRequired(key, settings) ? schema : schema.optional()
  }
  return z.strictObject(shape)
}

/** A key is required if its row says so, or, for an object without a row, if one of its own leaves is. */
function isRequired (key: string, settings: readonly SettingSpec[]): boolean {
  const spec = SETTINGS_BY_KEY.get(key)
  if (spec !== undefined) return spec.required === true
  return settings.some(s => s.required === true && s.key.startsWith(`${key}.`) && !s.key.slice(key.length + 1).includes('.'))
}

const parameterSchemas = new Map<ProtocolName, z.ZodType>()
export function protocolParametersSchema (name: ProtocolName): z.ZodType {
  let schema = parameterSchemas.get(name)
  if (schema === undefined) {
    schema = objectSchema('protocol.parameters.', parameterSettings(name))
    parameterSchemas.set(name, schema)
  }
  return schema
}

/** `protocol`: which parameters are valid depends on `name` (default `demo`). */
function protocolSchema (): z.ZodType {
  return z.strictObject({
    name: SETTINGS_BY_KEY.get('protocol.name')?.schema?.optional() ?? z.never(),
    parameters: z.unknown().optional()
  }).superRefine((protocol, ctx) => {
    const name = (protocol.name ?? 'demo') as ProtocolName
    const parsed = protocolParametersSchema(name).safeParse(protocol.parameters ?? {})
    if (parsed.success) return
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['parameters', ...issue.path] })
  })
}

let fileSchema: z.ZodType | undefined
/** The schema of the whole config file (JSON values only; see `load.ts` for the resolved form). */
export function configFileSchema (): z.ZodType {
  fileSchema ??= objectSchema('', SETTINGS.filter(s => !inProtocolParameters(s)))
  return fileSchema
}

// --- issues → problems -----------------------------------------------------------------------------

function valueAtPath (json: unknown, path: Path): unknown {
  let node = json
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<PropertyKey, unknown>)[segment]
  }
  return node
}

/** Names valid at `path` (an object in the file), for "did you mean". */
function knownNamesAt (path: Path, json: unknown): string[] {
  const prefix = tableKey(pathToKey(path))
  if (prefix.startsWith('protocol.parameters')) {
    const name = valueAtPath(json, ['protocol', 'name'])
    const protocol = (PROTOCOL_NAMES as readonly unknown[]).includes(name) ? name as ProtocolName : 'demo'
    return childNames(`${prefix}.`, parameterSettings(protocol))
  }
  return childNames(prefix === '' ? '' : `${prefix}.`, SETTINGS)
}

function unknownKeyProblem (path: Path, name: string, json: unknown): ConfigProblem {
  const key = pathToKey([...path, name])
  const parent = pathToKey(path)
  const known = knownNamesAt(path, json)
  const close = closestNames(name, known)
  let hint: string
  if (close.length > 0) {
    hint = `did you mean ${pathToKey([...path, close[0]])}?`
  } else {
    // A right key at the wrong level: `"min-connections"` directly under `p2p`.
    const elsewhere = SETTINGS.find(s => s.key.split('.').pop() === name && s.key !== key)
    hint = elsewhere !== undefined
      ? `did you mean ${elsewhere.key}? (${name} is not a key of ${parent === '' ? 'the top level' : parent})`
      : `remove it; the keys of ${parent === '' ? 'the top level' : parent} are ${known.join(', ')}`
  }
  if (parent === 'protocol.parameters' && close.length === 0) {
    const name = valueAtPath(json, ['protocol', 'name'])
    const protocol = typeof name === 'string' ? name : 'demo'
    hint = `not a parameter of the ${protocol} protocol; its parameters are ${known.join(', ')}`
  }
  return { key, message: 'unknown key', hint }
}

/** For a union, the branch meant by the value's JSON type (the one not failing at its root on type). */
function meantBranch (errors: ReadonlyArray<ReadonlyArray<z.core.$ZodIssue>>): ReadonlyArray<z.core.$ZodIssue> | undefined {
  const matching = errors.filter(issues => !issues.some(i => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')))
  return matching.length === 1 ? matching[0] : undefined
}

function networkHint (value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  if ((OCTEZ_NETWORK_NAMES as readonly string[]).includes(value)) {
    return `tzp2p has no preset for Tezos's ${value}; use "devnet", "mainnet", "ghostnet" or describe a network object`
  }
  const close = closestNames(value, NETWORK_PRESET_NAMES)
  return close.length > 0 ? `did you mean "${close[0]}"?` : undefined
}

/** zod issues (relative to `base`) as problems naming keys of `json`. */
export function issuesToProblems (issues: ReadonlyArray<z.core.$ZodIssue>, json: unknown, base: Path = []): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const issue of issues) {
    const path = [...base, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      for (const name of issue.keys) problems.push(unknownKeyProblem(path, name, json))
      continue
    }
    if (issue.code === 'invalid_union') {
      const branch = meantBranch(issue.errors)
      if (branch !== undefined) {
        problems.push(...issuesToProblems(branch, json, path))
        continue
      }
    }
    const key = pathToKey(path)
    const value = valueAtPath(json, path)
    const problem: ConfigProblem = {
      key,
      message: value === undefined ? 'missing' : issue.code === 'custom' ? `got ${describeValue(value)}: ${issue.message}` : `got ${describeValue(value)}`
    }
    const expected = settingFor(key)?.accepts
    if (expected !== undefined) problem.expected = expected
    if (key === 'network') {
      const hint = networkHint(value)
      if (hint !== undefined) problem.hint = hint
    }
    problems.push(problem)
  }
  return problems
}

// --- keys without effect -------------------------------------------------------------------------

export interface EffectReport {
  /** One line per Octez key present that tzp2p ignores. */
  warnings: string[]
  /** Octez keys tzp2p refuses (TLS). */
  problems: ConfigProblem[]
}

/** Finds the keys of `json` marked `none` or `refused` in the settings table. */
export function reportKeysWithoutEffect (json: unknown): EffectReport {
  const report: EffectReport = { warnings: [], problems: [] }
  for (const s of SETTINGS) {
    if (s.effect === undefined || valueAtPath(json, s.key.split('.')) === undefined) continue
    if (s.effect === 'none') report.warnings.push(`${s.key}: Octez setting without effect in tzp2p; ignored`)
    else report.problems.push({ key: s.key, message: 'not supported', hint: `remove it: ${s.description.replace(/^Refused: /, '')}` })
  }
  return report
}
