import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { BenchResult } from '../../scripts/bench/results.ts'
import {
  ScalingTableError, networkKey, networkTitle, renderScalingSection, renderScalingTable, scalingSections, upsertSection
} from '../../scripts/bench/gossip/scaling-table.ts'

/** A result shaped as scripts/bench/gossip.ts writes it. */
function result (nodes: number, tz: [number, number, number, number], gs: [number, number, number, number], network: Record<string, unknown> = {}): BenchResult {
  const names = ['p50 bake→arrival', 'p99 bake→arrival', 'bytes sent per head per node', 'CPU per head (all nodes)']
  const units = ['ms', 'ms', 'B', 'ms']
  return {
    bench: 'gossip',
    command: 'npm run bench:gossip',
    params: { nodes, degree: 6, edges: nodes * 3, diameter: 3, heads: 30, warmup: 5, intervalMs: 500, operations: 5, seed: 1, network: 'loopback', linkDelayMs: 0, lossPercent: 0, loadAverage: [1, 2, 3], ...network },
    figures: names.map((name, i) => ({ name, unit: units[i], value: tz[i], reference: { name: '@libp2p/gossipsub', value: gs[i] }, ratio: tz[i] / gs[i] }))
  }
}

describe('gossip scaling table', () => {
  it('has one row per node count, ascending, each tzp2p / gossipsub (ratio), CPU per node', () => {
    const table = renderScalingTable([result(40, [90, 300, 3000, 800], [30, 100, 6000, 400]), result(10, [20, 50, 2000, 100], [10, 25, 4000, 50])])
    const lines = table.split('\n')
    assert.equal(lines.length, 4)
    assert.match(lines[0], /^\| nodes \| edges \| diameter \(hops\) \| p50/)
    assert.equal(lines[2], '| 10 | 30 | 3 | 20.0 / 10.0 (2.00×) | 50.0 / 25.0 (2.00×) | 2\u202f000 / 4\u202f000 (0.500×) | 10.0 / 5.00 (2.00×) |')
    assert.equal(lines[3], '| 40 | 120 | 3 | 90.0 / 30.0 (3.00×) | 300 / 100 (3.00×) | 3\u202f000 / 6\u202f000 (0.500×) | 20.0 / 10.0 (2.00×) |')
  })

  it('refuses no results, results from different networks, and a result without its reference', () => {
    assert.throws(() => renderScalingTable([]), ScalingTableError)
    assert.throws(() => renderScalingTable([result(10, [1, 1, 1, 1], [1, 1, 1, 1]), result(20, [1, 1, 1, 1], [1, 1, 1, 1], { network: 'namespaces', linkDelayMs: 25 })]),
      (e: Error) => e instanceof ScalingTableError && /different networks \(loopback, delay25\)/.test(e.message))
    const bare = result(10, [1, 1, 1, 1], [1, 1, 1, 1])
    delete bare.figures[1].reference
    assert.throws(() => renderScalingTable([bare]), (e: Error) => e instanceof ScalingTableError && /p99 bake→arrival/.test(e.message))
  })

  it('keys and titles the section by the network', () => {
    assert.equal(networkKey(result(10, [1, 1, 1, 1], [1, 1, 1, 1])), 'loopback')
    assert.equal(networkKey(result(10, [1, 1, 1, 1], [1, 1, 1, 1], { network: 'namespaces' })), 'namespaces')
    assert.equal(networkKey(result(10, [1, 1, 1, 1], [1, 1, 1, 1], { network: 'namespaces', linkDelayMs: 25, lossPercent: 1 })), 'delay25-loss1')
    assert.equal(networkTitle('delay25-loss1'), 'in network namespaces, netem 25 ms one-way delay and 1 % loss per link')
    assert.equal(networkTitle('loopback'), 'on loopback')
    assert.equal(networkKey(result(20, [1, 1, 1, 1], [1, 1, 1, 1], { network: 'relays', linkDelayMs: 25 })), 'relays-delay25')
    assert.equal(networkKey(result(20, [1, 1, 1, 1], [1, 1, 1, 1], { network: 'relays', linkDelayMs: 0 })), 'relays-delay0')
    assert.match(networkTitle('relays-delay25'), /^on loopback, every link through a userspace TCP relay delaying each direction by 25 ms/)
  })

  it('replaces its own section in bench-results.md, appends a new one, and leaves the rest alone', () => {
    const doc = '# tzp2p benchmark results\n\n| a table |\n'
    const loopback = renderScalingSection([result(10, [2, 4, 6, 8], [1, 2, 3, 4])], '2026-12-05 15:00 UTC')
    const once = upsertSection(doc, loopback)
    assert.ok(once.startsWith(doc.trimEnd()))
    assert.equal(scalingSections(once).length, 1)
    const wan = renderScalingSection([result(20, [2, 4, 6, 8], [1, 2, 3, 4], { network: 'namespaces', linkDelayMs: 25 })], 'later')
    const twice = upsertSection(once, wan)
    assert.deepEqual(scalingSections(twice), [loopback, wan])
    const newer = renderScalingSection([result(10, [3, 3, 3, 3], [1, 1, 1, 1]), result(20, [3, 3, 3, 3], [1, 1, 1, 1])], 'newer')
    const replaced = upsertSection(twice, newer)
    assert.deepEqual(scalingSections(replaced), [newer, wan])
    assert.ok(replaced.startsWith(doc.trimEnd()))
    assert.throws(() => upsertSection(doc, 'no markers'), ScalingTableError)
  })
})
