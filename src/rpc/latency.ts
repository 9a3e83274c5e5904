import type { Logger } from 'pino'
import type { TzNode } from '../node/create-node.ts'

export interface LatencySamplerOptions {
  /** Time between two rounds of pings, ms (default 10 s). */
  intervalMs?: number
  /** A ping that takes longer counts as failed, ms (default 5 s). */
  timeoutMs?: number
  logger?: Logger
}

/**
 * Round-trip times of the authenticated peers, measured with libp2p's ping protocol on their
 * existing connections: one round at start, then every `intervalMs`. A peer's latency is the
 * last successful ping; it is forgotten when the peer disconnects.
 */
export class LatencySampler {
  private readonly node: TzNode
  private readonly intervalMs: number
  private readonly timeoutMs: number
  private readonly logger?: Logger
  private readonly latest = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private round: Promise<void> = Promise.resolve()
  private readonly abort = new AbortController()
  private readonly onConnected: (peer: { tezosPeerId: string }) => void
  private readonly onDisconnected: (peer: { tezosPeerId: string }) => void

  constructor (node: TzNode, options: LatencySamplerOptions = {}) {
    this.node = node
    this.intervalMs = options.intervalMs ?? 10_000
    this.timeoutMs = options.timeoutMs ?? 5_000
    if (options.logger !== undefined) this.logger = options.logger
    this.onConnected = peer => { void this.pingOne(peer.tezosPeerId) }
    this.onDisconnected = peer => { this.latest.delete(peer.tezosPeerId) }
  }

  /** Last round trip to this Tezos peer, ms; null if none succeeded yet. */
  latencyOf (tezosPeerId: string): number | null {
    return this.latest.get(tezosPeerId) ?? null
  }

  start (): void {
    if (this.timer !== undefined) return
    this.node.events.on('peer:authenticated', this.onConnected)
    this.node.events.on('peer:disconnected', this.onDisconnected)
    const tick = (): void => {
      this.round = this.pingAll()
      this.timer = setTimeout(tick, this.intervalMs)
      this.timer.unref()
    }
    tick()
  }

  async stop (): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.abort.abort()
    this.node.events.off('peer:authenticated', this.onConnected)
    this.node.events.off('peer:disconnected', this.onDisconnected)
    await this.round
  }

  private async pingAll (): Promise<void> {
    await Promise.all(this.node.peers.list().map(async p => { await this.pingOne(p.tezosPeerId) }))
  }

  private async pingOne (tezosPeerId: string): Promise<void> {
    const peer = this.node.peers.get(tezosPeerId)
    if (peer === undefined || this.abort.signal.aborted) return
    try {
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)])
      const rtt = await this.node.libp2p.services.ping.ping(peer.libp2pPeerId, { signal })
      if (this.node.peers.hasTezosPeer(tezosPeerId)) this.latest.set(tezosPeerId, rtt)
    } catch (e) {
      this.logger?.debug({ err: (e as Error).message, peer: tezosPeerId }, 'ping failed')
    }
  }
}
