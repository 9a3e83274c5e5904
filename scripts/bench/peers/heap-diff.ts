/**
 * What grew between two V8 heap snapshots (as `npm run bench:peers -- --heap-snapshots dir`
 * writes them), by constructor: count and self bytes in each, and the difference, largest first.
 * Divide by the peers added between the two snapshots for a per-peer figure.
 *
 *   node scripts/bench/peers/heap-diff.ts before.heapsnapshot after.heapsnapshot [--top 30] [--per N]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, per: { type: 'string', default: '1' } } })
if (positionals.length !== 2) throw new Error('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [--top N] [--per peers]')

interface Snapshot { snapshot: { meta: { node_fields: string[], node_types: [string[]] } }, nodes: number[], strings: string[] }

/** Self bytes and object count per "type:name" (constructor name for objects). */
function byConstructor (path: string): Map<string, { count: number, bytes: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot
  const fields = s.snapshot.meta.node_fields
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const types = s.snapshot.meta.node_types[0]
  const out = new Map<string, { count: number, bytes: number }>()
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]]
    const name = type === 'object' || type === 'closure' || type === 'native' ? s.strings[s.nodes[i + nameAt]] : ''
    const key = `${type}:${name.slice(0, 60)}`
    const e = out.get(key) ?? { count: 0, bytes: 0 }
    e.count++
    e.bytes += s.nodes[i + sizeAt]
    out.set(key, e)
  }
  return out
}

const before = byConstructor(positionals[0])
const after = byConstructor(positionals[1])
const per = Number(values.per)
const rows = [...new Set([...before.keys(), ...after.keys()])].map(key => {
  const a = before.get(key) ?? { count: 0, bytes: 0 }
  const b = after.get(key) ?? { count: 0, bytes: 0 }
  return { key, count: (b.count - a.count) / per, bytes: (b.bytes - a.bytes) / per }
}).sort((x, y) => y.bytes - x.bytes)
const total = rows.reduce((s, r) => s + r.bytes, 0)
console.log(`self bytes grown${per === 1 ? '' : ` per ${per}th`}: ${(total / 1024).toFixed(1)} KiB`)
for (const r of rows.slice(0, Number(values.top))) console.log(`${(r.bytes / 1024).toFixed(2).padStart(10)} KiB ${r.count.toFixed(1).padStart(9)} × ${r.key}`)
