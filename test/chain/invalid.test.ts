import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import type { Operation } from '../../src/wire/operation.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import {
  CheckpointConflictError, FutureBlockError, KnownInvalidBlockError, OperationsMismatchError, UnknownPredecessorError
} from '../../src/chain/errors.ts'
import { dumpDatabase, forgeDemoBlock, openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const INVALID_PREFIX = '!chain-invalid!'

test('invalid blocks are refused with a typed error, recorded known invalid, and leave the store unchanged', async () => {
  const setup = demoSetup({ name: 'invalid', accounts: 4, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(3, 2)
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup)
    await node.chain.addBlocks(blocks)
    const before = await dumpDatabase(node.db)
    const head = builder.head
    const [alice, bob] = setup.accounts
    const sign = (counter: bigint, amount: bigint, from = alice): Operation => ({
      branch: head.hash,
      data: signTransfer(head.hash, { publicKey: from.publicKey, destination: bob.publicKeyHash, amount, fee: 0n, counter }, from.secretKey)
    })
    const aliceCounter = builder.fork('peek').transfers([{ from: 0, to: 1, amount: 1n }])[0].data
    const next = new DataView(aliceCounter.buffer, aliceCounter.byteOffset).getBigInt64(89) // the counter alice must use next
    const forgedSignature = sign(next, 5n)
    forgedSignature.data[120] ^= 0x40
    const cases: Array<[string, Operation[][], string]> = [
      ['bad signature', [[forgedSignature]], 'bad_signature'],
      ['used counter', [[sign(next - 1n, 5n)]], 'counter_in_the_past'],
      ['skipped counter', [[sign(next + 1n, 5n)]], 'counter_in_the_future'],
      ['overspend', [[sign(next, 2_000_000_000_000n)]], 'balance_too_low']
    ]
    const recorded: Uint8Array[] = []
    for (const [what, operations, code] of cases) {
      const header = forgeDemoBlock(setup, head, operations)
      recorded.push(blockHash(header))
      await assert.rejects(node.chain.addBlock(header, operations), (e: InvalidBlockError) => {
        assert.ok(e instanceof InvalidBlockError, what)
        assert.equal(e.code, 'invalid_operation', what)
        assert.equal(e.operation?.error.code, code, what)
        assert.equal(e.block?.level, 4)
        return true
      })
      const record = await node.chain.isKnownInvalid(blockHash(header))
      assert.equal(record?.code, 'invalid_operation', what)
      await assert.rejects(node.chain.addBlock(header, operations), KnownInvalidBlockError)
      // A child of the invalid block is invalid too.
      const child = forgeDemoBlock(setup, { hash: blockHash(header), header }, [[]])
      await assert.rejects(node.chain.addBlock(child, [[]]), (e: InvalidBlockError) => e.code === 'invalid_predecessor')
      assert.equal((await node.chain.isKnownInvalid(blockHash(child)))?.code, 'invalid_predecessor')
    }
    // A header that does not commit to the state it produces.
    const good = await builder.fork('good').bake(builder.fork('ops').transfers([{ from: 1, to: 2, amount: 3n }]))
    const wrongContext = forgeDemoBlock(setup, head, good.operations)
    await assert.rejects(node.chain.addBlock(wrongContext, good.operations), (e: InvalidBlockError) => e.code === 'bad_context')
    // A header signed by someone else.
    const badBaker = { ...good.header, protocolData: Uint8Array.from(good.header.protocolData) }
    badBaker.protocolData[40] ^= 1
    await assert.rejects(node.chain.addBlock(badBaker, good.operations), (e: InvalidBlockError) => e.code === 'bad_block_signature')
    // Nothing but known-invalid records was written, and the head did not move.
    assert.deepEqual(await dumpDatabase(node.db, INVALID_PREFIX), new Map([...before].filter(([k]) => !k.startsWith(INVALID_PREFIX))))
    assert.equal(node.chain.head.hex, toHex(head.hash))

    // Operations that do not match the header: the operations are at fault, not the block.
    const withoutOps = good.operations.map(() => [])
    await assert.rejects(node.chain.addBlock(good.header, withoutOps), OperationsMismatchError)
    await assert.rejects(node.chain.addBlock(good.header, []), OperationsMismatchError)
    assert.equal(await node.chain.isKnownInvalid(blockHash(good.header)), undefined)
    assert.deepEqual(await dumpDatabase(node.db, INVALID_PREFIX), new Map([...before].filter(([k]) => !k.startsWith(INVALID_PREFIX))))
    // … and the block is accepted with its real operations.
    assert.equal((await node.chain.addBlock(good.header, good.operations)).headChanged, true)
    assert.equal(node.chain.head.header.shell.level, 4)
    await node.close()
    // Reopened, the store still finds its known-invalid records (and a block never refused is not one).
    const reopened = await openChain(dir, setup)
    try {
      for (const hash of recorded) assert.equal((await reopened.chain.isKnownInvalid(hash))?.code, 'invalid_operation')
      assert.equal(await reopened.chain.isKnownInvalid(blockHash(good.header)), undefined)
    } finally {
      await reopened.close()
    }
  } finally {
    await removeDir(dir)
  }
})

test('unknown predecessors, future blocks, dead operation branches and checkpoint conflicts are refused', async () => {
  const setup = demoSetup({ name: 'refusals', accounts: 3, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(6, 1)
  const dir = await tempDir('chain')
  try {
    let clock = Number(blocks[2].header.shell.timestamp) * 1000
    const node = await openChain(dir, setup, { now: () => clock })
    await assert.rejects(node.chain.addBlock(blocks[1].header, blocks[1].operations), UnknownPredecessorError)
    await node.chain.addBlocks(blocks.slice(0, 3))
    // Block 4 is 1 s ahead of the clock (allowed), block 5 is 2 s ahead (refused, not recorded).
    await node.chain.addBlock(blocks[3].header, blocks[3].operations)
    await assert.rejects(node.chain.addBlock(blocks[4].header, blocks[4].operations), FutureBlockError)
    assert.equal(await node.chain.isKnownInvalid(blockHash(blocks[4].header)), undefined)
    clock += 10_000
    await node.chain.addBlocks(blocks.slice(4))
    assert.equal(node.chain.head.header.shell.level, 6)
    await node.close()

    // Operations must branch on one of the last `maxOperationsTtl` blocks of the chain they extend.
    const dir2 = await tempDir('chain')
    try {
      const ttlSetup = { ...setup, protocol: { ...setup.protocol, maxOperationsTtl: 2 } }
      const short = await openChain(dir2, ttlSetup)
      await short.chain.addBlocks(blocks.slice(0, 3))
      const oldBranch = blockHash(blocks[0].header) // level 1, three levels below the next block (4)
      const account = setup.accounts[2]
      // Well signed; whatever its counter, the branch is checked first.
      const op: Operation = { branch: oldBranch, data: signTransfer(oldBranch, { publicKey: account.publicKey, destination: setup.accounts[1].publicKeyHash, amount: 1n, fee: 0n, counter: 1n }, account.secretKey) }
      const head = { hash: blockHash(blocks[2].header), header: blocks[2].header }
      const header = forgeDemoBlock(ttlSetup, head, [[op]])
      await assert.rejects(short.chain.addBlock(header, [[op]]), (e: InvalidBlockError) => e.code === 'operation_branch_not_live')
      assert.equal(await short.chain.isLiveBranch(blockHash(blocks[1].header)), true)
      assert.equal(await short.chain.isLiveBranch(oldBranch), false)
      await short.close()
    } finally {
      await removeDir(dir2)
    }

    // Checkpoint: another block at its level, or a branch forking below it, is refused.
    const dir3 = await tempDir('chain')
    try {
      const cp = await openChain(dir3, setup)
      await cp.chain.addBlocks(blocks.slice(0, 4))
      // A rival branch forking at level 1: its first blocks are stored (not better than the head)…
      const fork = new DemoChainBuilder(setup)
      await fork.grow(1, 1)
      const rival = await fork.fork('rival').grow(6, 0)
      assert.equal((await cp.chain.addBlocks(rival.slice(0, 3))).headChanged, false)
      // … then the checkpoint is set at level 3 of the current chain.
      await cp.chain.setCheckpoint(blockHash(blocks[2].header))
      // The rest of the rival would beat the head, but it forks below the checkpoint.
      await assert.rejects(cp.chain.addBlocks(rival.slice(3)), (e: Error) => e instanceof CheckpointConflictError && /forks at level 1/.test(e.message))
      // A new block at the checkpoint level that is not the checkpoint is refused outright.
      const other = await new DemoChainBuilder(setup).fork('other').grow(3, 0)
      await assert.rejects(cp.chain.addBlocks(other), (e: Error) => e instanceof CheckpointConflictError && /checkpoint at level 3/.test(e.message))
      assert.equal(cp.chain.head.header.shell.level, 4)
      await cp.close()
      const reopened = await openChain(dir3, setup)
      assert.equal(reopened.chain.checkpoint.level, 3)
      await reopened.close()
    } finally {
      await removeDir(dir3)
    }
  } finally {
    await removeDir(dir)
  }
})

test('with signatures prechecked on worker threads, a forged signature deep in a long run is still caught', async () => {
  const setup = demoSetup({ name: 'invalid-pool', accounts: 6, verifyWorkers: 2 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(40, 2)
  const [op] = builder.transfers([{ from: 0, to: 1, amount: 1n }])
  op.data[130] ^= 0x08
  const forged = forgeDemoBlock(setup, builder.head, [[op]])
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup, { commitEvery: 8 })
    await assert.rejects(node.chain.addBlocks([...blocks, { header: forged, operations: [[op]] }]),
      (e: InvalidBlockError) => e.operation?.error.code === 'bad_signature' && e.block?.level === 41)
    assert.equal(node.chain.head.hex, toHex(builder.head.hash))
    await node.close()
  } finally {
    await setup.protocol.close?.()
    await removeDir(dir)
  }
})
