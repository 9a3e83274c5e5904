import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import type { Operation } from '../../src/wire/operation.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { misbehaviourOf } from '../../src/misbehaviour/index.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { forgeDemoBlock, openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

test('a new head is validated, then announced, then applied: its operations are served before it is stored', async () => {
  const setup = demoSetup({ name: 'validated-block', accounts: 4, validationPasses: 2, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(2, 3)
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup)
    const events: string[] = []
    const seen: unknown[] = []
    node.chain.on('block:validated', ({ block, operationHashes }) => {
      events.push(`block:validated ${block.header.shell.level}`)
      // Read now, before the block is applied: what a peer that heard the advertisement asks for.
      seen.push((async () => ({
        head: node.chain.head.header.shell.level,
        stored: await node.chain.hasBlock(block.hash),
        passes: (await node.chain.getOperationPasses([0, 1].map(pass => ({ hash: block.hash, pass })))).map(p => p?.listHashes.length),
        operations: operationHashes.length
      }))())
    })
    node.chain.on('head:validated', head => { events.push(`head:validated ${head.header.shell.level}`) })
    node.chain.on('head', change => { events.push(`head ${change.head.header.shell.level}`) })
    for (const block of blocks) await node.chain.addBlocks([block])
    assert.deepEqual(events, [
      'block:validated 1', 'head:validated 1', 'head 1',
      'block:validated 2', 'head:validated 2', 'head 2'
    ])
    assert.deepEqual(await Promise.all(seen as Array<Promise<unknown>>), [
      { head: 0, stored: false, passes: [2, 2], operations: 3 },
      { head: 1, stored: false, passes: [2, 2], operations: 3 }
    ])
    assert.equal(node.chain.head.hex, toHex(blockHash(blocks[1].header)))
    await node.close()
  } finally {
    await removeDir(dir)
  }
})

test('a block refused only when applied is inapplicable after validation: recorded so, and blaming no one; one refused by validation blames its sender', async () => {
  const setup = demoSetup({ name: 'inapplicable', accounts: 4, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(2, 2)
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup)
    await node.chain.addBlocks(blocks)
    const head = builder.head
    const validated: string[] = []
    node.chain.on('block:validated', ({ block }) => { validated.push(block.hex) })
    const [alice, bob] = setup.accounts
    const aliceCounter = builder.fork('peek').transfers([{ from: 0, to: 1, amount: 1n }])[0].data
    const next = new DataView(aliceCounter.buffer, aliceCounter.byteOffset).getBigInt64(89)
    const sign = (amount: bigint): Operation => ({
      branch: head.hash,
      data: signTransfer(head.hash, { publicKey: alice.publicKey, destination: bob.publicKeyHash, amount, fee: 0n, counter: next }, alice.secretKey)
    })
    const forgedSignature = sign(5n)
    forgedSignature.data[120] ^= 0x40
    // [what, operations, error code, passes validation]
    const cases: Array<[string, Operation[][], string, boolean]> = [
      ['overspend', [[sign(2_000_000_000_000n)]], 'balance_too_low', true],
      ['context not committed to', [[sign(5n)]], 'bad_context', true],
      ['bad signature', [[forgedSignature]], 'bad_signature', false]
    ]
    for (const [what, operations, code, passesValidation] of cases) {
      const header = forgeDemoBlock(setup, head, operations)
      const hex = toHex(blockHash(header))
      await assert.rejects(node.chain.addBlock(header, operations), (e: InvalidBlockError) => {
        assert.ok(e instanceof InvalidBlockError, what)
        assert.equal(e.operation?.error.code ?? e.code, code, what)
        assert.equal(e.afterValidation, passesValidation ? true : undefined, what)
        assert.equal(misbehaviourOf(e), passesValidation ? undefined : 'invalid-data', what)
        return true
      })
      assert.equal(validated.includes(hex), passesValidation, what)
      const record = await node.chain.isKnownInvalid(blockHash(header))
      assert.ok(record !== undefined, what)
      assert.equal(record.afterValidation, passesValidation ? true : undefined, what)
      // Not stored, not served, and the head did not move.
      assert.equal(await node.chain.hasBlock(blockHash(header)), false, what)
      assert.equal(node.chain.head.hex, toHex(head.hash), what)
    }
    // In a run of blocks (a bootstrap), nothing is advertised before it is applied, and a block
    // that fails to apply is its sender's fault.
    const good = await builder.fork('run').bake([])
    const overspent = forgeDemoBlock(setup, { hash: blockHash(good.header), header: good.header }, [[{
      branch: head.hash,
      data: signTransfer(head.hash, { publicKey: alice.publicKey, destination: bob.publicKeyHash, amount: 2_000_000_000_000n, fee: 0n, counter: next }, alice.secretKey)
    }]])
    validated.length = 0
    await assert.rejects(node.chain.addBlocks([good, { header: overspent, operations: [[sign(2_000_000_000_000n)]] }]), (e: InvalidBlockError) => {
      assert.ok(e instanceof InvalidBlockError)
      assert.equal(e.operation?.error.code, 'balance_too_low')
      assert.equal(e.afterValidation, undefined)
      assert.equal(misbehaviourOf(e), 'invalid-data')
      return true
    })
    assert.deepEqual(validated, [])
    assert.equal((await node.chain.isKnownInvalid(blockHash(overspent)))?.afterValidation, undefined)
    await node.close()
    // The record survives a restart.
    const reopened = await openChain(dir, setup)
    const header = forgeDemoBlock(setup, head, [[sign(2_000_000_000_000n)]])
    assert.equal((await reopened.chain.isKnownInvalid(blockHash(header)))?.afterValidation, true)
    await reopened.close()
  } finally {
    await removeDir(dir)
  }
})
