import type { HealthJson } from '../../rpc/metrics-routes.ts'
import { isOurNode } from './processes.ts'
import type { DevnetNodeState, DevnetState } from './state.ts'

/** One line of `tzp2p devnet status`. */
export interface DevnetNodeStatus {
  name: string
  pid: number
  running: boolean
  baker: boolean
  p2p: string
  rpc: string
  level?: number
  head?: string
  peers?: number
  bootstrapped?: boolean | null
  /** Why the RPC did not answer. */
  error?: string
}

async function nodeStatus (node: DevnetNodeState): Promise<DevnetNodeStatus> {
  const base = { name: node.name, pid: node.pid, baker: node.baker, p2p: node.p2p, rpc: node.rpc }
  if (!await isOurNode(node.pid, node.dataDir)) return { ...base, running: false, error: `not running (see ${node.logFile})` }
  try {
    const response = await fetch(`${node.rpc}/health`, { signal: AbortSignal.timeout(3000) })
    const health = await response.json() as HealthJson
    return {
      ...base,
      running: true,
      ...(health.head !== null ? { level: health.head.level, head: health.head.hash } : {}),
      peers: health.connections,
      bootstrapped: health.bootstrapped
    }
  } catch (e) {
    return { ...base, running: true, error: `RPC: ${(e as Error).message}` }
  }
}

export async function devnetStatus (state: DevnetState): Promise<DevnetNodeStatus[]> {
  return await Promise.all(state.nodes.map(nodeStatus))
}

const shortHash = (h: string): string => h.length > 16 ? `${h.slice(0, 8)}…${h.slice(-6)}` : h

/** A plain-text table, one node per line. */
export function renderStatusTable (rows: readonly DevnetNodeStatus[]): string {
  const header = ['node', 'pid', 'rpc', 'p2p', 'level', 'head', 'peers', 'bootstrapped', '']
  const lines = rows.map(r => [
    r.name,
    String(r.pid),
    r.rpc,
    r.p2p,
    r.level === undefined ? '–' : String(r.level),
    r.head === undefined ? '–' : shortHash(r.head),
    r.peers === undefined ? '–' : String(r.peers),
    r.bootstrapped === undefined || r.bootstrapped === null ? '–' : r.bootstrapped ? 'yes' : 'no',
    [r.baker ? 'baker' : '', r.error ?? ''].filter(x => x !== '').join(', ')
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map(l => l[i].length)))
  const format = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [format(header), ...lines.map(format)].join('\n') + '\n'
}
