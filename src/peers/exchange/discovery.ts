import type { Connection } from '@libp2p/interface'
import type { Logger } from 'pino'
import { applyDnsChange, DnsBootstrap, type DnsBootstrapError } from '../dns-bootstrap.ts'
import type { PointBook, PointInfo } from '../point-book.ts'
import { fromOctezPointString, pointKey, type PointAddress } from '../../net/point.ts'
import type { PeerExchangeService } from './service.ts'

/** Where a point was learnt. */
export type PointSource = 'config' | 'dns' | 'connection' | 'advertise' | 'nack' | 'swap'

export interface DiscoveryInit {
  book: PointBook
  privateMode: boolean
  disablePeerDiscovery: boolean
  /** DNS bootstrap names `host[:port][#peer_id]` (none: no DNS bootstrap). */
  bootstrapDns?: readonly string[]
  dnsServers?: readonly string[]
  dnsRefreshIntervalMs?: number | null
  /** Lower bound between two DNS refreshes asked for by maintenance. */
  minDnsRefreshIntervalMs: number
  /** Connections worth asking for points (authenticated, not private), with their libp2p connection. */
  askable: () => Connection[]
  exchange: () => PeerExchangeService
  /** Told of every new point. */
  onDiscovered: (point: PointInfo, source: PointSource) => void
  logger: Logger
}

/**
 * Where new points come from (Octez `ask_for_more_contacts` and `register_new_points`): the
 * Advertise that answers our Bootstrap, the points of a Nack, swaps, and DNS bootstrap. Points
 * heard from peers are taken in only when neither private mode nor `--disable-peer-discovery`
 * forbids it, and never with a Tezos pin (only configuration pins); DNS points are trusted.
 */
export class PeerDiscovery {
  private readonly init: DiscoveryInit
  private readonly dns: DnsBootstrap | undefined

  constructor (init: DiscoveryInit) {
    this.init = init
    if (init.bootstrapDns !== undefined && init.bootstrapDns.length > 0) {
      this.dns = new DnsBootstrap({
        names: init.bootstrapDns,
        servers: init.dnsServers,
        intervalMs: init.dnsRefreshIntervalMs,
        minRefreshIntervalMs: init.minDnsRefreshIntervalMs,
        onChange: change => {
          applyDnsChange(init.book, change)
          for (const p of change.added) {
            const info = init.book.get(p.key)
            if (info !== undefined) init.onDiscovered(info, 'dns')
          }
        },
        onError: (err: DnsBootstrapError) => { init.logger.warn({ err: err.message, code: err.code }, 'DNS bootstrap') }
      })
    }
  }

  /** Starts DNS bootstrap; its first points arrive through `onDiscovered` when resolved. */
  start (): void {
    void this.dns?.start().catch(() => {})
  }

  async stop (): Promise<void> {
    await this.dns?.stop()
  }

  /** Octez `ask_for_more_contacts`: Bootstrap to every askable peer (not in private mode), and a DNS refresh. */
  async askForMore (signal: AbortSignal): Promise<void> {
    const asks: Array<Promise<unknown>> = []
    if (!this.init.privateMode && !this.init.disablePeerDiscovery) {
      for (const connection of this.init.askable()) {
        asks.push(this.init.exchange().requestPoints(connection).then(points => {
          if (!signal.aborted) this.fromPeers(points, 'advertise')
        }).catch((err: Error) => { this.init.logger.debug({ err: err.message }, 'Bootstrap got no answer') }))
      }
    }
    if (this.dns !== undefined) asks.push(this.dns.refresh().catch(() => {}))
    await Promise.all(asks)
  }

  /** The `ip:port` points of a Nack (Octez registers them with medium "Nack"). */
  fromNack (points: readonly string[]): void {
    const addresses: PointAddress[] = []
    for (const text of points) {
      let point: PointAddress
      try { point = fromOctezPointString(text) } catch { continue /* checked by its codec only: a bad one is skipped */ }
      // Octez's syntax allows port 0, which no one listens on.
      if (point.port !== 0) addresses.push(point)
    }
    this.fromPeers(addresses, 'nack')
  }

  /**
   * Points heard from peers. Returns each one's entry in the book (known or new), or undefined
   * where it may not be taken in (ours, private mode, discovery disabled).
   */
  fromPeers (addresses: readonly PointAddress[], source: PointSource): Array<PointInfo | undefined> {
    const book = this.init.book
    if (this.init.privateMode || this.init.disablePeerDiscovery) return addresses.map(() => undefined)
    return addresses.map(a => {
      const known = book.get(pointKey(a))
      if (known !== undefined) return known
      const p = book.register({ hostKind: a.hostKind, host: a.host, port: a.port, ...(a.libp2pPeerId !== undefined ? { libp2pPeerId: a.libp2pPeerId } : {}) })
      if (p !== undefined) this.init.onDiscovered(p, source)
      return p
    })
  }
}
