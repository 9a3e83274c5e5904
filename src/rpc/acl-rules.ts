/**
 * RPC access rules with Octez's syntax and matching (resto's `Resto_acl.Acl`, used by
 * `src/lib_rpc_http/RPC_server.ml`): a rule is an optional method then a path pattern, such as
 * `"GET /network/greylist/ips"`, `"/monitor/**"` or `"POST /injection/operation"`.
 *
 * - The method is one of GET, PUT, POST, PATCH, DELETE, written in capitals right at the start;
 *   without one the rule applies to every method. Spaces may separate it from the path.
 * - The path starts with `/`; its segments are split on `/` with empty segments dropped.
 * - `*` is any one whole segment; `**`, only as the last segment, is any suffix, including none
 *   (`/network/**` matches `/network` too).
 * - Any other segment is a literal, percent-decoded; `* ? & # =` inside it must be
 *   percent-encoded (`20%2A`), so a literal never mixes with a wildcard.
 *
 * A policy is Octez's `Deny_all { except }` (a whitelist: only matching requests pass) or
 * `Allow_all { except }` (a blacklist: matching requests are refused).
 */

export const ACL_METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'] as const
export type AclMethod = typeof ACL_METHODS[number]

/** A path segment of a rule: a literal (decoded) or `*`. */
export type AclSegment = { literal: string } | 'wildcard'

export interface AclRule {
  /** The rule as written (trimmed), to name it in answers and logs. */
  readonly text: string
  /** Undefined: any method. */
  readonly method?: AclMethod
  readonly segments: readonly AclSegment[]
  /** Ends with `**`: any suffix of the matched prefix. */
  readonly anySuffix: boolean
}

export type AclPolicy =
  /** Octez `Deny_all`: refuse everything but what a rule matches. */
  | { readonly kind: 'whitelist', readonly rules: readonly AclRule[] }
  /** Octez `Allow_all`: allow everything but what a rule matches. */
  | { readonly kind: 'blacklist', readonly rules: readonly AclRule[] }

/** Text that is not an access rule; `reason` says why. */
export class InvalidAclRuleError extends Error {
  override readonly name = 'InvalidAclRuleError'
  readonly text: string
  readonly reason: string
  constructor (text: string, reason: string) {
    super(`invalid RPC access rule ${JSON.stringify(text)}: ${reason}`)
    this.text = text
    this.reason = reason
  }
}

const MUST_BE_ENCODED = /[*?&#=]/

/** Resto's `split_path`: segments between slashes, empty ones dropped. */
function splitSegments (path: string): string[] {
  return path.split('/').filter(s => s !== '')
}

/** Octez's `Uri.pct_decode` is lenient: a malformed escape stays as written. */
function percentDecode (segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export function parseAclRule (text: string): AclRule {
  if (text.length === 0) throw new InvalidAclRuleError(text, 'empty (write "/**" for every path)')
  let method: AclMethod | undefined
  let offset = 0
  if (text[0] !== '/' && text[0] !== ' ') {
    method = ACL_METHODS.find(m => text.startsWith(m) && text.length > m.length)
    if (method === undefined) throw new InvalidAclRuleError(text, `it must start with "/" or with one of ${ACL_METHODS.join(', ')} (in capitals)`)
    offset = method.length
  }
  const slash = text.indexOf('/', offset)
  if (slash < 0) throw new InvalidAclRuleError(text, 'no path: a path starts with "/"')
  if (!/^ *$/.test(text.slice(offset, slash))) {
    throw new InvalidAclRuleError(text, `unexpected ${JSON.stringify(text.slice(offset, slash).trim())} before the path: only spaces may separate the method from the path`)
  }
  const segments: AclSegment[] = []
  let anySuffix = false
  for (const segment of splitSegments(text.slice(slash))) {
    if (anySuffix) throw new InvalidAclRuleError(text, '"**" can only be the last segment')
    if (segment === '**') anySuffix = true
    else if (segment === '*') segments.push('wildcard')
    else if (MUST_BE_ENCODED.test(segment)) {
      const c = MUST_BE_ENCODED.exec(segment)?.[0] ?? ''
      throw new InvalidAclRuleError(text, `"${c}" inside the segment ${JSON.stringify(segment)} must be percent-encoded (a wildcard is a whole segment: * or a final **)`)
    } else segments.push({ literal: percentDecode(segment) })
  }
  return { text: text.trim(), ...(method !== undefined ? { method } : {}), segments, anySuffix }
}

/**
 * The path of a request target: what comes before the query. Besides `?`, fastify's router may
 * end the path at `#` and (when configured) `;`, so the path checked ends at the first of the
 * three: it is never longer than the one routed.
 */
export function requestPath (url: string): string {
  const end = url.search(/[?#;]/)
  return end < 0 ? url : url.slice(0, end)
}

/**
 * The segments of a request path as Octez matches them (`Resto.Utils.decode_split_path`): split
 * on `/`, empty segments dropped, each percent-decoded.
 */
export function requestSegments (url: string): string[] {
  return splitSegments(requestPath(url)).map(percentDecode)
}

/** Whether `rule` matches a request; `method` undefined stands for a method no rule names. */
export function ruleMatches (rule: AclRule, method: AclMethod | undefined, segments: readonly string[]): boolean {
  if (rule.method !== undefined && rule.method !== method) return false
  if (segments.length < rule.segments.length) return false
  if (segments.length > rule.segments.length && !rule.anySuffix) return false
  return rule.segments.every((s, i) => s === 'wildcard' || s.literal === segments[i])
}

export interface AclDecision {
  allowed: boolean
  /** The rule that matched: the exception that let it through a whitelist or refused it in a blacklist. */
  rule?: AclRule
}

/** Octez's `Acl.allowed`: the first matching rule decides against the policy's default. */
export function decide (policy: AclPolicy, method: AclMethod | undefined, segments: readonly string[]): AclDecision {
  const rule = policy.rules.find(r => ruleMatches(r, method, segments))
  const allowed = policy.kind === 'whitelist' ? rule !== undefined : rule === undefined
  return rule === undefined ? { allowed } : { allowed, rule }
}

export function whitelist (rules: readonly string[]): AclPolicy {
  return { kind: 'whitelist', rules: rules.map(parseAclRule) }
}

export function blacklist (rules: readonly string[]): AclPolicy {
  return { kind: 'blacklist', rules: rules.map(parseAclRule) }
}
