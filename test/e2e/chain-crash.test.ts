import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  ChildNode, childConfig, copyDataDir, generateChain, removeAll, seededDataDir, stopAll, tempDir, type GeneratedChain
} from './chain-harness.ts'

/**
 * `kill -9` of a node in the middle of a bootstrap: on restart it resumes from the head it had
 * stored, that head's state is exactly the chain's at that level (no half-applied block, no lost
 * one), and the bootstrap finishes.
 */
describe('a syncing node killed with SIGKILL resumes from its stored head (real processes)', () => {
  const BLOCKS = 3000
  let chain: GeneratedChain
  const dirs: string[] = []
  const nodes: ChildNode[] = []

  before(async () => {
    chain = await generateChain({ name: 'e2e-crash', blocks: BLOCKS, transfersPerBlock: 3 })
    const seed = await seededDataDir(chain, BLOCKS, 'seed')
    dirs.push(seed)
    for (let i = 0; i < 2; i++) dirs.push(await copyDataDir(seed, `peer${i}`))
  })

  after(async () => {
    await stopAll(nodes)
    await removeAll(dirs)
  })

  it('restarts at a whole block with the right state and finishes the bootstrap', async () => {
    const peers = await Promise.all([1, 2].map(async i => await ChildNode.start(`peer${i}`, childConfig(chain, dirs[i]))))
    nodes.push(...peers)
    const dir = await tempDir('victim')
    dirs.push(dir)
    const victim = await ChildNode.start('victim', childConfig(chain, dir))
    nodes.push(victim)
    await Promise.all(peers.map(async p => await victim.call({ cmd: 'dial', address: p.address }, 'dialled')))

    // Kill it once it is well into the bootstrap (its head events report committed heads).
    const midway = await victim.waitFor(e => e.event === 'head' && (e.level as number) >= 500)
    victim.kill()
    const { signal } = await victim.exited
    assert.equal(signal, 'SIGKILL')
    const seen = Math.max(...victim.events.filter(e => e.event === 'head').map(e => e.level as number))
    assert.ok(seen < BLOCKS, `killed before the end (head ${seen})`)

    const restarted = await ChildNode.start('restarted', childConfig(chain, dir))
    nodes.push(restarted)
    const stored = restarted.ready.level as number
    assert.ok(stored >= (midway.level as number) && stored >= seen, `resumes from the stored head ${stored}, not from scratch (last seen ${seen})`)
    // Before talking to anyone: every block up to the stored head is the chain's, and the state is
    // exactly the state after that block.
    const atRestart = await restarted.dump()
    assert.equal(atRestart.level, stored)
    assert.deepEqual(atRestart.hashes, chain.hashes.slice(0, stored + 1))
    assert.deepEqual(atRestart.accounts, chain.accountsAt[stored])

    await Promise.all(peers.map(async p => await restarted.call({ cmd: 'dial', address: p.address }, 'dialled')))
    await restarted.headAt(BLOCKS)
    const final = await restarted.dump()
    assert.deepEqual(final.hashes, chain.hashes)
    assert.deepEqual(final.accounts, chain.accountsAt[BLOCKS])
    // It fetched only what it lacked: its first bootstrap step starts at or above the stored head.
    const firstProgress = restarted.events.find(e => e.event === 'progress')
    assert.ok(firstProgress !== undefined && (firstProgress.level as number) > stored)
  })
})
