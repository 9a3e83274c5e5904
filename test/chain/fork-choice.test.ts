import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import type { HeadChange } from '../../src/chain/chain.ts'
import { dumpState, forgeDemoBlock, openChain, type OpenedChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const hexes = (blocks: Array<{ header: Parameters<typeof blockHash>[0] }>): string[] => blocks.map(b => toHex(blockHash(b.header)))

async function mainChain (node: OpenedChain): Promise<string[]> {
  const out: string[] = []
  for (let level = 1; level <= node.chain.head.header.shell.level; level++) out.push((await node.chain.getBlockByLevel(level))?.hex ?? '?')
  return out
}

test('fork choice: a better branch forking below the head wins, state equals a node that only saw that branch, and back again', async () => {
  const setup = demoSetup({ name: 'forks', accounts: 6, validationPasses: 2, verifyWorkers: 0 })
  const base = new DemoChainBuilder(setup)
  const common = await base.grow(10, 2)
  const a = base.fork('branch a')
  const b = base.fork('branch b')
  const aBlocks = await a.grow(20, 3) // levels 11..30
  const bBlocks = await b.grow(25, 3) // levels 11..35
  const dirs = [await tempDir('chain'), await tempDir('chain')]
  try {
    const node = await openChain(dirs[0], setup)
    const changes: HeadChange[] = []
    node.chain.on('head', c => changes.push(c))
    await node.chain.addBlocks([...common, ...aBlocks])
    assert.equal(node.chain.head.hex, toHex(a.head.hash))

    // b up to level 30: not better (equal fitness keeps the first head), only stored.
    const r = await node.chain.addBlocks(bBlocks.slice(0, 20))
    assert.deepEqual([r.headChanged, r.stored], [false, 20])
    assert.equal(node.chain.head.hex, toHex(a.head.hash))
    assert.equal(await node.chain.hasBlock(blockHash(bBlocks[19].header)), true)
    assert.equal(await node.chain.isOnMainChain(blockHash(bBlocks[19].header), 30), false)
    assert.equal((await node.chain.getAncestor(blockHash(bBlocks[19].header), 25))?.hex, toHex(blockHash(common[4].header)))

    // Level 31 of b arrives alone (as gossip would deliver it): the chain switches to b.
    changes.length = 0
    await node.chain.addBlock(bBlocks[20].header, bBlocks[20].operations)
    assert.equal(changes.length, 1)
    assert.deepEqual(changes[0].removed.map(h => h.hex), hexes(aBlocks).reverse())
    assert.deepEqual(changes[0].applied.map(h => h.hex), hexes(bBlocks.slice(0, 21)))
    for (const block of bBlocks.slice(21)) await node.chain.addBlock(block.header, block.operations)
    assert.equal(node.chain.head.hex, toHex(b.head.hash))
    assert.deepEqual(await dumpState(node.chain), b.stateSnapshot())

    // A fresh node that only ever saw b ends in the same place.
    const fresh = await openChain(dirs[1], setup)
    await fresh.chain.addBlocks([...common, ...bBlocks])
    assert.deepEqual(await dumpState(fresh.chain), await dumpState(node.chain))
    assert.deepEqual(await mainChain(fresh), await mainChain(node))
    assert.deepEqual(await mainChain(node), hexes([...common, ...bBlocks]))
    await fresh.close()

    // a grows past b: the chain switches back, across a store reopen.
    await node.close()
    const again = await openChain(dirs[0], setup)
    const aMore = await a.grow(10, 2) // levels 31..40
    const back = await again.chain.addBlocks(aMore)
    assert.equal(back.headChanged, true)
    assert.equal(again.chain.head.hex, toHex(a.head.hash))
    assert.deepEqual(await dumpState(again.chain), a.stateSnapshot())
    assert.deepEqual(await mainChain(again), hexes([...common, ...aBlocks, ...aMore]))
    await again.close()
  } finally {
    for (const d of dirs) await removeDir(d)
  }
})

test('a better branch with an invalid block: the chain moves to its valid part if that beats the head, and records the rest invalid', async () => {
  const setup = demoSetup({ name: 'forks-invalid', accounts: 4, verifyWorkers: 0 })
  const base = new DemoChainBuilder(setup)
  const common = await base.grow(5, 1)
  const a = base.fork('a')
  const c = base.fork('c')
  const aBlocks = await a.grow(10, 2) // levels 6..15
  const cBlocks = await c.grow(12, 2) // levels 6..17
  // Level 18 of c spends more than the account holds; level 19 builds on it.
  const [spend] = c.transfers([{ from: 1, to: 2, amount: 5_000_000_000_000n }])
  const bad = forgeDemoBlock(setup, c.head, [[spend]])
  const badHash = blockHash(bad)
  const child = forgeDemoBlock(setup, { hash: badHash, header: bad }, [[]])
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup)
    await node.chain.addBlocks([...common, ...aBlocks])
    await assert.rejects(
      node.chain.addBlocks([...cBlocks, { header: bad, operations: [[spend]] }, { header: child, operations: [[]] }]),
      (e: InvalidBlockError) => e.code === 'invalid_operation' && e.operation?.error.code === 'balance_too_low' && e.block?.level === 18)
    assert.equal(node.chain.head.hex, toHex(c.head.hash))
    assert.equal(node.chain.head.header.shell.level, 17)
    assert.deepEqual(await dumpState(node.chain), c.stateSnapshot())
    assert.equal((await node.chain.isKnownInvalid(badHash))?.code, 'invalid_operation')
    assert.equal((await node.chain.isKnownInvalid(blockHash(child)))?.code, 'invalid_predecessor')
    assert.equal(await node.chain.hasBlock(badHash), false)
    await node.close()
  } finally {
    await removeDir(dir)
  }
})

