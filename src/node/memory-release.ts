import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * After a burst of connections, the memory V8 grew for it goes back to the system once.
 *
 * Why: a burst of handshakes (and the catch-up sync that follows) makes V8 grow its heap, and a
 * regular full GC frees the objects but keeps the pages: in `npm run bench:peers` at 200 peers the
 * node's RSS stayed about 58 MiB above what it was once V8's memory-reducing GC had run (443 KiB of
 * RSS per peer over the baseline against 147 KiB; docs/profiles.md, "bench:peers: the buffer
 * pool, ping streams, a release after bursts"). V8 runs that GC itself only when the process
 * looks idle, which a node that gossips every few seconds never does.
 *
 * How: Node's `net.server.socket` and `net.client.socket` diagnostics channels report every TCP
 * connection accepted or opened by this process (both wires, any node in it). When at least
 * `burst` arrived and then none for `quietMs`, one memory-reducing GC runs (V8's "last resort"
 * flavour, what `isolate.LowMemoryNotification()` runs), at most once per `minIntervalMs`. It is a
 * synchronous full GC: tens of milliseconds on a node's heap, once per burst.
 *
 * V8 offers that GC to JavaScript through its `gc` extension only (`--expose-gc`); the flag is set
 * at runtime and the function taken from a fresh context, so `globalThis.gc` stays undefined.
 * Process-wide, so the `tzp2p` program turns it on (src/node/memory-settings.ts), not `createNode`.
 */
export interface MemoryReleaseOptions {
  /** Connections that make a burst. */
  burst?: number
  /** How long without a new connection ends a burst, ms. */
  quietMs?: number
  /** Least time between two releases, ms. */
  minIntervalMs?: number
  /** Told of each release: connections in the burst, and how long the GC took (ms). */
  onRelease?: (release: { connections: number, gcMs: number }) => void
}

export const DEFAULT_MEMORY_RELEASE = { burst: 8, quietMs: 5_000, minIntervalMs: 60_000 } as const

const SOCKET_CHANNELS = ['net.server.socket', 'net.client.socket'] as const

type GcExtension = (options: { type: 'major', execution: 'sync', flavor: 'last-resort' }) => void
let gcExtension: GcExtension | undefined

/** Runs V8's memory-reducing full GC now: frees what is garbage and returns the pages it leaves empty. */
export function returnFreedMemory (): void {
  if (gcExtension === undefined) {
    setFlagsFromString('--expose-gc')
    gcExtension = runInNewContext('gc') as GcExtension
  }
  gcExtension({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}

/** Starts watching for connection bursts; returns the function that stops it. */
export function releaseMemoryAfterConnectionBursts (options: MemoryReleaseOptions = {}): () => void {
  const burst = options.burst ?? DEFAULT_MEMORY_RELEASE.burst
  const quietMs = options.quietMs ?? DEFAULT_MEMORY_RELEASE.quietMs
  const minIntervalMs = options.minIntervalMs ?? DEFAULT_MEMORY_RELEASE.minIntervalMs
  for (const [name, v] of Object.entries({ burst, quietMs, minIntervalMs })) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`memory release: ${name} must be a non-negative number, got ${v}`)
  }
  let connections = 0
  let lastConnectionAt = 0
  let lastReleaseAt = -Infinity
  let timer: ReturnType<typeof setTimeout> | undefined

  const arm = (ms: number): void => {
    timer = setTimeout(check, ms)
    // Never what keeps the process alive.
    timer.unref()
  }
  const check = (): void => {
    timer = undefined
    const now = performance.now()
    // One timer per burst: a connection that came since it was armed pushes the end of the burst.
    const wait = Math.max(lastConnectionAt + quietMs, lastReleaseAt + minIntervalMs) - now
    if (wait > 0) { arm(wait); return }
    const released = connections
    connections = 0
    lastReleaseAt = now
    const started = performance.now()
    returnFreedMemory()
    options.onRelease?.({ connections: released, gcMs: performance.now() - started })
  }
  const onSocket = (): void => {
    connections++
    lastConnectionAt = performance.now()
    if (connections >= burst && timer === undefined) arm(quietMs)
  }
  for (const name of SOCKET_CHANNELS) subscribe(name, onSocket)
  return () => {
    for (const name of SOCKET_CHANNELS) unsubscribe(name, onSocket)
    clearTimeout(timer)
    timer = undefined
  }
}
