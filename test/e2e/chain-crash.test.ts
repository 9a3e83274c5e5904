import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { seededRandom } from '../helpers/seeded-random.ts'
import { ChildNode, childConfig, copyDataDir, generateChain, removeAll, seededDataDir, stopAll, type GeneratedChain } from './chain-harness.ts'
import { tempDir } from '../helpers/temp-dir.ts'

/**
 * `kill -9` of a node at random moments of a bootstrap, ten times over: after each restart it
 * resumes from the head it had stored, that head's state is exactly the chain's at that level (no
 * half-applied block, no lost one), and in the end the bootstrap finishes. (Kills during block
 * application on a local store: `test/chain/crash.test.ts`.)
 */
describe('a syncing node killed with SIGKILL resumes from its stored head (real processes)', () => {
  const BLOCKS = 3000
  const KILLS = 10
  const KILL_SEED = 20261124
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

  it('killed 10 times at random moments of the bootstrap, it always restarts at a whole block with the right state, and finishes', { timeout: 600_000 }, async () => {
    const peers = await Promise.all([1, 2].map(async i => await ChildNode.start(`peer${i}`, childConfig(chain, dirs[i]))))
    nodes.push(...peers)
    const dir = await tempDir('victim')
    dirs.push(dir)
    // Seeded, so a failure replays with the same kill points; printed in the test name on failure.
    const random = seededRandom(KILL_SEED)
    let seen = 0
    for (let kill = 0; kill <= KILLS; kill++) {
      const victim = await ChildNode.start(`victim${kill}`, childConfig(chain, dir))
      nodes.push(victim)
      const stored = victim.ready.level as number
      assert.ok(stored >= seen, `run ${kill}: resumes from the stored head ${stored}, not below the last head seen ${seen}`)
      // Before talking to anyone: every block up to the stored head is the chain's, and the state
      // is exactly the state after that block (no half-applied block, none lost).
      const atRestart = await victim.dump()
      assert.equal(atRestart.level, stored)
      assert.deepEqual(atRestart.hashes, chain.hashes.slice(0, stored + 1), `run ${kill}: the stored chain`)
      assert.deepEqual(atRestart.accounts, chain.accountsAt[stored], `run ${kill}: the state at level ${stored}`)
      await Promise.all(peers.map(async p => await victim.call({ cmd: 'dial', address: p.address }, 'dialled')))

      if (kill === KILLS) {
        await victim.headAt(BLOCKS)
        const final = await victim.dump()
        assert.deepEqual(final.hashes, chain.hashes)
        assert.deepEqual(final.accounts, chain.accountsAt[BLOCKS])
        // It fetched only what it lacked: its first bootstrap step starts above the stored head.
        const firstProgress = victim.events.find(e => e.event === 'progress')
        assert.ok(firstProgress === undefined || (firstProgress.level as number) > stored)
        break
      }
      // Kill it a random number of blocks further (each run gets its share of what is left), a
      // random few milliseconds after it reported that head: in the middle of fetching, validating
      // or committing the next run of blocks.
      const share = Math.floor((BLOCKS - stored) / (KILLS - kill + 1))
      const target = stored + 1 + Math.floor(random() * Math.max(1, share))
      await victim.waitFor(e => e.event === 'head' && (e.level as number) >= target)
      await new Promise(resolve => setTimeout(resolve, Math.floor(random() * 25)))
      victim.kill()
      const { signal } = await victim.exited
      assert.equal(signal, 'SIGKILL')
      seen = Math.max(stored, ...victim.events.filter(e => e.event === 'head').map(e => e.level as number))
    }
  })
})
