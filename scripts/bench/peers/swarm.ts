/**
 * Many tzp2p peers in one process for `npm run bench:peers`: `nodes` full nodes (libp2p host,
 * Tezos handshake at PoW 0, demo chain with its own store, gossip and sync), each dialling the
 * measured node and then following its chain as any peer would: heads and mempools announced to
 * it, headers and operations fetched from it, blocks applied, its own head announced back.
 *
 *   node scripts/bench/peers/swarm.ts '<json SwarmConfig>'
 *
 * Requests (JSON lines): `connect` (dial the target from every node not connected to it, or from
 * the first `limit` nodes) and
 * `status`. Closing stdin stops every node.
 */
import { join } from 'node:path'
import { createNode, type TzNode } from '../../../src/node/create-node.ts'
import { serveJsonLines } from './json-lines.ts'
import { BENCH_NETWORK, benchDemoSetup, type SwarmConfig, type SwarmStatus } from './shared.ts'

const config = JSON.parse(process.argv[2]) as SwarmConfig

const nodes: TzNode[] = []
for (let i = 0; i < config.nodes; i++) {
  // No verification threads: fifty nodes share this process and its cores.
  const setup = benchDemoSetup(config.chain, 0)
  const node = await createNode({
    dataDir: join(config.dataRoot, `node-${i}`),
    expectedPow: 0,
    chainName: BENCH_NETWORK,
    // Peers only dial out: no listening socket, no connection manager (the measured node's
    // behaviour is what the benchmark is about).
    listen: [],
    manageConnections: false,
    chain: { protocol: setup.protocol, genesis: setup.genesis, synchronisation: { threshold: 1 } }
  })
  await node.start()
  nodes.push(node)
}

let dialFailures = 0

/**
 * Dials the target from every node without a connection to it (from the first `limit` nodes
 * only, when given), `dialConcurrency` at a time.
 */
async function connectAll (limit = nodes.length): Promise<number> {
  const todo = nodes.slice(0, limit).filter(n => n.peers.size === 0)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const node = todo[next++]
      await node.dial(config.target).catch(() => { dialFailures++ })
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, config.dialConcurrency) }, worker))
  return todo.length
}

function status (): SwarmStatus {
  const levels = nodes.map(n => n.head()?.header.shell.level ?? 0)
  // Why a peer left the measured node, when it did: its greylist says what it held against it.
  const reasons = new Map<string, number>()
  for (const n of nodes) for (const e of n.greylist.list()) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1)
  return {
    greylistReasons: Object.fromEntries(reasons),
    nodes: nodes.length,
    connected: nodes.filter(n => n.peers.size > 0).length,
    minLevel: Math.min(...levels),
    minConnectedLevel: Math.min(...nodes.filter(n => n.peers.size > 0).map(n => n.head()?.header.shell.level ?? 0), Number.MAX_SAFE_INTEGER),
    maxLevel: Math.max(...levels),
    dialFailures
  }
}

serveJsonLines(
  { nodes: nodes.length },
  async request => {
    switch (request.cmd) {
      case 'connect': return { dialled: await connectAll(typeof request.limit === 'number' ? request.limit : undefined), status: status() }
      case 'status': return { status: status() }
      default: throw new Error(`unknown command ${String(request.cmd)}`)
    }
  },
  async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) }
)
