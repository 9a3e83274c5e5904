import { Counter, Gauge, type Registry } from 'prom-client'

/**
 * Prometheus metrics of the peer layer (names `tzp2p_*`), registered in the node's registry. Gauges
 * read the live state when scraped (`sources`), so nothing has to keep them in step; counters are
 * incremented where things happen. A registry holds one node's metrics: two nodes sharing one
 * registry would register the same names twice, which prom-client refuses.
 */

/** Where the gauges read their values at scrape time. */
export interface PeerMetricsSources {
  connections: () => { inbound: number, outbound: number }
  greylist: () => { ip: number, peer: number }
  bans: () => number
  knownPoints: () => number
  trustedPoints: () => number
}

export type DialResult = 'ok' | 'failed'

export class PeerMetrics {
  readonly dials: Counter<'result'>
  readonly handshakeFailures: Counter<'reason'>
  readonly maintenanceRuns: Counter<'trigger'>
  readonly pruned: Counter
  readonly pointsDiscovered: Counter<'source'>
  readonly penalties: Counter<'kind'>
  readonly greylistings: Counter

  constructor (registry: Registry, sources: PeerMetricsSources) {
    const registers = [registry]

    new Gauge({
      name: 'tzp2p_connections',
      help: 'Authenticated connections, by direction',
      labelNames: ['direction'],
      registers,
      collect () {
        const c = sources.connections()
        this.set({ direction: 'inbound' }, c.inbound)
        this.set({ direction: 'outbound' }, c.outbound)
      }
    })
    new Gauge({
      name: 'tzp2p_greylist_size',
      help: 'Entries in the greylist, by kind (IP address or peer id)',
      labelNames: ['kind'],
      registers,
      collect () {
        const g = sources.greylist()
        this.set({ kind: 'ip' }, g.ip)
        this.set({ kind: 'peer' }, g.peer)
      }
    })
    new Gauge({ name: 'tzp2p_bans', help: 'Banned IP addresses and peer ids', registers, collect () { this.set(sources.bans()) } })
    new Gauge({ name: 'tzp2p_known_points', help: 'Points in the point book', registers, collect () { this.set(sources.knownPoints()) } })
    new Gauge({ name: 'tzp2p_trusted_points', help: 'Trusted points (--peer, bootstrap, DNS)', registers, collect () { this.set(sources.trustedPoints()) } })
    this.dials = new Counter({ name: 'tzp2p_dials_total', help: 'Dials by the connection manager, by result', labelNames: ['result'], registers })
    this.handshakeFailures = new Counter({
      name: 'tzp2p_handshake_failures_total', help: 'Connections that failed the Tezos handshake, by error', labelNames: ['reason'], registers
    })
    this.maintenanceRuns = new Counter({ name: 'tzp2p_maintenance_runs_total', help: 'Maintenance passes, by trigger', labelNames: ['trigger'], registers })
    this.pruned = new Counter({ name: 'tzp2p_pruned_connections_total', help: 'Connections closed by maintenance for being too many', registers })
    this.pointsDiscovered = new Counter({
      name: 'tzp2p_points_discovered_total', help: 'New points learnt, by source', labelNames: ['source'], registers
    })
    this.penalties = new Counter({ name: 'tzp2p_penalties_total', help: 'Misbehaviour penalties, by kind', labelNames: ['kind'], registers })
    this.greylistings = new Counter({ name: 'tzp2p_greylistings_total', help: 'Peers greylisted by the peer policy', registers })
    // Every label value appears from the start, so a dashboard sees 0 rather than no series.
    this.dials.inc({ result: 'ok' }, 0)
    this.dials.inc({ result: 'failed' }, 0)
  }
}
