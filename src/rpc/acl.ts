import type { FastifyInstance } from 'fastify'
import { ACL_METHODS, decide, requestPath, requestSegments, whitelist, type AclMethod, type AclPolicy } from './acl-rules.ts'
import type { ListenerPolicy } from './acl-policy.ts'
import { RpcError } from './errors.ts'

/**
 * RPC access control, enforced in one place: an `onRequest` hook, which runs before any handler
 * (the not-found one included), so a refused request never reaches a route and an unknown path
 * answers 404 only where the policy lets it through. Octez checks at the same point, before
 * looking the path up in its directory (resto's cohttp server, which
 * `src/lib_rpc_http/RPC_server.ml` includes).
 *
 * Octez answers a refused call with an empty 401; tzp2p answers 403 (the caller is known to be
 * refused, not unauthenticated) with a one-line JSON error naming the rule that refused it.
 */

/** A request the listener's access policy refuses. */
export class RpcForbiddenError extends RpcError {
  override readonly name = 'RpcForbiddenError'
  constructor (message: string) { super(403, message) }
}

/** The policy a listener enforces; it is set once the listener knows its bound address. */
export interface AclGate {
  readonly current: ListenerPolicy
  set: (policy: ListenerPolicy) => void
}

/** Until the listener is bound, nothing passes (no request can arrive before, but a default must exist). */
const STARTING: ListenerPolicy = { listener: 'a listener still starting', policy: whitelist([]), source: { kind: 'default-secure' } }

/** How the hook sees a method: HEAD runs the GET handler in fastify, so it is checked as GET. */
function aclMethod (method: string): AclMethod | undefined {
  const m = method === 'HEAD' ? 'GET' : method
  return (ACL_METHODS as readonly string[]).includes(m) ? m as AclMethod : undefined
}

const MAX_PATH_IN_MESSAGE = 120

function callText (method: string, url: string): string {
  const path = requestPath(url)
  return `${method} ${path.length > MAX_PATH_IN_MESSAGE ? `${path.slice(0, MAX_PATH_IN_MESSAGE)}…` : path}`
}

const allowsEverything = (policy: AclPolicy): boolean => policy.kind === 'blacklist' && policy.rules.length === 0

function refusal (method: string, url: string, p: ListenerPolicy, rule: string | undefined): string {
  const call = callText(method, url)
  if (rule !== undefined) {
    const address = p.source.kind === 'configured' ? p.source.entry.address.text : p.listener
    return `forbidden: ${call} matches "${rule}" of the blacklist for ${address} (rpc.acl)`
  }
  if (p.source.kind === 'configured') {
    return `forbidden: ${call} matches no rule of the whitelist for ${p.source.entry.address.text} (rpc.acl), which refuses the rest`
  }
  return `forbidden: ${call} is not a public RPC: on ${p.listener}, a non-loopback address, the default policy serves only public reads and injection (open more with rpc.acl or --allow-all-rpc)`
}

/** The refusal of a request, or undefined if the policy lets it through. */
function refused (method: string, url: string, p: ListenerPolicy): RpcForbiddenError | undefined {
  if (method === 'OPTIONS' || allowsEverything(p.policy)) return undefined
  // An absolute-form target (`http://host/path`) is routed on its path; rather than parse it
  // the way the router does, a listener with rules refuses it.
  if (!url.startsWith('/')) {
    return new RpcForbiddenError(`forbidden: ${callText(method, url)}: on ${p.listener} the request target must be a path starting with "/"`)
  }
  const d = decide(p.policy, aclMethod(method), requestSegments(url))
  return d.allowed ? undefined : new RpcForbiddenError(refusal(method, url, p, d.rule?.text))
}

/**
 * Installs the access check on `app` (before its routes are registered) and returns the gate whose
 * policy the server sets once the listener is bound. OPTIONS passes, as in Octez: it is the CORS
 * preflight, answered before routing without touching the node.
 */
export function applyAcl (app: FastifyInstance): AclGate {
  let current = STARTING
  app.addHook('onRequest', (request, _reply, done) => {
    done(refused(request.method, request.url, current))
  })
  return {
    get current () { return current },
    set: policy => { current = policy }
  }
}
