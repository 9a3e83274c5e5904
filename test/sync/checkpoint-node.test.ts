import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { createShellProtocol } from '../../src/protocol/shell/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { addressOf } from '../helpers/node.ts'
import { startChainNode, type ChainTestNode } from './nodes.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * `--checkpoint` between real libp2p nodes on loopback: a shell node whose first peer does not
 * have the checkpoint block asks the next one, starts its chain there, follows the rest of the
 * chain and then new blocks, and holds nothing below the checkpoint.
 */
describe('a shell node started from a checkpoint, among peers that have it or not', () => {
  const CHECKPOINT = 12
  let setup: DemoSetup
  let builder: DemoChainBuilder
  let full: ChainTestNode
  let empty: ChainTestNode
  let shell: ChainTestNode
  const hashes: Uint8Array[] = []

  before(async () => {
    setup = demoSetup({ name: 'shell-checkpoint', validationPasses: 4, verifyWorkers: 0 })
    builder = new DemoChainBuilder(setup)
    const blocks = await builder.grow(40, 2)
    hashes.push(...blocks.map(b => blockHash(b.header)))
    full = await startChainNode(setup)
    await full.node.chain?.addBlocks(blocks)
    // Same chain, no block: it cannot answer for the checkpoint.
    empty = await startChainNode(demoSetup({ name: 'shell-checkpoint', validationPasses: 4, verifyWorkers: 0 }), { synchronisation: { threshold: 0 } })
    shell = await startChainNode({ protocol: createShellProtocol({ hash: setup.protocol.hash }), genesis: setup.genesis }, { checkpoint: hashes[CHECKPOINT - 1] })
  })

  after(async () => {
    await shell?.close()
    await empty?.close()
    await full?.close()
  })

  it('with a peer lacking the block and one having it, starts at the checkpoint and follows the chain to the head', async () => {
    await shell.node.dial(addressOf(empty.node))
    const chain = shell.node.chain
    assert.ok(chain !== undefined)
    await shell.node.dial(addressOf(full.node))
    await waitFor(() => chain.head.header.shell.level === 40, { what: 'the shell node at level 40', timeoutMs: 60_000 })
    assert.deepEqual({ hash: toHex(chain.caboose.hash), level: chain.caboose.level }, { hash: toHex(hashes[CHECKPOINT - 1]), level: CHECKPOINT })
    assert.equal(toHex(chain.checkpoint.hash), toHex(hashes[CHECKPOINT - 1]))
    for (let level = 1; level < CHECKPOINT; level++) {
      assert.equal(await chain.getBlockByLevel(level), undefined, `level ${level}`)
      assert.equal(await chain.hasBlock(hashes[level - 1]), false, `block ${level}`)
    }
    for (let level = CHECKPOINT; level <= 40; level++) assert.equal((await chain.getBlockByLevel(level))?.hex, toHex(hashes[level - 1]))
  })

  it('follows new blocks as they are made', async () => {
    const more = await builder.grow(3, 2)
    await full.node.chain?.addBlocks(more)
    const chain = shell.node.chain
    assert.ok(chain !== undefined)
    await waitFor(() => chain.head.hex === toHex(blockHash(more[2].header)), { what: 'the shell node on the new head' })
  })

  it('answers Get_current_branch with a locator ending at its checkpoint (its oldest block), not genesis', async () => {
    const sync = full.node.libp2p.services.sync
    assert.ok(sync !== undefined)
    const locator = await sync.client.currentBranch(shell.node.identity.peerId)
    assert.ok(locator !== undefined)
    assert.equal(toHex(locator.history[locator.history.length - 1]), toHex(hashes[CHECKPOINT - 1]))
  })
})
