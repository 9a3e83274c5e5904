/**
 * The benchmark's network: a connected random graph in which every node has the same degree
 * (one node one more when nodes × degree is odd), drawn from a seeded PRNG so that both stacks,
 * and every run with the same seed, use exactly the same edges.
 */
import { seededRandom } from '../../../test/helpers/seeded-random.ts'

/** An undirected edge `[a, b]` with `a < b`; node `a` dials node `b`. */
export type Edge = [number, number]

export class TopologyError extends Error {
  override readonly name = 'TopologyError'
}

/**
 * Pairs "stubs" (each node appears `degree` times) two at a time, only ever joining two distinct
 * nodes not yet joined, and starts over when it gets stuck (Steger and Wormald's method: the plain
 * pairing model almost never yields a simple graph at degree 6). Disconnected results are redrawn.
 */
export function randomRegularTopology (nodes: number, degree: number, seed: number): Edge[] {
  if (!(Number.isInteger(nodes) && nodes >= 2)) throw new TopologyError(`need at least 2 nodes, got ${nodes}`)
  if (!(Number.isInteger(degree) && degree >= 1)) throw new TopologyError(`degree must be a positive integer, got ${degree}`)
  const d = Math.min(degree, nodes - 1)
  const random = seededRandom(seed)
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const edges = tryPairing(nodes, d, random)
    if (edges !== undefined && isConnected(nodes, edges)) return edges.sort((x, y) => x[0] - y[0] || x[1] - y[1])
  }
  throw new TopologyError(`no connected graph of ${nodes} nodes and degree ${d} found`)
}

function tryPairing (nodes: number, d: number, random: () => number): Edge[] | undefined {
  const stubs: number[] = []
  for (let i = 0; i < nodes; i++) for (let k = 0; k < d; k++) stubs.push(i)
  // An odd total leaves one stub over: one node gets a degree of d + 1.
  if (stubs.length % 2 === 1) stubs.push(Math.floor(random() * nodes))
  const joined = new Set<string>()
  const edges: Edge[] = []
  while (stubs.length > 0) {
    let paired = false
    for (let tries = 0; tries < 200 && !paired; tries++) {
      const i = Math.floor(random() * stubs.length)
      const j = Math.floor(random() * stubs.length)
      const a = Math.min(stubs[i], stubs[j])
      const b = Math.max(stubs[i], stubs[j])
      if (i === j || a === b || joined.has(`${a}-${b}`)) continue
      joined.add(`${a}-${b}`)
      edges.push([a, b])
      // Remove the higher index first so the lower one stays valid.
      for (const k of [Math.max(i, j), Math.min(i, j)]) { stubs[k] = stubs[stubs.length - 1]; stubs.pop() }
      paired = true
    }
    if (!paired) return undefined
  }
  return edges
}

function isConnected (nodes: number, edges: readonly Edge[]): boolean {
  const adjacent = neighbours(nodes, edges)
  const seen = new Set([0])
  const queue = [0]
  while (queue.length > 0) {
    for (const next of adjacent[queue.pop() as number]) {
      if (!seen.has(next)) { seen.add(next); queue.push(next) }
    }
  }
  return seen.size === nodes
}

/** Each node's neighbours. */
export function neighbours (nodes: number, edges: readonly Edge[]): number[][] {
  const out: number[][] = Array.from({ length: nodes }, () => [])
  for (const [a, b] of edges) { out[a].push(b); out[b].push(a) }
  return out
}

/** Longest shortest path (hops), for the report: latency grows with it. */
export function diameter (nodes: number, edges: readonly Edge[]): number {
  const adjacent = neighbours(nodes, edges)
  let longest = 0
  for (let s = 0; s < nodes; s++) {
    const distance = new Map([[s, 0]])
    const queue = [s]
    for (let q = 0; q < queue.length; q++) {
      for (const next of adjacent[queue[q]]) {
        if (!distance.has(next)) { distance.set(next, (distance.get(queue[q]) as number) + 1); queue.push(next) }
      }
    }
    for (const v of distance.values()) longest = Math.max(longest, v)
  }
  return longest
}