test('ancestor and header bytes for sync answers: the stored bytes getAncestors and getHeaders give, on the main chain and on a branch below it', async () => {
  const setup = demoSetup({ name: 'ancestor-bytes', accounts: 4, verifyWorkers: 0 })
  const base = new DemoChainBuilder(setup)
  await base.grow(5, 1)
  const main = base.fork('main')
  const side = base.fork('side')
  const mainBlocks = await main.grow(12, 1) // levels 6..17
  const sideBlocks = await side.grow(6, 1) // levels 6..11, lower fitness: stays a branch
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup)
    await node.chain.addBlocks([...base.blocks, ...mainBlocks])
    await node.chain.addBlocks(sideBlocks)
    assert.equal(node.chain.head.header.shell.level, 17)
    const distances = [0, 1, 3, 8, 11, 30, -1]
    for (const top of [blockHash(mainBlocks[11].header), blockHash(sideBlocks[5].header)]) {
      const decoded = await node.chain.getAncestors(top, distances)
      const bytes = await node.chain.getAncestorBytes(top, distances)
      assert.deepEqual(bytes.map(b => b === undefined ? undefined : toHex(b)), decoded.map(h => h === undefined ? undefined : toHex(h.bytes)))
      assert.equal(bytes.filter(b => b !== undefined).length, 5, 'offsets 30 and −1 have no block')
    }
    // Several blocks in one call (a sync batch): a main-chain block, a branch block, an unknown one.
    const groups = [
      { hash: blockHash(mainBlocks[11].header), distances: [2, 0, 40] },
      { hash: blockHash(sideBlocks[5].header), distances: [1, 7] },
      { hash: new Uint8Array(32), distances: [0] },
      { hash: blockHash(mainBlocks[4].header), distances: [0, 9] }
    ]
    const together = await node.chain.getAncestorBytesOfMany(groups)
    for (const [i, g] of groups.entries()) {
      const alone = await node.chain.getAncestors(g.hash, g.distances)
      assert.deepEqual(together[i].map(b => b === undefined ? undefined : toHex(b)), alone.map(h => h === undefined ? undefined : toHex(h.bytes)), `group ${i}`)
    }
    assert.deepEqual(together.map(g => g.filter(b => b !== undefined).length), [2, 2, 0, 2])
    // On the branch, offset 3 is a branch block and offset 8 a common one.
    const onBranch = await node.chain.getAncestorBytes(blockHash(sideBlocks[5].header), [3, 8])
    assert.equal(toHex(onBranch[0] ?? new Uint8Array()), toHex((await node.chain.getHeader(blockHash(sideBlocks[2].header)))?.bytes ?? new Uint8Array(1)))
    assert.equal(toHex(onBranch[1] ?? new Uint8Array()), toHex((await node.chain.getHeader(blockHash(base.blocks[2].header)))?.bytes ?? new Uint8Array(1)))
    const hashes = [blockHash(mainBlocks[0].header), new Uint8Array(32), blockHash(sideBlocks[0].header)]
    const headers = await node.chain.getHeaders(hashes)
    assert.deepEqual((await node.chain.getHeaderBytes(hashes)).map(b => b === undefined ? undefined : toHex(b)), headers.map(h => h === undefined ? undefined : toHex(h.bytes)))
    await node.close()
  } finally {
    await removeDir(dir)
  }
})
