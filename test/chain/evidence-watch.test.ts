import { test } from 'node:test'
import assert from 'node:assert/strict'
import { namedGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { DelegateBaker, type DelegateEvent } from '../../src/chain/delegate-baker.ts'
import { EvidenceWatch } from '../../src/chain/evidence-watch.ts'
import { b58Encode } from '../../src/crypto/index.ts'
import { cycleOf } from '../../src/protocol/demo-v3/parameters.ts'
import { frozenDeposit, isDenounced } from '../../src/protocol/demo-v3/store.ts'
import { decodeOperationData } from '../../src/protocol/demo-v3/index.ts'
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
