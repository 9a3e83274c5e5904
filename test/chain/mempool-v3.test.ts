import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual } from '../../src/encoding/index.ts'
import { namedGenesis } from '../../src/chain/genesis.ts'
import { Mempool, MempoolRefusedError } from '../../src/chain/mempool.ts'
import { asDemoV3, endorsementOf, signOperation, type Contents } from '../../src/protocol/demo-v3/index.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { openChain } from './helpers.ts'
import { bakeV3 } from './v3-helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { v3Net } from '../protocol/demo-v3/helpers.ts'

test('demo v3 mempool: operations by pass, endorsements first; an endorsement of the old head leaves on a new head; one of a sibling is refused', async () => {
  const net = v3Net('mempool-v3')
  const protocol = asDemoV3(net.protocol)
  assert.ok(protocol !== undefined)
  const dir = await tempDir('chain')
  const node = await openChain(dir, { protocol: net.protocol, genesis: namedGenesis('mempool-v3', Math.floor(Date.now() / 1000) - 10_000, net.protocol.hash) })
  const mempool = new Mempool({ chain: node.chain })
  try {
    await bakeV3(node.chain, net.delegates)
    const head = node.chain.head
    // A transfer (manager pass 3) admitted before an endorsement (consensus pass 0).
    const source = net.delegates[0]
    const contents: Contents = {
      kind: 'transaction', source: source.publicKeyHash, fee: 100n, counter: 1n, gasLimit: 1000n, storageLimit: 0n, amount: 5n,
      destination: { kind: 'implicit', pkh: net.users[0].publicKeyHash }
    }
    const transfer = { branch: head.hash, data: signOperation(head.hash, contents, source.secretKey) }
    await mempool.add(transfer)
    const slots = (await protocol.rightsAt(node.chain.state, 1, 0)).slots
    const endorser = net.delegates.find(d => slots.some(s => bytesEqual(s, d.publicKeyHash)))
    assert.ok(endorser !== undefined)
    const endorsement = endorsementOf({ hash: head.hash, level: 1 }, slots, endorser.secretKey)
    assert.ok(endorsement !== undefined)
    await mempool.add(endorsement)
    assert.deepEqual(mempool.operations().map(op => op.data), [endorsement.data, transfer.data])
    assert.deepEqual(mempool.byPass().map(p => p.length), [1, 0, 0, 1])

    // A new head without them: the endorsement of level 1 is dropped, the transfer stays.
    const second = await bakeV3(node.chain, net.delegates, [], 2)
    await mempool.idle()
    assert.deepEqual(mempool.operations().map(op => op.data), [transfer.data])

    // A sibling of the head at level 2: its endorsement is refused (its branch is not on this chain).
    const siblingHash = blockHash(second.others[0])
    const other = bytesEqual(node.chain.head.hash, siblingHash) ? { hash: blockHash(second.header) } : { hash: siblingHash }
    const slots2 = (await protocol.rightsAt(node.chain.state, 2, 0)).slots
    const endorser2 = net.delegates.find(d => slots2.some(s => bytesEqual(s, d.publicKeyHash)))
    assert.ok(endorser2 !== undefined)
    const stale = endorsementOf({ hash: other.hash, level: 2 }, slots2, endorser2.secretKey)
    assert.ok(stale !== undefined)
    await assert.rejects(mempool.add(stale), (e: unknown) => e instanceof MempoolRefusedError && e.code === 'branch_not_live')
    const fresh = endorsementOf({ hash: node.chain.head.hash, level: 2 }, slots2, endorser2.secretKey)
    assert.ok(fresh !== undefined)
    assert.equal((await mempool.add(fresh)).status, 'added')
  } finally {
    mempool.stop()
    await node.close()
    await removeDir(dir)
  }
})
