/**
 * libp2p's event targets without their second listener table.
 *
 * Every libp2p connection layer is a `TypedEventEmitter` from `main-event`: the TCP connection,
 * the Noise stream, the muxer, the `Connection` and every stream. `main-event` subclasses Node's
 * `EventTarget` and, for each listener added, keeps its own record beside Node's: a wrapper
 * closure (registered with Node in place of the listener, so that it can be found again), an
 * `onAbort` closure (made whether or not a signal was given), a flattened options object and an
 * entry object, in a per-instance `Map` of per-type arrays that is copied on every removal. Its
 * only uses of that table are finding the wrapper again on removal and `listenerCount`. libp2p
 * registers about 33 listeners per authenticated peer (8 on the TCP connection, 5 on the Noise
 * stream, 8 on each yamux stream, the muxer's and the connection's), and heap snapshots of
 * `npm run bench:peers` put main-event's records at about 10 KiB of JS heap per peer
 * (docs/profiles.md, "bench:peers: one listener table per event target").
 *
 * Node's `EventTarget` already does everything that table is for, as the DOM specifies it: the
 * same listener and capture added twice is added once, `once` removes the listener before calling
 * it, a `signal` removes it on abort (and an aborted signal adds nothing), objects with
 * `handleEvent` are called as such; `events.getEventListeners(target, type)` lists what is
 * registered. So this replaces `addEventListener`, `removeEventListener` and `listenerCount` on
 * `TypedEventEmitter.prototype` with Node's own methods and a count from Node's list. What changes
 * for a listener is only that a plain function is called with `this` set to the target (the DOM's
 * rule) rather than `undefined`; libp2p's listeners are arrow functions or bound methods.
 *
 * Process-wide (every `TypedEventEmitter` in the process, libp2p's or an embedder's), so the
 * `tzp2p` program applies it through src/node/memory-settings.ts before any libp2p object exists,
 * not `createNode`. It must run before the first listener is added: a listener added through
 * main-event's own method is registered with Node as its wrapper, which Node's
 * `removeEventListener` would not find. The methods replaced are those of the `main-event` version
 * this was written against; with any other version nothing is replaced and the reason is returned.
 */
import { readFileSync } from 'node:fs'
import { getEventListeners } from 'node:events'
import { TypedEventEmitter } from 'main-event'

/** The `main-event` version whose `TypedEventEmitter` this module reads. */
export const LEAN_EVENT_TARGETS_MAIN_EVENT_VERSION = '1.0.5'

let applied = false

/** Why the installed `main-event` cannot be changed, or undefined when it can. */
export function leanEventTargetsUnsupported (): string | undefined {
  let version: string | undefined
  try {
    // The package's exports map hides package.json; it sits two levels above dist/src/index.js.
    const manifest = new URL('../../package.json', import.meta.resolve('main-event'))
    version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version
  } catch (err) {
    return `cannot read the main-event version (${(err as Error).message})`
  }
  if (version !== LEAN_EVENT_TARGETS_MAIN_EVENT_VERSION) return `main-event ${String(version)} is not ${LEAN_EVENT_TARGETS_MAIN_EVENT_VERSION}`
  if (!(TypedEventEmitter.prototype instanceof EventTarget)) return 'TypedEventEmitter does not extend EventTarget'
  return undefined
}

/**
 * Has every `TypedEventEmitter` keep its listeners in Node's `EventTarget` only (see the module
 * comment). Returns undefined once applied (or if it already was), else why it was not.
 */
export function leanEventTargets (): string | undefined {
  if (applied) return undefined
  const unsupported = leanEventTargetsUnsupported()
  if (unsupported !== undefined) return unsupported
  const prototype = TypedEventEmitter.prototype as unknown as Record<string, unknown>
  for (const name of ['addEventListener', 'removeEventListener'] as const) {
    const nodeMethod: unknown = Object.getOwnPropertyDescriptor(EventTarget.prototype, name)?.value
    if (typeof nodeMethod !== 'function') return `EventTarget.prototype.${name} is missing`
  }
  for (const name of ['addEventListener', 'removeEventListener'] as const) {
    const nodeMethod: unknown = Object.getOwnPropertyDescriptor(EventTarget.prototype, name)?.value
    Object.defineProperty(prototype, name, { value: nodeMethod, writable: true, configurable: true, enumerable: false })
  }
  Object.defineProperty(prototype, 'listenerCount', {
    value: function listenerCount (this: EventTarget, type: string): number { return getEventListeners(this, type).length },
    writable: true,
    configurable: true,
    enumerable: false
  })
  applied = true
  return undefined
}
