import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { storedHeader, type ChainStore, type StoreBatch } from '../../src/chain/store.ts'
import { openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : new TextDecoder().decode(b)

/** Everything the test batch below writes, read back through the store's public reads. */
async function readBack (store: ChainStore, hexes: string[]): Promise<unknown> {
  const undo = await store.getUndo(hexes[2])
  return {
    state: await Promise.all(['k1', 'k2', 'k3'].map(async k => text(await store.readState(k)))),
    levels: await Promise.all([1, 2, 3].map(async l => await store.mainChainAt(l))),
    levelsMany: await store.mainChainAtMany([1, 2, 3]),
    headers: (await store.getHeaders(hexes)).map(h => h?.header.shell.level),
    header: (await store.getHeader(hexes[0]))?.hex,
    headerBytes: (await store.getHeaderBytesMany(hexes)).map(b => b === undefined ? undefined : toHex(b)),
    records: (await store.getBlockRecords(hexes)).map(r => r?.listHashes.length),
    record: (await store.getBlockRecord(hexes[0]))?.status,
    operations: (await store.getEncodedOperationsMany([0, 1, 2, 3, 4, 5].map(pass => ({ hex: hexes[2], pass })))).map(text),
    operation: text(await store.getEncodedOperations(hexes[2], 5)),
    undo: undo?.map(w => [w.key, text(w.value)]),
    invalid: (await store.getInvalid(hexes[1]))?.code,
    invalids: (await store.getInvalids(hexes)).map(r => r?.code)
  }
}

test('reads during a write in flight are answered from the batch being written (real classic-level, caches of one entry)', async () => {
  const setup = demoSetup({ name: 'write-in-flight', accounts: 4, validationPasses: 1, verifyWorkers: 0 })
  const blocks = await new DemoChainBuilder(setup).grow(3, 0)
  const headers = blocks.map(b => storedHeader(blockHash(b.header), b.header))
  const hexes = headers.map(h => h.hex)
  const dir = await tempDir('chain')
  try {
    // Caches of one entry: most of what the batch writes is not in them, so the reads below go
    // past them while the batch is written.
    let node = await openChain(dir, setup, { cache: { headers: 1, levels: 1, state: 1, recentBlocks: 1 } })
    let store = node.chain.store
    const genesis = store.head
    const old = store.newBatch()
    old.writeState([{ key: 'k1', value: bytes('old1') }, { key: 'k2', value: bytes('old2') }, { key: 'k3', value: bytes('old3') }])
    await store.commit(old)

    const batch: StoreBatch = store.newBatch()
    batch.writeState([{ key: 'k1', value: bytes('new1') }, { key: 'k2', value: undefined }, { key: 'k3', value: bytes('new3') }])
    headers.forEach((h, i) => {
      batch.putHeader(h)
      batch.setLevel(i + 1, h.hex)
      batch.putBlockRecord(h.hex, { status: 1, listHashes: [new Uint8Array(32)] })
    })
    for (let pass = 0; pass < 6; pass++) batch.putOperations(hexes[2], pass, bytes(`ops${pass}`))
    batch.putUndo(hexes[2], [{ key: 'k1', value: bytes('old1') }, { key: 'k2', value: bytes('old2') }])
    batch.putInvalid(hexes[1], { level: 2, code: 'refused', message: 'test', at: 0 })
    // Bulk that keeps LevelDB writing for a while: without the batch's answers, the reads below
    // would reach LevelDB before it has the batch.
    for (let i = 0; i < 64; i++) batch.putOperations(`filler${i}`, 0, new Uint8Array(256 * 1024).fill(i))
    batch.setHead(headers[2])
    let shownHead: string | undefined
    const write = store.commit(batch, () => { shownHead = store.head.hex })
    // Shown at once, while LevelDB has not written it yet.
    assert.equal(shownHead, hexes[2])
    assert.equal(store.head.hex, hexes[2])
    assert.equal(store.writeInFlight, true)
    const during = readBack(store, hexes)
    const inFlightWhenRead = store.writeInFlight
    const expected = {
      state: ['new1', undefined, 'new3'],
      levels: hexes,
      levelsMany: hexes,
      headers: [1, 2, 3],
      header: hexes[0],
      headerBytes: headers.map(h => toHex(h.bytes)),
      records: [1, 1, 1],
      record: 1,
      operations: ['ops0', 'ops1', 'ops2', 'ops3', 'ops4', 'ops5'],
      operation: 'ops5',
      undo: [['k1', 'old1'], ['k2', 'old2']],
      invalid: 'refused',
      invalids: [undefined, 'refused', undefined]
    }
    assert.equal(inFlightWhenRead, true)
    assert.deepEqual(await during, expected)
    await write
    assert.equal(store.writeInFlight, false)
    assert.deepEqual(await readBack(store, hexes), expected)
    await node.close()

    // Reopened: the batch is on disk, whole.
    node = await openChain(dir, setup, { cache: { headers: 1, levels: 1, state: 1, recentBlocks: 1 } })
    store = node.chain.store
    assert.equal(store.head.hex, hexes[2])
    assert.deepEqual(await readBack(store, hexes), expected)

    // A write that fails (the database closed under it): the store shows the disk again.
    const failing = store.newBatch()
    failing.setHead(genesis)
    failing.setLevel(3, undefined)
    await node.db.close()
    await assert.rejects(store.commit(failing))
    assert.equal(store.head.hex, hexes[2])
    assert.equal(store.writeInFlight, false)
    node = await openChain(dir, setup)
    assert.equal(node.chain.head.hex, hexes[2])
    assert.equal(await node.chain.store.mainChainAt(3), hexes[2])
    await node.close()
  } finally {
    await removeDir(dir)
  }
})

test('a chain settled before its database closes restarts on the last head addBlock reported', async () => {
  const setup = demoSetup({ name: 'write-in-flight-settle', accounts: 4, validationPasses: 1, verifyWorkers: 0 })
  const blocks = await new DemoChainBuilder(setup).grow(3, 1)
  const dir = await tempDir('chain')
  try {
    let node = await openChain(dir, setup)
    for (const b of blocks.slice(0, 2)) await node.chain.addBlock(b.header, b.operations)
    const chain = node.chain
    // The 'head' event of the last block comes before its write (`ChainStore.commit`): a stop
    // begun there settles the chain, which waits for addBlock and the write.
    const headSeen = new Promise<{ hex: string, writing: boolean }>(resolve => {
      chain.on('head', change => { resolve({ hex: change.head.hex, writing: chain.store.writeInFlight }) })
    })
    const adding = chain.addBlock(blocks[2].header, blocks[2].operations)
    const seen = await headSeen
    assert.deepEqual(seen, { hex: toHex(blockHash(blocks[2].header)), writing: true })
    const reported = seen.hex
    await chain.settle()
    assert.equal(chain.store.writeInFlight, false)
    await node.close()
    await adding
    node = await openChain(dir, setup)
    assert.equal(node.chain.head.hex, reported)
    await node.close()
  } finally {
    await removeDir(dir)
  }
})
