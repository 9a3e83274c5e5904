import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { blake2b256 } from '../../src/crypto/index.ts'
import { operationHash, type Operation } from '../../src/wire/operation.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { Mempool, MempoolRefusedError } from '../../src/chain/mempool.ts'
import { openChain, type OpenedChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/** A signed transfer branched on `branch` with an explicit counter. */
function transfer (setup: DemoSetup, branch: Uint8Array, from: number, to: number, amount: bigint, counter: bigint): Operation {
  const a = setup.accounts[from]
  return { branch, data: signTransfer(branch, { publicKey: a.publicKey, destination: setup.accounts[to].publicKeyHash, amount, fee: 1n, counter }, a.secretKey) }
}

async function withChain (name: string, fn: (node: OpenedChain, setup: DemoSetup, builder: DemoChainBuilder) => Promise<void>): Promise<void> {
  const setup = demoSetup({ name, accounts: 5, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const dir = await tempDir('chain')
  const node = await openChain(dir, setup)
  try {
    await node.chain.addBlocks(await builder.grow(2, 0))
    await fn(node, setup, builder)
  } finally {
    await node.close()
    await removeDir(dir)
  }
}

const refusal = (code: string, protocolCode?: string) => (e: unknown): boolean => {
  assert.ok(e instanceof MempoolRefusedError)
  assert.equal(e.code, code)
  if (protocolCode !== undefined) assert.equal(e.protocolError?.code, protocolCode)
  return true
}

test('admission: valid operations in sequence, dedupe by hash, typed refusals, dead branches', async () => {
  await withChain('mempool-admit', async (node, setup, builder) => {
    const mempool = new Mempool({ chain: node.chain })
    const head = builder.head.hash
    const first = transfer(setup, head, 0, 1, 10n, 1n)
    assert.deepEqual(await mempool.add(first), { hash: operationHash(first), status: 'added' })
    assert.equal((await mempool.add(first)).status, 'known')
    assert.equal((await mempool.add(transfer(setup, head, 0, 2, 5n, 2n))).status, 'added')
    await assert.rejects(mempool.add(transfer(setup, head, 0, 2, 5n, 2n + 2n)), refusal('invalid', 'counter_in_the_future'))
    await assert.rejects(mempool.add(transfer(setup, head, 0, 2, 5n, 1n)), refusal('invalid', 'counter_in_the_past'))
    await assert.rejects(mempool.add(transfer(setup, head, 1, 2, 2_000_000_000_000n, 1n)), refusal('invalid', 'balance_too_low'))
    const forged = transfer(setup, head, 3, 2, 5n, 1n)
    forged.data[75] ^= 1
    await assert.rejects(mempool.add(forged), refusal('invalid', 'bad_signature'))
    await assert.rejects(mempool.add(forged), refusal('invalid', 'bad_signature'))
    await assert.rejects(mempool.add(transfer(setup, blake2b256(Uint8Array.of(7)), 3, 2, 5n, 1n)), refusal('branch_not_live'))
    assert.equal(mempool.size, 2)
    assert.deepEqual(mempool.hashes().map(toHex), [toHex(operationHash(first)), toHex(operationHash(mempool.operations()[1]))])
    assert.equal(mempool.has(operationHash(first)), true)
    assert.equal(mempool.get(operationHash(first))?.data.length, 161)
    mempool.stop()
    await assert.rejects(mempool.add(transfer(setup, head, 4, 2, 5n, 1n)), refusal('stopped'))
  })
})

test('bounds: a full mempool (by count or by bytes) refuses newcomers with "full"', async () => {
  await withChain('mempool-bounds', async (node, setup, builder) => {
    const head = builder.head.hash
    const byCount = new Mempool({ chain: node.chain, maxOperations: 3 })
    for (let i = 0; i < 3; i++) await byCount.add(transfer(setup, head, i, 4, 1n, 1n))
    await assert.rejects(byCount.add(transfer(setup, head, 3, 4, 1n, 1n)), refusal('full'))
    assert.equal(byCount.size, 3)
    byCount.stop()
    const byBytes = new Mempool({ chain: node.chain, maxBytes: 2 * 193 + 100 })
    await byBytes.add(transfer(setup, head, 0, 4, 1n, 1n))
    await byBytes.add(transfer(setup, head, 1, 4, 1n, 1n))
    assert.equal(byBytes.bytes, 2 * 193)
    await assert.rejects(byBytes.add(transfer(setup, head, 2, 4, 1n, 1n)), refusal('full'))
    byBytes.stop()
  })
})

test('announcements are batched: hashes admitted within the delay arrive together; stop() cancels a pending batch', async () => {
  await withChain('mempool-batch', async (node, setup, builder) => {
    const head = builder.head.hash
    const batches: string[][] = []
    let delivered: () => void = () => {}
    const mempool = new Mempool({
      chain: node.chain,
      announceDelayMs: 30,
      onAnnounce: hashes => { batches.push(hashes.map(toHex)); delivered() }
    })
    const wait = async (): Promise<void> => await new Promise<void>(resolve => { delivered = resolve })
    let next = wait()
    const ops = [transfer(setup, head, 0, 1, 1n, 1n), transfer(setup, head, 1, 2, 1n, 1n), transfer(setup, head, 2, 3, 1n, 1n)]
    await Promise.all(ops.map(async op => await mempool.add(op)))
    await next
    assert.deepEqual(batches, [ops.map(op => toHex(operationHash(op)))])
    next = wait()
    const late = transfer(setup, head, 0, 1, 1n, 2n)
    await mempool.add(late)
    await next
    assert.deepEqual(batches[1], [toHex(operationHash(late))])
    // A batch pending at stop() is never delivered (and the timer does not keep the process alive).
    await mempool.add(transfer(setup, head, 3, 1, 1n, 1n))
    mempool.stop()
    await new Promise(resolve => setTimeout(resolve, 60))
    assert.equal(batches.length, 2)
  })
})

test('a new head removes the operations it includes and drops those it made invalid; a branch switch brings operations back', async () => {
  await withChain('mempool-head', async (node, setup, builder) => {
    const mempool = new Mempool({ chain: node.chain })
    const head = builder.head.hash
    const kept = transfer(setup, head, 2, 3, 7n, 1n)
    const included = transfer(setup, head, 0, 1, 10n, 1n)
    const conflicting = transfer(setup, head, 1, 4, 3n, 1n) // the block uses account 1's counter 1 for another transfer
    for (const op of [included, conflicting, kept]) await mempool.add(op)
    const fork = builder.fork('side')
    const other = transfer(setup, head, 1, 0, 99n, 1n)
    const block = await builder.bake([included, other])
    await node.chain.addBlock(block.header, block.operations)
    await mempool.idle()
    assert.deepEqual(mempool.hashes().map(toHex), [toHex(operationHash(kept))])
    // What the pool holds or a recent block included is handled (a peer announcing it is not
    // asked for it); a transfer dropped for its used counter is not (another branch may want it).
    for (const op of [kept, included, other]) assert.equal(mempool.handled(operationHash(op)), true)
    assert.equal(mempool.handled(operationHash(conflicting)), false)
    // A longer side branch without those transfers takes over: they come back.
    const side = await fork.grow(2, 0)
    await node.chain.addBlocks(side)
    await mempool.idle()
    const back = new Set(mempool.hashes().map(toHex))
    assert.ok(back.has(toHex(operationHash(included))))
    assert.ok(back.has(toHex(operationHash(kept))))
    assert.equal(back.size, 3) // `included`, `kept` and the block's other transfer
    mempool.stop()
  })
})

test('an operation whose counter skips ahead waits for a head that fills the gap, then is admitted and announced', async () => {
  await withChain('mempool-delayed', async (node, setup, builder) => {
    const announced: string[] = []
    const mempool = new Mempool({ chain: node.chain, announceDelayMs: 1, onAnnounce: hashes => { announced.push(...hashes.map(toHex)) } })
    const head = builder.head.hash
    const first = transfer(setup, head, 0, 1, 10n, 1n)
    const second = transfer(setup, head, 0, 2, 5n, 2n)
    // Counter 1 is not applied here yet (a block this node has not received): refused for now, kept.
    await assert.rejects(mempool.add(second), refusal('invalid', 'counter_in_the_future'))
    assert.equal(mempool.has(operationHash(second)), false)
    assert.equal(mempool.handled(operationHash(second)), true, 'held aside: a peer announcing it is not asked for it again')
    // A head whose block carries counter 1: the delayed transfer is tried again and admitted.
    const block = await builder.bake([first])
    await node.chain.addBlock(block.header, block.operations)
    await mempool.idle()
    assert.deepEqual(mempool.hashes().map(toHex), [toHex(operationHash(second))])
    await waitFor(() => announced.includes(toHex(operationHash(second))), { what: 'the delayed transfer announced' })
    // One that a head makes worthless (its counter used by another transfer) is dropped, not kept.
    const skipped = transfer(setup, head, 3, 2, 5n, 3n)
    await assert.rejects(mempool.add(skipped), refusal('invalid', 'counter_in_the_future'))
    const other = await builder.bake([transfer(setup, head, 3, 1, 1n, 1n), transfer(setup, head, 3, 1, 1n, 2n), transfer(setup, head, 3, 1, 1n, 3n)])
    await node.chain.addBlock(other.header, other.operations)
    await mempool.idle()
    assert.equal(mempool.has(operationHash(skipped)), false)
    assert.equal(mempool.handled(operationHash(skipped)), false, 'refused on the new head for a used counter: no longer held')
    mempool.stop()
  })
})

test('a block rebuilt from a pool holding more operations, in another order: picked by the hashes its announcer lists', async () => {
  await withChain('mempool-rebuild', async (node, setup, builder) => {
    const mempool = new Mempool({ chain: node.chain })
    const head = builder.head.hash
    const [a, b, extra] = [transfer(setup, head, 0, 1, 1n, 1n), transfer(setup, head, 2, 3, 1n, 1n), transfer(setup, head, 4, 0, 1n, 1n)]
    // The pool received them as [extra, b, a]; the block holds [a, b].
    for (const op of [extra, b, a]) await mempool.add(op)
    const block = await builder.bake([a, b])
    const listed = [a, b].map(op => operationHash(op))
    const rebuilt = mempool.operationsOfBlock(block.header, listed)
    assert.deepEqual(rebuilt?.map(pass => pass.map(op => toHex(operationHash(op)))), [listed.map(toHex)])
    // Without the list the pool, whole and in admission order, is not the block: fetched instead.
    assert.equal(mempool.operationsOfBlock(block.header), undefined)
    // A list that is not the block's (wrong order) never passes the operations_hash check.
    assert.equal(mempool.operationsOfBlock(block.header, [listed[1], listed[0]]), undefined)
    // A listed hash the pool lacks: nothing picked (the block is fetched).
    assert.equal(mempool.operationsOfBlock(block.header, [...listed, blake2b256(new Uint8Array([1]))]), undefined)
    // The pool being exactly the block, in its order, still needs no list.
    const exact = new Mempool({ chain: node.chain })
    for (const op of [a, b]) await exact.add(op)
    assert.equal(exact.operationsOfBlock(block.header)?.[0].length, 2)
    mempool.stop()
    exact.stop()
  })
})
