/**
 * The `host[:port]` syntax every address in tzp2p is written in, as Octez writes points: an IPv6
 * literal in brackets when a port follows (`[::1]:9732`); a bare IPv6 literal, having several
 * colons, has no port. Each caller checks the host and the port by its own rules and reports a
 * problem with its own error (`fail`).
 */
export interface SplitHostPort {
  host: string
  portText?: string
  /** The host was written in brackets (it must then be an IPv6 literal). */
  bracketed: boolean
}

export function splitHostPort (text: string, fail: (reason: string) => Error): SplitHostPort {
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0) throw fail('missing "]" after an IPv6 address')
    const rest = text.slice(close + 1)
    if (rest !== '' && !rest.startsWith(':')) throw fail(`unexpected ${JSON.stringify(rest)} after "]"`)
    return { host: text.slice(1, close), ...(rest === '' ? {} : { portText: rest.slice(1) }), bracketed: true }
  }
  const colon = text.indexOf(':')
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return { host: text, bracketed: false }
  return { host: text.slice(0, colon), portText: text.slice(colon + 1), bracketed: false }
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/

/** A lower-case host name as listen and RPC addresses may give one (RFC 1123 labels, underscores allowed), not all digits and dots. */
export function isHostName (name: string): boolean {
  return HOST_NAME.test(name) && !/^[0-9.]+$/.test(name)
}
