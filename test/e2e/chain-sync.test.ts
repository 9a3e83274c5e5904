import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ChildNode, childConfig, copyDataDir, generateChain, removeAll, seededDataDir, stopAll, type GeneratedChain } from './chain-harness.ts'
import { tempDir } from '../helpers/temp-dir.ts'

/**
 * A node joining late bootstraps a 2 000-block demo chain (two validation passes, transfers in
 * every block) from three peers, each a separate process on loopback.
 */
describe('bootstrap of a late joiner from three peers (real processes)', () => {
  const BLOCKS = 2000
  let chain: GeneratedChain
  const dirs: string[] = []
  const nodes: ChildNode[] = []

  before(async () => {
    chain = await generateChain({ name: 'e2e-sync', blocks: BLOCKS, transfersPerBlock: 3 })
    const seed = await seededDataDir(chain, BLOCKS, 'seed')
    dirs.push(seed)
    for (let i = 0; i < 3; i++) dirs.push(await copyDataDir(seed, `peer${i}`))
  })

  after(async () => {
    await stopAll(nodes)
    await removeAll(dirs)
  })

  it('ends with the same head, block hashes and balances as its peers, having fetched from all three', async () => {
    const peers = await Promise.all([1, 2, 3].map(async i => await ChildNode.start(`peer${i}`, childConfig(chain, dirs[i]))))
    nodes.push(...peers)
    for (const p of peers) assert.equal(p.ready.level, BLOCKS)
    const joinerDir = await tempDir('joiner')
    dirs.push(joinerDir)
    // Bootstrapped (Octez's heuristic) once all three peers' heads are ours.
    const joiner = await ChildNode.start('joiner', childConfig(chain, joinerDir, { synchronisationThreshold: 3 }))
    nodes.push(joiner)
    assert.equal(joiner.ready.level, 0)
    await Promise.all(peers.map(async p => await joiner.call({ cmd: 'dial', address: p.address }, 'dialled')))

    await joiner.headAt(BLOCKS)
    await joiner.waitFor(e => e.event === 'bootstrapped')
    const progress = joiner.events.filter(e => e.event === 'progress')
    assert.ok(progress.length > 0, 'progress is reported while bootstrapping')
    assert.ok(progress.every(p => typeof p.levelsPerSecond === 'number' && p.levelsPerSecond > 0))

    const mine = await joiner.dump()
    assert.equal(mine.level, BLOCKS)
    assert.deepEqual(mine.hashes, chain.hashes, 'every level holds the block of the generated chain')
    assert.deepEqual(mine.accounts, chain.accountsAt[BLOCKS], 'balances and counters as the chain defines them')
    for (const p of peers) {
      const theirs = await p.dump()
      assert.equal(theirs.head, mine.head)
      assert.deepEqual(theirs.hashes, mine.hashes)
      assert.deepEqual(theirs.accounts, mine.accounts)
    }
    const acceptedFrom = mine.acceptedFrom as Record<string, number>
    for (const p of peers) assert.ok((acceptedFrom[p.peerId] ?? 0) > 0, `fetched from ${p.name}: ${JSON.stringify(acceptedFrom)}`)
    assert.deepEqual(mine.greylisted, [], 'no honest peer was penalised')
  })
})
