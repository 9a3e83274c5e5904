import { Counter, Gauge, type Registry } from 'prom-client'
import type { TzNode } from '../node/create-node.ts'

/**
 * Prometheus metrics of a node's chain (`tzp2p_head_*`, `tzp2p_mempool_*`, …), beside the peer
 * layer's `tzp2p_*` and libp2p's `libp2p_*` in the node's registry. Gauges read the chain when
 * scraped; the block counter follows the node's `head` events. Registered once per registry
 * (several RPC listeners of one node share them); nothing is registered for a node without a chain.
 */
export function registerChainMetrics (registry: Registry, node: TzNode): void {
  if (node.chain === undefined || registry.getSingleMetric('tzp2p_head_level') !== undefined) return
  const registers = [registry]
  const head = (): { level: number, timestamp: number } | undefined => {
    const h = node.head()
    return h === undefined ? undefined : { level: h.header.shell.level, timestamp: Number(h.header.shell.timestamp) }
  }

  new Gauge({ name: 'tzp2p_head_level', help: 'Level of the current head', registers, collect () { const h = head(); if (h !== undefined) this.set(h.level) } })
  new Gauge({
    name: 'tzp2p_head_timestamp_seconds',
    help: 'Timestamp of the current head (seconds since the epoch; its age is time() - this)',
    registers,
    collect () { const h = head(); if (h !== undefined) this.set(h.timestamp) }
  })
  new Gauge({ name: 'tzp2p_bootstrapped', help: '1 once the node is bootstrapped (Octez\'s heuristic), else 0', registers, collect () { this.set(node.isBootstrapped() ? 1 : 0) } })
  new Gauge({ name: 'tzp2p_mempool_operations', help: 'Operations in the mempool', registers, collect () { this.set(node.mempool?.size ?? 0) } })
  new Gauge({ name: 'tzp2p_mempool_bytes', help: 'Bytes of the operations in the mempool', registers, collect () { this.set(node.mempool?.bytes ?? 0) } })
  const applied = new Counter({ name: 'tzp2p_blocks_applied_total', help: 'Blocks that joined the current chain', registers })
  const reorgs = new Counter({ name: 'tzp2p_branch_switches_total', help: 'Head changes that took blocks off the chain (branch switches)', registers })
  node.on('head', change => {
    applied.inc(change.applied.length)
    if (change.removed.length > 0) reorgs.inc()
  })
}
