/**
 * Who keeps large ArrayBuffers alive in a V8 heap snapshot (as `npm run bench:peers --
 * --heap-snapshots dir` writes them): for every backing store of at least `--min-bytes`, the
 * shortest chain of strong references from the GC roots to it, grouped by the chain's last
 * `--depth` links (the objects closest to the buffer), largest group first. This is how the
 * 64 KiB socket read buffers that one small view keeps alive per connection were found
 * (docs/profiles.md).
 *
 * With `--name Listener` (a constructor or function name) it does the same for every object of
 * that name, whatever its size: which event targets hold the per-connection listeners, say.
 *
 *   node scripts/bench/peers/heap-retainers.ts file.heapsnapshot [--min-bytes 32768] [--depth 6] [--top 12] [--name N]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'min-bytes': { type: 'string', default: '32768' }, depth: { type: 'string', default: '6' }, top: { type: 'string', default: '12' }, name: { type: 'string' } }
})
if (positionals.length !== 1) throw new Error('usage: heap-retainers.ts file.heapsnapshot [--min-bytes N] [--depth N] [--top N]')

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}
const s = JSON.parse(readFileSync(positionals[0], 'utf8')) as Snapshot
const nf = s.snapshot.meta.node_fields
const ef = s.snapshot.meta.edge_fields
const NW = nf.length
const EW = ef.length
const nodeTypes = s.snapshot.meta.node_types[0]
const edgeTypes = s.snapshot.meta.edge_types[0]
const [T, N, SZ, EC] = ['type', 'name', 'self_size', 'edge_count'].map(f => nf.indexOf(f))
const [ET, EN, ETO] = ['type', 'name_or_index', 'to_node'].map(f => ef.indexOf(f))
const count = s.nodes.length / NW

const firstEdge = new Uint32Array(count + 1)
for (let i = 0, e = 0; i < count; i++) { firstEdge[i] = e; e += s.nodes[i * NW + EC] * EW; firstEdge[i + 1] = e }

const label = (i: number): string => {
  const type = nodeTypes[s.nodes[i * NW + T]]
  const name = s.strings[s.nodes[i * NW + N]]
  return type === 'object' || type === 'closure' || type === 'native' ? `${name.slice(0, 50)}` : `(${type})`
}
const edgeLabel = (e: number): string => {
  const type = edgeTypes[s.edges[e + ET]]
  const n = s.edges[e + EN]
  return type === 'element' || type === 'hidden' ? `[${n}]` : s.strings[n]
}

// Shortest strong paths from the root (node 0): weak and shortcut edges do not retain.
const parentEdge = new Int32Array(count).fill(-1)
const parent = new Int32Array(count).fill(-1)
const seen = new Uint8Array(count)
seen[0] = 1
let frontier = [0]
while (frontier.length > 0) {
  const next: number[] = []
  for (const i of frontier) {
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EW) {
      const type = edgeTypes[s.edges[e + ET]]
      if (type === 'weak' || type === 'shortcut') continue
      const to = s.edges[e + ETO] / NW
      if (seen[to] === 1) continue
      seen[to] = 1
      parent[to] = i
      parentEdge[to] = e
      next.push(to)
    }
  }
  frontier = next
}

const minBytes = values.name === undefined ? Number(values['min-bytes']) : 0
const depth = Number(values.depth)
const groups = new Map<string, { count: number, bytes: number }>()
let total = 0
let buffers = 0
const isBackingStore = (i: number): boolean => s.strings[s.nodes[i * NW + N]] === 'system / JSArrayBufferData' ||
  (nodeTypes[s.nodes[i * NW + T]] === 'native' && s.strings[s.nodes[i * NW + N]].includes('ArrayBufferData'))
/** With `--name`, the objects, closures or natives of that constructor or function name instead of backing stores. */
const wanted = values.name === undefined ? isBackingStore : (i: number): boolean => label(i) === values.name
for (let i = 0; i < count; i++) {
  if (!wanted(i)) continue
  const bytes = s.nodes[i * NW + SZ]
  if (bytes < minBytes) continue
  buffers++
  total += bytes
  const chain: string[] = []
  let at = i
  while (parent[at] !== -1 && chain.length < depth) {
    chain.unshift(`${label(parent[at])}.${edgeLabel(parentEdge[at])}`)
    at = parent[at]
  }
  const key = parent[i] === -1 && seen[i] === 0 ? '(unreachable)' : chain.join(' → ')
  const g = groups.get(key) ?? { count: 0, bytes: 0 }
  g.count++
  g.bytes += bytes
  groups.set(key, g)
}
console.log(`${buffers} ${values.name ?? 'backing stores'} ≥ ${minBytes} bytes, ${(total / 1024).toFixed(0)} KiB`)
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
  console.log(`${String(g.count).padStart(5)} × ${(g.bytes / 1024).toFixed(0).padStart(7)} KiB  ${key}`)
}
