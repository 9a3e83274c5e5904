import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { namedGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { DelegateBaker, type DelegateEvent } from '../../src/chain/delegate-baker.ts'
import { decodeV3Fitness } from '../../src/protocol/demo-v3/index.ts'
import { readNonce } from '../../src/protocol/demo-v3/store.ts'
import { expectsCommitment } from '../../src/protocol/demo-v3/parameters.ts'
import { waitFor } from '../helpers/wait.ts'
import { openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { v3Net } from '../protocol/demo-v3/helpers.ts'

test('three delegates on one chain bake at their priorities, endorse every head and reveal their nonces', async () => {
  const net = v3Net('delegate-baker')
  const genesis = namedGenesis('delegate-baker', Math.floor(Date.now() / 1000) - 1, net.protocol.hash)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis })
  const mempool = new Mempool({ chain: node.chain })
  const events = new Map<string, DelegateEvent[]>()
  const bakers = net.delegates.map(d => {
    const list: DelegateEvent[] = []
    events.set(toHex(d.publicKeyHash), list)
    return new DelegateBaker({ chain: node.chain, mempool, key: d.secretKey, onEvent: e => { list.push(e) } })
  })
  try {
    for (const b of bakers) b.start()
    const baked = (): number[] => [...events.values()].map(l => l.filter(e => e.kind === 'baked').length)
    // Past the first cycle's commitments and into the next cycle, where they are revealed.
    const revealLevel = net.params.blocksPerCommitment
    assert.ok(expectsCommitment(net.params, revealLevel))
    await waitFor(async () => (await readNonce(node.chain.state, revealLevel))?.nonce !== undefined, {
      what: () => `the nonce of level ${revealLevel} revealed (head ${node.chain.head.header.shell.level}, baked ${baked().join('/')})`,
      timeoutMs: 120_000,
      intervalMs: 200
    })
    const errors = [...events.values()].flat().filter(e => e.kind === 'error')
    assert.deepEqual(errors, [])
    // Every block after the first carries endorsements of its predecessor.
    let endorsed = 0
    for (let level = 2; level <= node.chain.head.header.shell.level; level++) {
      const header = (await node.chain.getBlockByLevel(level))?.header
      if (header !== undefined && decodeV3Fitness(header.shell.fitness).endorsingPower > 0) endorsed++
    }
    assert.ok(endorsed > 0, 'blocks carry endorsements')
    const endorsements = [...events.values()].map(l => l.filter(e => e.kind === 'endorsed').length)
    assert.ok(endorsements.every(n => n > 0), `every delegate endorsed (${endorsements.join('/')})`)
    assert.ok([...events.values()].flat().some(e => e.kind === 'revealed'), 'a revelation was injected')
  } finally {
    for (const b of bakers) await b.stop()
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})

test('a delegate whose node is not bootstrapped neither bakes nor endorses; once it is, blocks follow', async () => {
  const net = v3Net('delegate-baker-ready')
  const genesis = namedGenesis('delegate-baker-ready', Math.floor(Date.now() / 1000) - 100, net.protocol.hash)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis })
  const mempool = new Mempool({ chain: node.chain })
  let ready = false
  let asked = 0
  const events: DelegateEvent[] = []
  // Every delegate's key on one node: someone holds priority 0 at level 1.
  const bakers = net.delegates.map(d => new DelegateBaker({
    chain: node.chain, mempool, key: d.secretKey, onEvent: e => { events.push(e) }, ready: () => { asked++; return ready }
  }))
  try {
    for (const b of bakers) b.start()
    await waitFor(() => asked >= bakers.length, { what: 'every delegate asked whether the node is ready' })
    for (const b of bakers) await b.stop()
    assert.deepEqual(events, [])
    assert.equal(node.chain.head.header.shell.level, 0)
    ready = true
    for (const b of bakers) b.start()
    await waitFor(() => node.chain.head.header.shell.level >= 2, { what: 'blocks once ready', timeoutMs: 60_000 })
  } finally {
    for (const b of bakers) await b.stop()
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})
