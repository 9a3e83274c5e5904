import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { readAccount } from '../../src/protocol/demo/index.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { Baker, TooEarlyToBakeError } from '../../src/chain/baker.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import type { HeadChange } from '../../src/chain/chain.ts'
import { openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

/** A clock that moves a second per read, so blocks can be baked back to back. */
function jumpingClock (): () => number {
  let seconds = Math.floor(Date.now() / 1000)
  return () => (seconds++) * 1000
}

test('bakeNow bakes the mempool into a signed block that becomes the head; the mempool empties', async () => {
  const setup = demoSetup({ name: 'baker', accounts: 4, verifyWorkers: 0 })
  const dir = await tempDir('chain')
  const clock = jumpingClock()
  const node = await openChain(dir, setup, { now: clock })
  try {
    const mempool = new Mempool({ chain: node.chain })
    const builder = new DemoChainBuilder(setup)
    const ops = builder.transfers([{ from: 0, to: 1, amount: 100n, fee: 2n }, { from: 0, to: 2, amount: 50n }, { from: 3, to: 0, amount: 7n }])
    for (const op of ops) await mempool.add(op)
    const baker = new Baker({ chain: node.chain, mempool, bakerKey: setup.baker.secretKey, now: clock })
    const result = await baker.bakeNow()
    assert.equal(result.operations, 3)
    assert.deepEqual(result.refused, [])
    assert.equal(node.chain.head.header.shell.level, 1)
    assert.match(result.hash, /^B/)
    await mempool.idle()
    assert.equal(mempool.size, 0)
    assert.equal((await readAccount(node.chain.state, setup.accounts[1].publicKeyHash))?.balance, 1_000_000_000_000n + 100n)
    assert.equal((await readAccount(node.chain.state, setup.baker.publicKeyHash))?.balance, 2n)
    // An empty mempool still gives a block; a key that is not the baker's gives none.
    assert.equal((await baker.bakeNow()).operations, 0)
    const intruder = new Baker({ chain: node.chain, bakerKey: setup.accounts[0].secretKey, now: clock })
    await assert.rejects(intruder.bakeNow(), RangeError)
    assert.equal(node.chain.head.header.shell.level, 2)
    mempool.stop()
  } finally {
    await node.close()
    await removeDir(dir)
  }
})

test('the baker never dates a block more than the allowed drift ahead of its clock', async () => {
  const setup = demoSetup({ name: 'baker-early', verifyWorkers: 0, genesisTimestamp: 1_800_000_000n })
  const dir = await tempDir('chain')
  const node = await openChain(dir, setup, { now: () => 1_800_000_000_000 })
  try {
    const baker = new Baker({ chain: node.chain, bakerKey: setup.baker.secretKey, now: () => 1_800_000_000_000 })
    const first = await baker.bakeNow()
    assert.equal(first.header.shell.timestamp, 1_800_000_001n)
    await assert.rejects(baker.bakeNow(), TooEarlyToBakeError)
    assert.equal(node.chain.head.header.shell.level, 1)
  } finally {
    await node.close()
    await removeDir(dir)
  }
})

test('a started baker bakes on its period until stopped', { timeout: 30_000 }, async () => {
  const setup = demoSetup({ name: 'baker-loop', accounts: 2, verifyWorkers: 0 })
  const dir = await tempDir('chain')
  const clock = jumpingClock()
  const node = await openChain(dir, setup, { now: clock })
  try {
    const mempool = new Mempool({ chain: node.chain })
    const builder = new DemoChainBuilder(setup)
    await mempool.add(builder.transfers([{ from: 0, to: 1, amount: 1n }])[0])
    const bakes: unknown[] = []
    const baker = new Baker({ chain: node.chain, mempool, bakerKey: setup.baker.secretKey, intervalMs: 10, now: clock, onBake: r => bakes.push(r) })
    const heads: HeadChange[] = []
    const threeHeads = new Promise<void>(resolve => node.chain.on('head', c => { heads.push(c); if (heads.length === 3) resolve() }))
    baker.start()
    await threeHeads
    await baker.stop()
    const level = node.chain.head.header.shell.level
    assert.ok(level >= 3)
    assert.ok(bakes.every(b => !(b instanceof Error)), String(bakes.find(b => b instanceof Error)))
    const first = await node.chain.getBlockByLevel(1)
    assert.equal((await node.chain.getOperations(first?.hash ?? new Uint8Array(32), 0))?.length, 1)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(node.chain.head.header.shell.level, level, 'no block after stop()')
    assert.equal(toHex(node.chain.head.hash).length, 64)
    mempool.stop()
  } finally {
    await node.close()
    await removeDir(dir)
  }
})
