import { DEFAULT_P2P_LIMITS, InvalidConnectionsError, InvalidLimitsError, limitsFromConnections, type P2pLimits } from '../peers/limits.ts'
import { p2pLimitsFromJson, p2pLimitsToJson } from './limits-json.ts'
import type { ConfigProblem } from './errors.ts'

/**
 * `p2p.limits` with the command line applied: `--connections N` (Octez: min/expected/max =
 * N/2, N, 3N/2, tables of 8N, synchronisation threshold max(N/4, 2)) and `--peer-table-size`,
 * then the relations between limits checked with messages that say which key to change.
 */
export interface LimitsInput {
  /** The `p2p.limits` object of the file and flags (only what was given; defaults fill the rest). */
  json: Record<string, unknown>
  connections?: number
  peerTableSize?: number
  allowAbove100: boolean
  /** Flag that set a limits key (`min-connections` → `--connections`). */
  origins: Map<string, string>
}

export interface LimitsOutput {
  limits?: P2pLimits
  /** The threshold `--connections` implies, if given. */
  synchronisationThreshold?: number
  problems: ConfigProblem[]
}

const key = (name: string): string => `p2p.limits.${name}`

export function resolveLimits (input: LimitsInput): LimitsOutput {
  const json: Record<string, unknown> = { ...input.json }
  const origins = new Map(input.origins)
  const problems: ConfigProblem[] = []
  let synchronisationThreshold: number | undefined
  if (input.connections !== undefined) {
    try {
      const settings = limitsFromConnections(input.connections, DEFAULT_P2P_LIMITS, {
        allowAbove100: input.allowAbove100,
        ...(input.peerTableSize !== undefined ? { peerTableSize: input.peerTableSize } : {})
      })
      const derived = p2pLimitsToJson(settings.limits)
      for (const name of ['min-connections', 'expected-connections', 'max-connections', 'max_known_points', 'max_known_peer_ids']) {
        json[name] = derived[name]
        origins.set(name, name.startsWith('max_known') && input.peerTableSize !== undefined ? '--peer-table-size' : '--connections')
      }
      synchronisationThreshold = settings.synchronisationThreshold
    } catch (e) {
      if (!(e instanceof InvalidConnectionsError)) throw e
      const tooMany = input.connections > 100
      problems.push({
        key: 'p2p.limits.expected-connections',
        flag: '--connections',
        message: `got ${input.connections}`,
        expected: tooMany ? 'at most 100' : 'a positive integer',
        hint: tooMany ? 'more connections degrade the node; lower it, or pass --disable-config-validation (or set p2p.limits in the config file) to go beyond' : e.message
      })
      return { problems }
    }
  } else if (input.peerTableSize !== undefined) {
    const n = input.peerTableSize
    json.max_known_points = [n, Math.floor(n / 4) * 3]
    json.max_known_peer_ids = [n, Math.floor(n / 4) * 3]
    origins.set('max_known_points', '--peer-table-size')
    origins.set('max_known_peer_ids', '--peer-table-size')
  }

  problems.push(...relationProblems(json, origins))
  if (problems.length > 0) return { problems }
  try {
    return { limits: p2pLimitsFromJson(json), ...(synchronisationThreshold !== undefined ? { synchronisationThreshold } : {}), problems }
  } catch (e) {
    if (!(e instanceof InvalidLimitsError)) throw e
    // Every relation is checked above; anything left is a range the schema let through.
    return { problems: e.problems.map(p => withOrigin({ key: key(p.key), message: p.message }, p.key, origins)) }
  }
}

function withOrigin (problem: ConfigProblem, name: string, origins: Map<string, string>): ConfigProblem {
  const flag = origins.get(name)
  return flag === undefined ? problem : { ...problem, flag }
}

/**
 * The relations Octez checks (and `validateP2pLimits` enforces), on the effective values, each
 * reported on the key that is out of line with a way to fix it.
 */
function relationProblems (json: Record<string, unknown>, origins: Map<string, string>): ConfigProblem[] {
  const defaults = p2pLimitsToJson(DEFAULT_P2P_LIMITS)
  const get = (name: string): unknown => json[name] !== undefined ? json[name] : defaults[name]
  const min = get('min-connections') as number
  const expected = get('expected-connections') as number
  const max = get('max-connections') as number
  const problems: ConfigProblem[] = []
  const add = (name: string, message: string, hint: string): void => { problems.push(withOrigin({ key: key(name), message, hint }, name, origins)) }
  if (min > expected) {
    add('min-connections', `must be ≤ expected-connections (${expected}), got ${min}`, `lower it or raise ${key('expected-connections')}`)
  }
  if (expected > max) {
    add('expected-connections', `must be ≤ max-connections (${max}), got ${expected}`, `lower it or raise ${key('max-connections')}`)
  }
  for (const name of ['max_known_points', 'max_known_peer_ids']) {
    const bound = get(name) as [number, number] | null
    if (bound === null) continue
    const [size, target] = bound
    if (target > size) add(name, `the GC target (${target}) must be ≤ the table size (${size})`, `write [size, target] with target ≤ size, e.g. [${size}, ${Math.floor(size / 4) * 3}]`)
    else if (max > target) {
      add(name, `the GC target (${target}) must be ≥ max-connections (${max}), or connected peers could not all be kept`,
        `raise it (e.g. [${Math.max(size, max * 2)}, ${Math.max(target, Math.ceil(max * 1.5))}]) or lower ${key('max-connections')}`)
    }
  }
  const reserved = get('reserved-outbound-connections') as number | null
  if (reserved !== null && reserved > max) {
    add('reserved-outbound-connections', `must be ≤ max-connections (${max}), got ${reserved}`, `lower it or raise ${key('max-connections')}`)
  }
  return problems
}
