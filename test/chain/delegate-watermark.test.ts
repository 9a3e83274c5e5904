import { test } from 'node:test'
import assert from 'node:assert/strict'
import { namedGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { DelegateBaker, type DelegateEvent } from '../../src/chain/delegate-baker.ts'
import { DelegateWatermarks, WatermarkDecodeError } from '../../src/chain/delegate-watermark.ts'
import { sublevel } from '../../src/storage/database.ts'
import { toHex } from '../../src/encoding/index.ts'
import { waitFor } from '../helpers/wait.ts'
import { openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { v3Net } from '../protocol/demo-v3/helpers.ts'

const levelsOf = (events: readonly DelegateEvent[], kind: 'baked' | 'endorsed'): number[] =>
  events.flatMap(e => e.kind === kind ? [e.level] : [])

test('a delegate keeps the last levels it baked and endorsed in the store, and after a restart signs nothing at or below them', async () => {
  const net = v3Net('delegate-watermark')
  const genesis = namedGenesis('delegate-watermark', Math.floor(Date.now() / 1000) - 1, net.protocol.hash)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis })
  const mempool = new Mempool({ chain: node.chain })
  const watermarks = new DelegateWatermarks(node.db)
  const run = (events: DelegateEvent[][]): DelegateBaker[] => net.delegates.map((d, i) => new DelegateBaker({
    chain: node.chain, mempool, key: d.secretKey, watermarks, onEvent: e => { events[i].push(e) }
  }))
  let bakers: DelegateBaker[] = []
  try {
    // A first run: the store holds at least the levels each delegate signed (the mark is written
    // before a signature leaves, so also for one the mempool then turned away).
    const first: DelegateEvent[][] = net.delegates.map(() => [])
    bakers = run(first)
    for (const b of bakers) b.start()
    await waitFor(() => node.chain.head.header.shell.level >= 3, { what: 'level 3 baked', timeoutMs: 120_000 })
    for (const b of bakers) await b.stop()
    assert.deepEqual(first.flat().filter(e => e.kind === 'error'), [])
    for (const [i, d] of net.delegates.entries()) {
      const mark = await watermarks.load(d.publicKeyHash)
      const baked = Math.max(0, ...levelsOf(first[i], 'baked'))
      const endorsed = Math.max(0, ...levelsOf(first[i], 'endorsed'))
      assert.ok(mark.baked >= baked && mark.baked <= node.chain.head.header.shell.level, `delegate ${i} baked up to ${baked}, mark ${mark.baked}`)
      assert.ok(mark.endorsed >= endorsed && mark.endorsed <= node.chain.head.header.shell.level, `delegate ${i} endorsed up to ${endorsed}, mark ${mark.endorsed}`)
    }
    assert.ok(levelsOf(first.flat(), 'endorsed').length > 0, 'the first run endorsed')

    // As if delegate 0 had signed a block and an endorsement a few levels ahead before its node
    // went down without keeping them: after the restart it signs nothing at those levels.
    const head = node.chain.head.header.shell.level
    const signedAhead = head + 3
    await watermarks.save(net.delegates[0].publicKeyHash, { baked: signedAhead, endorsed: signedAhead })
    const second: DelegateEvent[][] = net.delegates.map(() => [])
    bakers = run(second)
    for (const b of bakers) b.start()
    await waitFor(() => levelsOf(second[0], 'endorsed').some(l => l > signedAhead), {
      what: () => `delegate 0 endorsing past level ${signedAhead} (head ${node.chain.head.header.shell.level})`, timeoutMs: 120_000
    })
    for (const b of bakers) await b.stop()
    assert.deepEqual(second.flat().filter(e => e.kind === 'error'), [])
    assert.deepEqual(levelsOf(second[0], 'baked').filter(l => l <= signedAhead), [])
    assert.deepEqual(levelsOf(second[0], 'endorsed').filter(l => l <= signedAhead), [])
    // The others were held back by nothing: they endorsed the levels delegate 0 skipped.
    assert.ok(levelsOf(second.slice(1).flat(), 'endorsed').some(l => l > head && l <= signedAhead), 'the other delegates endorsed meanwhile')
  } finally {
    for (const b of bakers) await b.stop()
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})

test('a watermark record of the wrong size is refused with a typed error, and the delegate signs nothing', async () => {
  const net = v3Net('delegate-watermark-bad')
  const genesis = namedGenesis('delegate-watermark-bad', Math.floor(Date.now() / 1000) - 1, net.protocol.hash)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis })
  const mempool = new Mempool({ chain: node.chain })
  const watermarks = new DelegateWatermarks(node.db)
  const delegate = net.delegates[0]
  await sublevel(node.db, 'delegate-watermark').put(toHex(delegate.publicKeyHash), new Uint8Array(3))
  await assert.rejects(watermarks.load(delegate.publicKeyHash), WatermarkDecodeError)
  const events: DelegateEvent[] = []
  const baker = new DelegateBaker({ chain: node.chain, mempool, key: delegate.secretKey, watermarks, onEvent: e => { events.push(e) } })
  try {
    baker.start()
    await waitFor(() => events.length > 0, { what: 'the delegate reporting the unreadable watermark' })
    baker.nudge()
    await baker.stop()
    assert.deepEqual(events.map(e => e.kind === 'error' ? e.error.name : e.kind), ['WatermarkDecodeError'])
  } finally {
    await baker.stop()
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})
