import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

test('operation lists and block records of recent blocks answer the same from the cache as from LevelDB', async () => {
  const setup = demoSetup({ name: 'recent-cache', accounts: 4, validationPasses: 2, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(6, 3)
  const keys = blocks.flatMap(b => [0, 1].map(pass => ({ hash: blockHash(b.header), pass })))
  // Unknown blocks and passes stay unanswered in place, between known ones.
  keys.splice(3, 0, { hash: new Uint8Array(32).fill(7), pass: 0 }, { hash: blockHash(blocks[0].header), pass: 5 })
  const dir = await tempDir('chain')
  try {
    // Only the last 2 blocks stay cached: the answers mix cached and stored entries.
    const first = await openChain(dir, setup, { cache: { recentBlocks: 2 } })
    await first.chain.addBlocks(blocks)
    const mixed = await first.chain.getOperationPasses(keys)
    const records = await first.chain.store.getBlockRecords(blocks.map(b => toHex(blockHash(b.header))))
    await first.close()
    // Reopened: nothing cached, every answer comes from LevelDB.
    const second = await openChain(dir, setup)
    const stored = await second.chain.getOperationPasses(keys)
    const storedRecords = await second.chain.store.getBlockRecords(blocks.map(b => toHex(blockHash(b.header))))
    await second.close()
    assert.equal(mixed.length, keys.length)
    assert.equal(mixed[3], undefined)
    assert.equal(mixed[4], undefined)
    assert.equal(mixed.filter(x => x !== undefined).length, 12)
    // LevelDB hands back Buffers, the cache the Uint8Arrays that were written: compare bytes.
    const bytes = (xs: typeof mixed): unknown => xs.map(x => x === undefined ? undefined : { encoded: toHex(x.encoded), listHashes: x.listHashes.map(toHex) })
    assert.deepEqual(bytes(mixed), bytes(stored))
    const recordBytes = (rs: typeof records): unknown => rs.map(r => r === undefined ? undefined : { status: r.status, listHashes: r.listHashes.map(toHex) })
    assert.deepEqual(recordBytes(records), recordBytes(storedRecords))
    assert.ok(records.every(r => r !== undefined && r.listHashes.length === 2))
  } finally {
    await removeDir(dir)
  }
})

test('a new head is announced as validated while it is written: it is the head already, its header and operations are served; addBlock reports it during the write', async () => {
  const setup = demoSetup({ name: 'validated-head', accounts: 4, validationPasses: 2, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const blocks = await builder.grow(2, 2)
  const dir = await tempDir('chain')
  try {
    const node = await openChain(dir, setup)
    const events: string[] = []
    const served: Array<Promise<unknown>> = []
    node.chain.on('head:validated', head => {
      events.push(`validated ${head.header.shell.level}`)
      // Read now, during the write: what a peer that heard the announcement would ask for.
      served.push((async () => {
        const answer = {
          head: node.chain.head.header.shell.level,
          writing: node.chain.store.writeInFlight,
          header: (await node.chain.getHeaders([head.hash]))[0]?.hex,
          passes: (await node.chain.getOperationPasses([0, 1].map(pass => ({ hash: head.hash, pass })))).map(p => p?.listHashes.length),
          stored: await node.chain.hasBlock(head.hash)
        }
        events.push(`served ${head.header.shell.level}`)
        return answer
      })())
    })
    const headDuringWrite: boolean[] = []
    node.chain.on('head', change => {
      events.push(`head ${change.head.header.shell.level}`)
      headDuringWrite.push(node.chain.store.writeInFlight)
    })
    // One block as gossip hands it over (`addBlock`), then a run of one as a bootstrap does.
    await node.chain.addBlock(blocks[0].header, blocks[0].operations)
    await node.chain.addBlocks([blocks[1]])
    // `addBlock`'s head is reported during its write; a run's once it is written.
    assert.deepEqual(headDuringWrite, [true, false])
    // The head event does not wait for the reads (nor for the write): only the order of each kind is fixed.
    assert.deepEqual(events.filter(e => !e.startsWith('served')), ['validated 1', 'head 1', 'validated 2', 'head 2'])
    assert.deepEqual(events.filter(e => e.startsWith('served')), ['served 1', 'served 2'])
    const hexes = blocks.map(b => toHex(blockHash(b.header)))
    // From memory, while the write was in flight: the block was the head already.
    assert.deepEqual(await Promise.all(served), [
      { head: 1, writing: true, header: hexes[0], passes: [2, 2], stored: true },
      { head: 2, writing: true, header: hexes[1], passes: [2, 2], stored: true }
    ])
    await node.close()
  } finally {
    await removeDir(dir)
  }
})
