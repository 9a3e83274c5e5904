import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { readAccount } from '../../src/protocol/demo/index.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { ChainStoreError } from '../../src/chain/store.ts'
import { GenesisConfigError, namedGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { Baker } from '../../src/chain/baker.ts'
import { createAcceptAllProtocol } from '../../src/protocol/accept-all.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { dumpState, openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

test('a 2 000-block demo chain with transfers in 2 passes: balances, counters and hashes match the builder and survive a reopen', async () => {
  const setup = demoSetup({ name: 'chain-2000', accounts: 12, validationPasses: 2 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(2000, 3)
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup, { commitEvery: 64 })
    const heads: number[] = []
    node.chain.on('head', change => heads.push(change.head.header.shell.level))
    // Mostly long runs (as a sync applies them), the end block by block (as gossip delivers them).
    for (let i = 0; i < 1980; i += 330) {
      const r = await node.chain.addBlocks(blocks.slice(i, i + 330))
      assert.equal(r.stored, Math.min(330, 1980 - i))
    }
    for (const b of blocks.slice(1980)) assert.equal((await node.chain.addBlock(b.header, b.operations)).headChanged, true)
    assert.equal(node.chain.head.header.shell.level, 2000)
    assert.equal(node.chain.head.hex, toHex(builder.head.hash))
    assert.deepEqual(heads.slice(-3), [1998, 1999, 2000])
    assert.ok(heads.every((l, i) => i === 0 || l > heads[i - 1]), 'heads only go up')
    for (let i = 0; i < setup.accounts.length; i++) {
      const account = await readAccount(node.chain.state, setup.accounts[i].publicKeyHash)
      assert.equal(account?.balance, await builder.balance(i))
    }
    // Counters: every transfer used the next counter, so the sum of counters is the number of transfers.
    let counters = 0n
    for (const a of setup.accounts) counters += (await readAccount(node.chain.state, a.publicKeyHash))?.counter ?? 0n
    assert.equal(counters, 6000n)
    assert.deepEqual(await dumpState(node.chain), builder.stateSnapshot())
    // Re-adding known blocks changes nothing.
    const again = await node.chain.addBlocks(blocks.slice(100, 110))
    assert.deepEqual([again.known, again.stored, again.headChanged], [10, 0, false])
    await node.close()

    const reopened = await openChain(dir, setup)
    assert.equal(reopened.chain.head.hex, toHex(builder.head.hash))
    for (let level = 1; level <= 2000; level++) {
      const h = await reopened.chain.getBlockByLevel(level)
      assert.equal(h?.hex, toHex(blockHash(blocks[level - 1].header)), `level ${level}`)
    }
    const mid = blocks[999]
    const ops = await reopened.chain.getOperations(blockHash(mid.header), 1)
    assert.deepEqual(ops?.map(o => toHex(o.data)), mid.operations[1].map(o => toHex(o.data)))
    assert.equal((await reopened.chain.getAncestor(builder.head.hash, 1500))?.header.shell.level, 500)
    assert.equal((await reopened.chain.getAncestor(builder.head.hash, 1500))?.hex, toHex(blockHash(blocks[499].header)))
    assert.deepEqual(await dumpState(reopened.chain), builder.stateSnapshot())
    await reopened.close()
  } finally {
    await setup.protocol.close?.()
    await removeDir(dir)
  }
})

test('a store refuses another genesis or protocol; a genesis must name the protocol the node runs', async () => {
  const a = demoSetup({ name: 'genesis-a', verifyWorkers: 0 })
  const b = demoSetup({ name: 'genesis-b', verifyWorkers: 0 })
  const dir = await tempDir('chain')
  try {
    await (await openChain(dir, a)).close()
    await assert.rejects(openChain(dir, b), ChainStoreError)
    await assert.rejects(openChain(dir, { protocol: a.protocol, genesis: b.genesis }), GenesisConfigError)
    const again = await openChain(dir, a)
    assert.equal(again.chain.head.header.shell.level, 0)
    assert.equal(again.chain.head.hex, toHex(again.chain.genesis.hash))
    await again.close()
  } finally {
    await removeDir(dir)
  }
})

test('the chain runs the accept-all protocol: any operation, blocks checked only by the shell rules', async () => {
  const protocol = createAcceptAllProtocol({ validationPasses: 2 })
  const genesis = namedGenesis('accept-all', 1_600_000_000, protocol.hash)
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, { protocol, genesis })
    const mempool = new Mempool({ chain: node.chain })
    const branch = node.chain.head.hash
    for (let i = 0; i < 5; i++) await mempool.add({ branch, data: Uint8Array.of(i, 42, i) })
    const baker = new Baker({ chain: node.chain, mempool, now: () => 1_600_000_100_000 })
    const baked = await baker.bakeNow()
    assert.equal(baked.operations, 5)
    const hash = node.chain.head.hash
    assert.deepEqual((await node.chain.getOperations(hash, 0))?.map(o => o.data[0]), [0, 2, 4])
    assert.deepEqual((await node.chain.getOperations(hash, 1))?.map(o => o.data[0]), [1, 3])
    await mempool.idle()
    assert.equal(mempool.size, 0)
    // The shell still refuses a block that does not follow its predecessor's level.
    const wrong = { ...baked.header, shell: { ...baked.header.shell, level: 5 } }
    await assert.rejects(node.chain.addBlock(wrong, [[], []]), (e: InvalidBlockError) => e.code === 'bad_level')
    mempool.stop()
    await node.close()
  } finally {
    await removeDir(dir)
  }
})
