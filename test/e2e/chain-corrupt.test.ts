import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ChildNode, childConfig, copyDataDir, generateChain, removeAll, seededDataDir, stopAll, type GeneratedChain } from './chain-harness.ts'
import type { ChildConfig } from './chain-child.ts'
import { tempDir } from '../helpers/temp-dir.ts'

/**
 * One of three peers serves one corrupted answer (its bytes altered on the way out): wrong
 * operations, a wrong Merkle path, or a wrong header. The joiner must catch it, greylist that
 * peer, and still finish the bootstrap from the two others.
 */
describe('a peer serving a corrupted block is greylisted and the sync completes (real processes)', () => {
  const BLOCKS = 400
  let chain: GeneratedChain
  const dirs: string[] = []
  let seed: string

  before(async () => {
    chain = await generateChain({ name: 'e2e-corrupt', blocks: BLOCKS, transfersPerBlock: 3 })
    seed = await seededDataDir(chain, BLOCKS, 'seed')
    dirs.push(seed)
  })

  after(async () => { await removeAll(dirs) })

  for (const mode of ['operations', 'path', 'header'] as Array<NonNullable<ChildConfig['corrupt']>>) {
    it(`corrupted ${mode}`, async () => {
      const nodes: ChildNode[] = []
      try {
        const peerDirs = await Promise.all([0, 1, 2].map(async i => await copyDataDir(seed, `${mode}${i}`)))
        dirs.push(...peerDirs)
        const [liar, ...honest] = await Promise.all(peerDirs.map(async (d, i) =>
          await ChildNode.start(i === 0 ? 'liar' : `honest${i}`, childConfig(chain, d, i === 0 ? { corrupt: mode } : {}))))
        nodes.push(liar, ...honest)
        const joinerDir = await tempDir(`joiner-${mode}`)
        dirs.push(joinerDir)
        const joiner = await ChildNode.start('joiner', childConfig(chain, joinerDir, { synchronisationThreshold: 2 }))
        nodes.push(joiner)

        // The liar first, alone, so that it is asked; the honest peers once it has lied.
        await joiner.call({ cmd: 'dial', address: liar.address }, 'dialled')
        await liar.waitFor(e => e.event === 'corrupted')
        const penalized = await joiner.waitFor(e => e.event === 'penalized' && e.peer === liar.peerId)
        assert.equal(penalized.action, 'disconnect-and-greylist')
        assert.equal(penalized.kind, 'invalid-data')
        // The check that caught it: the Merkle path for operations and paths, the hash chain for headers.
        assert.match(String(penalized.detail), mode === 'header' ? /predecessor|itself|continue the chain/ : /operations_hash through the Merkle path/)
        await joiner.waitFor(e => e.event === 'disconnected' && e.peer === liar.peerId)
        // On loopback the liar's IP is every peer's: the honest ones are trusted points, which
        // bypass the greylist (as Octez's trusted peers do).
        await Promise.all(honest.map(async p => await joiner.call({ cmd: 'trust', address: p.address }, 'dialled')))

        await joiner.headAt(BLOCKS)
        await joiner.waitFor(e => e.event === 'bootstrapped')
        const mine = await joiner.dump()
        assert.deepEqual(mine.hashes, chain.hashes)
        assert.deepEqual(mine.accounts, chain.accountsAt[BLOCKS])
        assert.ok((mine.greylisted as string[]).includes(liar.peerId), `the liar is greylisted: ${JSON.stringify(mine.greylisted)}`)
        for (const p of honest) assert.ok(!(mine.greylisted as string[]).includes(p.peerId))
        const acceptedFrom = mine.acceptedFrom as Record<string, number>
        for (const p of honest) assert.ok((acceptedFrom[p.peerId] ?? 0) > 0, `fetched from ${p.name}`)
        // The liar never got a corrupted answer accepted: every block is the generated one (above),
        // and it cannot reconnect.
        await assert.rejects(joiner.call({ cmd: 'dial', address: liar.address }, 'dialled'))
      } finally {
        await stopAll(nodes)
      }
    })
  }
})
