/**
 * The node's ping service: `@libp2p/ping`, whose answering side lets go of a stream once the
 * exchange ends.
 *
 * libp2p pings every connection from both ends every 10 s (its connection monitor, which closes a
 * connection whose ping fails and measures `rtt`), and `@libp2p/ping` answers each with a handler
 * that bounds the exchange by `AbortSignal.timeout(timeout)` (10 s) and never removes the listener
 * it adds to that signal. Node keeps a timeout signal that has listeners alive until it fires, and
 * the listener holds the stream: every peer's last ping stream, closed, stayed in memory with its
 * yamux state and about 20 listeners until the next ping replaced it, about 3.4 KiB of heap per
 * peer in heap snapshots of `npm run bench:peers` (docs/profiles.md, "bench:peers: the buffer pool,
 * ping streams, a release after bursts").
 *
 * Here the answer is the library's (echo every chunk, wait for drain when the stream is full,
 * close when the pinger closes, abort when the exchange outlasts `timeout`), with a deadline that
 * is cleared when the exchange ends. The outbound side (`ping()`, the connection monitor) is the
 * library's. The handler is the service's public `handlePing` method, replaced on the instance
 * before `start()` registers it; when a version of the library has no such method, the stock
 * service is used unchanged and `onUnsupported` is told why.
 */
import { TimeoutError, type Connection, type Stream } from '@libp2p/interface'
import { ping, type Ping, type PingComponents, type PingInit } from '@libp2p/ping'

/** `@libp2p/ping`'s default `timeout`. */
export const PING_ANSWER_TIMEOUT_MS = 10_000

/** Echoes what the pinger sends until it closes; aborted if it takes longer than `timeoutMs`. */
export async function answerPing (stream: Stream, timeoutMs: number): Promise<void> {
  const deadline = new AbortController()
  const timer = setTimeout(() => {
    const error = new TimeoutError('Ping timed out')
    deadline.abort(error)
    stream.abort(error)
  }, timeoutMs)
  try {
    for await (const chunk of stream) {
      if (stream.status !== 'open') break
      if (!stream.send(chunk)) await stream.onDrain({ signal: deadline.signal })
    }
    await stream.close({ signal: deadline.signal })
  } finally {
    clearTimeout(timer)
  }
}

interface AnsweringPing extends Ping {
  handlePing?: (stream: Stream, connection: Connection) => Promise<void>
}

/** `ping(init)`, answering with `answerPing`. */
export function nodePing (init: PingInit = {}, hooks: { onUnsupported?: (reason: string) => void } = {}): (components: PingComponents) => Ping {
  const factory = ping(init)
  const timeoutMs = init.timeout ?? PING_ANSWER_TIMEOUT_MS
  return components => {
    const service: AnsweringPing = factory(components)
    if (typeof service.handlePing !== 'function') {
      hooks.onUnsupported?.('@libp2p/ping has no handlePing method')
      return service
    }
    service.handlePing = async stream => { await answerPing(stream, timeoutMs) }
    return service
  }
}
