import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { toHex, encode } from '../../src/encoding/index.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import {
  ChildNode, childConfig, copyDataDir, generateChain, removeAll, seededDataDir, stopAll, type GeneratedChain
} from './chain-harness.ts'

/**
 * Two partitions of two nodes each grow their own branch from a common prefix, each with a
 * transfer of its own; when a link joins them, every node ends on the branch with the higher
 * fitness (the longer one, fitness = level), including the node that has to switch branches
 * through a peer that switched first.
 */
describe('partitions that baked separately converge on the higher-fitness branch (real processes)', () => {
  const PREFIX = 20
  let chain: GeneratedChain
  const dirs: string[] = []
  const nodes: ChildNode[] = []

  before(async () => {
    chain = await generateChain({ name: 'e2e-partition', blocks: PREFIX, transfersPerBlock: 2 })
    const seed = await seededDataDir(chain, PREFIX, 'seed')
    dirs.push(seed)
    for (let i = 0; i < 4; i++) dirs.push(await copyDataDir(seed, `node${i}`))
  })

  after(async () => {
    await stopAll(nodes)
    await removeAll(dirs)
  })

  it('all four nodes end with the same head, hashes and balances: those of the longer branch', async () => {
    // A bakes for partition 1 (A, B), C for partition 2 (C, D). The clock drift lets a baker date
    // blocks a few seconds ahead, so each partition bakes its blocks without waiting.
    const drift = { maxClockDrift: 30 }
    const [a, b, c, d] = await Promise.all([
      ChildNode.start('A', childConfig(chain, dirs[1], { ...drift, baker: true })),
      ChildNode.start('B', childConfig(chain, dirs[2], drift)),
      ChildNode.start('C', childConfig(chain, dirs[3], { ...drift, baker: true })),
      ChildNode.start('D', childConfig(chain, dirs[4], drift))
    ])
    nodes.push(a, b, c, d)
    await b.call({ cmd: 'dial', address: a.address }, 'dialled')
    await d.call({ cmd: 'dial', address: c.address }, 'dialled')

    // Each side spends from a different account, so the two branches hold different states.
    const [opA, opC] = chain.builder.transfers([{ from: 0, to: 1, amount: 1000n }, { from: 2, to: 3, amount: 7000n }])
    await a.call({ cmd: 'inject', hex: toHex(encode(operationCodec, opA)) }, 'injected')
    await c.call({ cmd: 'inject', hex: toHex(encode(operationCodec, opC)) }, 'injected')
    for (let i = 0; i < 5; i++) await a.call({ cmd: 'bake' }, 'baked')
    for (let i = 0; i < 9; i++) await c.call({ cmd: 'bake' }, 'baked')
    await b.headAt(PREFIX + 5)
    await d.headAt(PREFIX + 9)
    const short = await a.dump()
    const long = await c.dump()
    assert.equal(short.level, PREFIX + 5)
    assert.equal(long.level, PREFIX + 9)
    assert.deepEqual((short.hashes as string[]).slice(0, PREFIX + 1), (long.hashes as string[]).slice(0, PREFIX + 1), 'a common prefix')
    assert.notEqual((short.hashes as string[])[PREFIX + 1], (long.hashes as string[])[PREFIX + 1], 'then two branches')
    assert.notDeepEqual(short.accounts, long.accounts)

    // Join the partitions with one link, B–C: B switches, then A through B.
    await b.call({ cmd: 'dial', address: c.address }, 'dialled')
    await Promise.all([a, b].map(async n => { await n.waitFor(e => e.event === 'head' && e.hash !== undefined && (e.level as number) === PREFIX + 9) }))
    for (const n of [a, b]) {
      const switched = n.events.find(e => e.event === 'head' && (e.removed as number) > 0)
      assert.ok(switched !== undefined, `${n.name} left its branch`)
    }
    const final = await Promise.all([a, b, c, d].map(async n => await n.dump()))
    for (const f of final) {
      assert.equal(f.head, long.head)
      assert.deepEqual(f.hashes, long.hashes)
      assert.deepEqual(f.accounts, long.accounts)
    }
  })
})
