/**
 * The userspace link of the gossip benchmark's `--link-emulation proxy`: a TCP relay for one
 * edge that accepts the dialling node's connections and opens one to the dialled node for each,
 * holding every chunk read in either direction for the link's delay before writing it on, in the
 * order read (a timestamped FIFO per direction: a chunk leaves at its arrival + delay). A round
 * trip between the two nodes thus costs twice the delay, as with netem on each node's link.
 *
 * What it cannot model: loss (TCP on each side sees a perfect link), and the delay's effect on
 * TCP itself (each side's connection runs over loopback, so no slow start or congestion window
 * over the long round trip, and the dialler's TCP handshake completes at once; the first bytes
 * still take the delay). Bandwidth is not limited either way.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** Above this many bytes held in one direction, the relay stops reading that side until they leave. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024

/** What a relay has forwarded so far. */
export interface RelayCounters {
  /** Connections accepted. */
  connections: number
  /** Bytes written on, both directions. */
  bytes: number
  /** For each chunk: how long after its due time (arrival + delay) it was written, ms. */
  lateness: number[]
}

export function newRelayCounters (): RelayCounters {
  return { connections: 0, bytes: 0, lateness: [] }
}

/**
 * One direction of a link: chunks read from `from` are written to `to` `delayMs` after they were
 * read, in order. A timer fires for the oldest chunk only; timers may fire early by up to a
 * millisecond (libuv's clock is coarse), so the due time is checked against the precise clock and
 * the timer re-armed for what is left: no chunk ever leaves before its delay.
 */
export class DelayLine {
  private readonly queue: Array<{ due: number, chunk: Buffer }> = []
  private held = 0
  private timer: NodeJS.Timeout | undefined
  private ended = false
  private readonly from: Socket
  private readonly to: Socket
  private readonly delayMs: number
  private readonly counters: RelayCounters

  constructor (from: Socket, to: Socket, delayMs: number, counters: RelayCounters) {
    this.from = from
    this.to = to
    this.delayMs = delayMs
    this.counters = counters
    from.on('data', (chunk: Buffer) => { this.push(chunk) })
    from.on('end', () => { this.ended = true; this.flush() })
  }

  private push (chunk: Buffer): void {
    if (this.delayMs === 0 && this.queue.length === 0) {
      this.write(chunk, 0)
      return
    }
    this.queue.push({ due: performance.now() + this.delayMs, chunk })
    this.held += chunk.length
    if (this.held > HIGH_WATER_BYTES) this.from.pause()
    this.arm()
  }

  private write (chunk: Buffer, lateness: number): void {
    this.counters.bytes += chunk.length
    this.counters.lateness.push(lateness)
    this.to.write(chunk)
  }

  private arm (): void {
    if (this.timer !== undefined || this.queue.length === 0) return
    const wait = Math.max(1, Math.ceil(this.queue[0].due - performance.now()))
    this.timer = setTimeout(() => { this.timer = undefined; this.flush() }, wait)
  }

  private flush (): void {
    const t = performance.now()
    while (this.queue.length > 0 && this.queue[0].due <= t) {
      const { due, chunk } = this.queue.shift()!
      this.held -= chunk.length
      this.write(chunk, t - due)
    }
    if (this.held <= HIGH_WATER_BYTES && this.from.isPaused()) this.from.resume()
    if (this.queue.length > 0) this.arm()
    else if (this.ended) this.to.end()
  }

  close (): void {
    clearTimeout(this.timer)
    this.queue.length = 0
  }
}

export interface Relay {
  /** The port it listens on (127.0.0.1). */
  readonly port: number
  /** Closes the listener and every connection. */
  close: () => Promise<void>
}

/**
 * Listens on 127.0.0.1 (a port of the system's choosing) and relays every connection to
 * `target` through two DelayLines. Both sockets have Nagle's algorithm off: the relay must not
 * hold small writes back on top of the delay.
 */
export async function startRelay (target: { host: string, port: number }, delayMs: number, counters: RelayCounters): Promise<Relay> {
  const sockets = new Set<Socket>()
  const lines = new Set<DelayLine>()
  const track = (s: Socket): void => {
    sockets.add(s)
    s.on('close', () => { sockets.delete(s) })
  }
  const server: Server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, inbound => {
    counters.connections++
    const outbound = createConnection({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true })
    track(inbound)
    track(outbound)
    const up = new DelayLine(inbound, outbound, delayMs, counters)
    const down = new DelayLine(outbound, inbound, delayMs, counters)
    lines.add(up)
    lines.add(down)
    // Reading starts at once: what the dialler sends before the far side accepts waits in the
    // outbound socket's buffer, and its delay runs from when the relay read it.
    inbound.resume()
    const destroy = (): void => {
      up.close(); down.close(); lines.delete(up); lines.delete(down)
      inbound.destroy(); outbound.destroy()
    }
    inbound.on('error', destroy)
    outbound.on('error', destroy)
    // A side that closes without ending (reset) takes the other with it; an orderly end is
    // passed on by the DelayLine after the data before it.
    inbound.on('close', hadError => { if (hadError) destroy() })
    outbound.on('close', hadError => { if (hadError) destroy() })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('relay: no TCP address')
  return {
    port: address.port,
    close: async () => {
      for (const l of lines) l.close()
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

/** The `host:port` of a `/ip4/<host>/tcp/<port>/…` multiaddr. */
export function tcpTarget (multiaddr: string): { host: string, port: number } {
  const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(multiaddr)
  if (m === null) throw new Error(`not a /ip4/…/tcp/… address: ${multiaddr}`)
  return { host: m[1], port: Number(m[2]) }
}

/** `multiaddr` with its TCP port replaced by `port` (the rest, /p2p/<peer> included, kept). */
export function throughPort (multiaddr: string, port: number): string {
  tcpTarget(multiaddr)
  return multiaddr.replace(/^(\/ip4\/[^/]+\/tcp\/)\d+/, `$1${port}`)
}
