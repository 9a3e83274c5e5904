import { test } from 'node:test'
import assert from 'node:assert/strict'
import { namedGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { DelegateBaker, type DelegateEvent } from '../../src/chain/delegate-baker.ts'
import { EvidenceWatch } from '../../src/chain/evidence-watch.ts'
import { b58Encode } from '../../src/crypto/index.ts'
import { cycleOf } from '../../src/protocol/demo-v3/parameters.ts'
import { frozenDeposit, isDenounced } from '../../src/protocol/demo-v3/store.ts'
import { asDemoV3, decodeOperationData, endorsementOf } from '../../src/protocol/demo-v3/index.ts'
import { bytesEqual } from '../../src/encoding/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { operationHash, type Operation } from '../../src/wire/operation.ts'
import { bakeV3 } from './v3-helpers.ts'
import { waitFor } from '../helpers/wait.ts'
import { openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { v3Net } from '../protocol/demo-v3/helpers.ts'

test('a delegate baking two blocks at a level is denounced by the watch; the evidence is included and its deposit taken', async () => {
  const net = v3Net('evidence-watch')
  const genesis = namedGenesis('evidence-watch', Math.floor(Date.now() / 1000) - 1, net.protocol.hash)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis })
  const mempool = new Mempool({ chain: node.chain })
  const offender = net.delegates[2]
  const events: DelegateEvent[] = []
  const bakers = net.delegates.map(d => new DelegateBaker({
    chain: node.chain, mempool, key: d.secretKey, equivocate: d === offender, onEvent: e => { events.push(e) }
  }))
  const accused: Array<{ level: number, offender: string }> = []
  const watch = new EvidenceWatch({ chain: node.chain, mempool, ignore: [net.delegates[0].publicKeyHash], onEvidence: e => { accused.push(e) } })
  // The offender's deposit of a level's cycle, read as soon as the block including evidence about that level is the head
  // (the offender endorsing later blocks of the cycle freezes new deposits).
  const afterEvidence = new Map<number, bigint>()
  node.chain.on('head', change => {
    void (async () => {
      for (const block of change.applied) {
        for (const op of await node.chain.getOperations(block.hash, 2) ?? []) {
          const d = decodeOperationData(op.data)
          if (d.contents.kind !== 'double_baking_evidence') continue
          const level = d.contents.bh1.shell.level
          afterEvidence.set(level, await frozenDeposit(node.chain.state, cycleOf(net.params, level), offender.publicKeyHash))
        }
      }
    })()
  })
  try {
    watch.start()
    for (const b of bakers) b.start()
    await waitFor(() => accused.length > 0, {
      what: () => `evidence injected (head ${node.chain.head.header.shell.level}, equivocations ${events.filter(e => e.kind === 'equivocated').length})`,
      timeoutMs: 120_000,
      intervalMs: 100
    })
    const { level } = accused[0]
    assert.equal(accused[0].offender, b58Encode('ed25519PublicKeyHash', offender.publicKeyHash))
    await waitFor(async () => await isDenounced(node.chain.state, 'baking', level, offender.publicKeyHash), {
      what: `the evidence of level ${level} included`, timeoutMs: 60_000, intervalMs: 100
    })
    await waitFor(() => afterEvidence.has(level), { what: 'the deposit read after the evidence', timeoutMs: 30_000 })
    // It baked at that level, so it had frozen a block deposit in that cycle: the evidence took it.
    assert.ok(events.some(e => e.kind === 'baked' && e.level === level))
    assert.equal(afterEvidence.get(level), 0n)
    assert.deepEqual(events.filter(e => e.kind === 'error'), [])
    assert.ok(!accused.some(e => e.offender === b58Encode('ed25519PublicKeyHash', net.delegates[0].publicKeyHash)))
  } finally {
    for (const b of bakers) await b.stop()
    await watch.stop()
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})

test('an endorser endorsing two blocks of one level is denounced from what the mempool admits', async () => {
  const net = v3Net('evidence-endorsement')
  const protocol = asDemoV3(net.protocol)
  assert.ok(protocol !== undefined)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis: namedGenesis('evidence-endorsement', Math.floor(Date.now() / 1000) - 10_000, net.protocol.hash) })
  const mempool = new Mempool({ chain: node.chain })
  const accused: Array<{ kind: string, level: number, offender: string, hash: string }> = []
  const watch = new EvidenceWatch({ chain: node.chain, mempool, onEvidence: e => { accused.push(e) } })
  try {
    watch.start()
    await bakeV3(node.chain, net.delegates)
    // Every delegate endorses block 1; two blocks at level 2 on it: A without the endorsements, B with them (heavier).
    const one = node.chain.head
    const slots1 = (await protocol.rightsAt(node.chain.state, 1, 0)).slots
    const endorsements = net.delegates.map(d => endorsementOf({ hash: one.hash, level: 1 }, slots1, d.secretKey)).filter(e => e !== undefined)
    assert.ok(endorsements.length > 0)
    const [a, b] = await node.chain.atHead(async (head, state) => {
      const rights = await protocol.rightsAt(state, 2, protocol.parameters.maxPriority)
      const key = net.delegates.find(d => rights.bakers.some(x => bytesEqual(x, d.publicKeyHash))) as typeof net.delegates[number]
      const make = async (candidates: typeof endorsements, timestamp: bigint): Promise<Awaited<ReturnType<typeof protocol.makeBlock>>> =>
        await protocol.makeBlock({ predecessor: head.header, predecessorHash: head.hash, timestamp, candidates, state, bakerKey: key.secretKey, protoLevel: 1 })
      // Far enough after block 1 for any priority and power.
      const t = head.header.shell.timestamp + 1000n
      return [await make([], t), await make(endorsements, t)]
    })
    await node.chain.addBlock(a.header, a.operations)
    const slots2 = (await protocol.rightsAt(node.chain.state, 2, 0)).slots
    const endorser = net.delegates.find(d => slots2.some(s => bytesEqual(s, d.publicKeyHash))) as typeof net.delegates[number]
    await mempool.add(endorsementOf({ hash: blockHash(a.header), level: 2 }, slots2, endorser.secretKey) as Operation)
    await node.chain.addBlock(b.header, b.operations)
    assert.ok(bytesEqual(node.chain.head.hash, blockHash(b.header)), 'the block with endorsements is the head')
    await mempool.idle()
    await mempool.add(endorsementOf({ hash: blockHash(b.header), level: 2 }, slots2, endorser.secretKey) as Operation)
    // (The two blocks are also one baker's at one level: that is double baking, denounced too.)
    const found = await waitFor(() => accused.find(e => e.kind === 'double_endorsement'), { what: () => `double endorsement evidence injected (${JSON.stringify(accused)})` })
    assert.equal(found.level, 2)
    assert.equal(found.offender, b58Encode('ed25519PublicKeyHash', endorser.publicKeyHash))
    assert.ok(accused.some(e => e.kind === 'double_baking' && e.level === 2))
    await mempool.idle()
    assert.ok(mempool.operations().some(op => b58Encode('operationHash', operationHash(op)) === found.hash), 'the evidence is in the mempool')
  } finally {
    await watch.stop()
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})
