import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { jsonOutputPath, writeBenchJson, type BenchResult } from '../../scripts/bench/results.ts'
import {
  formatNumber, renderMarkdown, replaceReadmeSection, ReadmeMarkersError, README_END, README_START, type Machine
} from '../../scripts/bench/results-table.ts'
import { flatness, slopePerMinute } from '../../scripts/bench/peers/stats.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const result: BenchResult = {
  bench: 'handshake',
  command: 'npm run bench:handshake',
  params: { dials: 300 },
  figures: [
    { name: 'connections/s', unit: 'conn/s', value: 156.4, reference: { name: 'bare | dial', value: 218.9 }, ratio: 1.4, goal: '≤ 1.15×', met: false },
    { name: 'p50', unit: 'ms', value: 5.31 }
  ]
}
const machine: Machine = { date: '2026-11-24T09:00:00.000Z', cpu: 'AMD EPYC', cores: 2, ramGiB: 23.5, node: 'v24.21.0', loadAverage: 0.5, commit: 'abc1234', quick: false }

test('--json <file> and --json=<file> name the output; without it nothing is written', async () => {
  assert.equal(jsonOutputPath(['node', 'x.ts', '--dials', '3', '--json', '/tmp/a.json']), '/tmp/a.json')
  assert.equal(jsonOutputPath(['--json=/tmp/b.json']), '/tmp/b.json')
  assert.equal(jsonOutputPath(['--json', '--quick']), undefined)
  assert.equal(jsonOutputPath(['--dials', '3']), undefined)
  const dir = await tempDir('bench-test')
  try {
    const path = join(dir, 'r.json')
    await writeBenchJson(['--json', path], result)
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), result)
  } finally {
    await removeDir(dir)
  }
})

test('numbers keep three significant digits with grouped thousands', () => {
  assert.equal(formatNumber(12345.6), '12\u202f346')
  assert.equal(formatNumber(156.4), '156')
  assert.equal(formatNumber(41.25), '41.3')
  assert.equal(formatNumber(1.509), '1.51')
  assert.equal(formatNumber(0.7415), '0.742')
})

test('the table puts each figure beside its reference, ratio and goal; a failed bench gets a row', () => {
  const { table, section, document } = renderMarkdown(machine, [
    { name: 'handshake', seconds: 30, result },
    { name: 'peers', seconds: 5, error: 'exited with code 1' }
  ])
  const lines = table.split('\n')
  assert.equal(lines.length, 2 + 2 + 1)
  assert.equal(lines[2], '| `npm run bench:handshake` | connections/s | 156 conn/s | bare \\| dial: 219 conn/s | 1.40× | ≤ 1.15× | **no** |')
  assert.equal(lines[3], '| `npm run bench:handshake` | p50 | 5.31 ms | — | — | — | — |')
  assert.match(lines[4], /bench:peers.*failed: exited with code 1/)
  assert.match(section, /^Measured 2026-11-24 09:00 UTC, AMD EPYC, 2 cores, 24 GiB RAM, Node v24\.21\.0, load average 0\.50 at start, commit abc1234\./)
  assert.match(section, /- `npm run bench:handshake`: dials 300/)
  assert.ok(document.includes(table))
})

test('the README section between the markers is replaced, the rest kept; no markers is an error', () => {
  const readme = `# x\n\nintro\n${README_START}\nold table\n${README_END}\n\nafter\n`
  const updated = replaceReadmeSection(readme, 'new table')
  assert.equal(updated, `# x\n\nintro\n${README_START}\nnew table\n${README_END}\n\nafter\n`)
  assert.equal(replaceReadmeSection(updated, 'newer'), `# x\n\nintro\n${README_START}\nnewer\n${README_END}\n\nafter\n`)
  assert.throws(() => replaceReadmeSection('# no markers', 't'), ReadmeMarkersError)
})

test('slope per minute and flatness of a memory series', () => {
  assert.equal(slopePerMinute([{ x: 0, y: 100 }, { x: 1, y: 110 }, { x: 2, y: 120 }]), 10)
  assert.equal(slopePerMinute([{ x: 0, y: 5 }]), 0)
  const flat = flatness([100, 101, 99, 100, 102, 101], 0.05)
  assert.equal(flat.flat, true)
  const growing = flatness([100, 100, 110, 110, 120, 120], 0.05)
  assert.equal(growing.flat, false)
  assert.ok(Math.abs(growing.change - 0.2) < 1e-12)
  assert.equal(flatness([100, 90], 0.05).flat, false)
})
