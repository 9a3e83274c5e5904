import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { Libp2pPeer } from '../../src/node/libp2p-peer.ts'
import { checkOperationsAnswer } from '../../src/sync/checks.ts'
import { operationsKeyId } from '../../src/sync/client.ts'
import { SYNC_REQUESTS } from '../../src/sync/definitions.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { operationCodec, operationHash } from '../../src/wire/operation.ts'
import type { BlockInput } from '../../src/chain/chain.ts'
import { addressOf } from '../helpers/node.ts'
import { startChainNode, type ChainTestNode } from '../sync/nodes.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * Fetching an announced block's operations, and operations announced in a mempool, on the gossip
 * streams (`protocols/gossip.md` §4.5), and
 * taking a block whose operations the mempool already holds without any fetch.
 */
describe('block operations without a sync stream', () => {
  let setup: DemoSetup
  let builder: DemoChainBuilder
  let a: ChainTestNode
  let b: ChainTestNode
  let blocks: BlockInput[]

  before(async () => {
    setup = demoSetup({ name: 'gossip-channel', verifyWorkers: 0, accounts: 12 })
    builder = new DemoChainBuilder(setup)
    a = await startChainNode(setup, { baker: { key: setup.baker.secretKey } })
    b = await startChainNode(setup)
    blocks = await builder.grow(4, 3)
    await a.node.chain?.addBlocks(blocks)
    await b.node.dial(addressOf(a.node))
    const level = a.node.head()?.header.shell.level ?? 0
    await waitFor(() => b.node.head()?.header.shell.level === level, { what: `b at level ${level}` })
  })

  after(async () => {
    await b?.close()
    await a?.close()
  })

  const peerAOfB = (): Libp2pPeer => {
    const peer = b.node.networkPeers.get(a.node.identity.peerId)
    assert.ok(peer instanceof Libp2pPeer, 'a is a libp2p peer of b')
    return peer
  }

  it('carries concurrent requests on the gossip streams, each answer checked and matched by key', async () => {
    const peer = peerAOfB()
    const client = b.node.libp2p.services.sync?.client
    assert.ok(client !== undefined)
    for (const block of blocks) peer.noteAnnounced(blockHash(block.header))
    const before = { ...peer.requestStats }
    const answered = a.node.libp2p.services.gossip?.stats.requestsAnswered ?? 0
    const keys = blocks.map(block => ({ blockHash: blockHash(block.header), validationPass: 0, operationsHash: block.header.shell.operationsHash }))
    // One request per block, all in flight at once on the same pair of streams.
    const kind = SYNC_REQUESTS.Get_operations_for_blocks
    const inFlight = keys.map(async k => await peer.request([{ tag: 'Get_operations_for_blocks', keys: [k] }], kind, AbortSignal.timeout(30_000)))
    assert.equal(peer.pendingOnChannel, blocks.length, 'every request waits on the channel at once')
    const results = await Promise.all(inFlight)
    results.forEach((answers, i) => {
      assert.equal(answers.length, 1, `block ${i} answered once`)
      const answer = answers[0]
      assert.ok(answer.tag === 'Operations_for_blocks' && toHex(answer.blockHash) === toHex(keys[i].blockHash), `block ${i}: its own answer`)
      // The answer's Merkle path leads from its operations to the block's operations_hash.
      checkOperationsAnswer(a.node.identity.peerId, keys[i], answer.path, answer.operations)
      assert.deepEqual(answer.operations.map(op => toHex(operationHash(op))), blocks[i].operations[0].map(op => toHex(operationHash(op))))
    })
    assert.equal(peer.pendingOnChannel, 0)
    // Through the client too (its answers checked the same way).
    const got = await client.operationsForBlocks(a.node.identity.peerId, [keys[0]])
    assert.equal(got.get(operationsKeyId(keys[0].blockHash, 0))?.length, blocks[0].operations[0].length)
    assert.equal(peer.requestStats.channel - before.channel, blocks.length + 1, 'every request went on the gossip stream')
    assert.equal(peer.requestStats.streams, before.streams, 'no sync stream was opened')
    assert.equal((a.node.libp2p.services.gossip?.stats.requestsAnswered ?? 0) - answered, blocks.length + 1)
  })

  it('asks for the operations of a block the peer did not announce over sync (on its sync channel)', async () => {
    const other = await startChainNode(setup)
    try {
      await other.node.chain?.addBlocks(blocks)
      await b.node.dial(addressOf(other.node))
      await waitFor(() => b.node.peers.get(other.node.identity.peerId) !== undefined, { what: 'b connected to the other node' })
      const peer = b.node.networkPeers.get(other.node.identity.peerId)
      assert.ok(peer instanceof Libp2pPeer)
      const block = blocks[0]
      const key = { blockHash: blockHash(block.header), validationPass: 0, operationsHash: block.header.shell.operationsHash }
      const got = await b.node.libp2p.services.sync?.client.operationsForBlocks(other.node.identity.peerId, [key])
      assert.equal(got?.get(operationsKeyId(key.blockHash, 0))?.length, block.operations[0].length)
      assert.equal(peer.requestStats.syncChannel, 1)
      assert.equal(peer.requestStats.channel, 0)
    } finally {
      await other.close()
    }
  })

  // Answers b accepted from a (any fetch), and requests a answered (on gossip, on sync streams).
  const fetched = (): number => b.node.syncStatus().acceptedFrom[a.node.identity.peerId] ?? 0
  const asked = (): number => (a.node.libp2p.services.gossip?.receivedByTag.get('Get_operations_for_blocks') ?? 0) + (a.node.libp2p.services.sync?.stats.served ?? 0)
  /** a bakes a block of two operations once a second has passed since its head, and b takes it as its head. */
  const bakeTwoOnAUntilBHasIt = async (level: number): Promise<void> => {
    await waitFor(() => BigInt(Math.floor(Date.now() / 1000)) > (a.node.head()?.header.shell.timestamp ?? 0n), { what: 'a second after the head\'s timestamp' })
    const baked = await a.node.bake()
    assert.equal(baked.operations, 2)
    await waitFor(() => b.node.head()?.header.shell.level === level + 1, { what: `b at level ${level + 1}` })
    assert.equal(toHex(b.node.head()?.hash ?? new Uint8Array()), toHex(a.node.head()?.hash ?? new Uint8Array()))
  }

  it('takes a block whose operations are all in its mempool without fetching them', async () => {
    const level = a.node.head()?.header.shell.level ?? 0
    // The transfers reach b's mempool through the announcement of a's mempool (and a fetch by hash).
    const ops = builder.transfers([{ from: 0, to: 1, amount: 1n }, { from: 2, to: 3, amount: 2n }])
    for (const op of ops) await a.node.inject(encode(operationCodec, op))
    await waitFor(() => ops.every(op => b.node.mempool?.has(operationHash(op)) === true), { what: 'the transfers in b\'s mempool' })
    const before = { fetched: fetched(), asked: asked() }
    await bakeTwoOnAUntilBHasIt(level)
    assert.equal(fetched(), before.fetched, 'b fetched nothing from a')
    assert.equal(asked(), before.asked, 'a was asked for nothing')
    assert.equal((await b.node.chain?.getOperations(b.node.head()?.hash ?? new Uint8Array(), 0))?.length, 2)
  })

  it('takes a block whose operations its mempool holds in another order, picked by the hashes of the announcement', async () => {
    const level = a.node.head()?.header.shell.level ?? 0
    // Injected at different nodes: a admits first then second, b second then first.
    const [first, second] = builder.transfers([{ from: 4, to: 5, amount: 1n }, { from: 6, to: 7, amount: 1n }])
    await a.node.inject(encode(operationCodec, first))
    await b.node.inject(encode(operationCodec, second))
    await waitFor(() => [first, second].every(op => a.node.mempool?.has(operationHash(op)) === true && b.node.mempool?.has(operationHash(op)) === true), { what: 'both transfers in both mempools' })
    assert.deepEqual(b.node.mempool?.hashes().map(toHex), [second, first].map(op => toHex(operationHash(op))), 'b admitted them the other way round')
    const before = { fetched: fetched(), asked: asked() }
    await bakeTwoOnAUntilBHasIt(level)
    const taken = await b.node.chain?.getOperations(b.node.head()?.hash ?? new Uint8Array(), 0)
    assert.deepEqual(taken?.map(op => toHex(operationHash(op))), [first, second].map(op => toHex(operationHash(op))), 'in the block\'s order')
    assert.equal(fetched(), before.fetched, 'b fetched nothing from a')
    assert.equal(asked(), before.asked, 'a was asked for nothing')
  })

  it('fetches operations announced in a peer\'s mempool on the gossip streams, all of one announcement in one request', async () => {
    // c announces only when told to (its own batching delay never ends during the test).
    const c = await startChainNode(setup, { mempool: { announceDelayMs: 3_600_000 } })
    // Every answer b gets here was asked for: none may count against c.
    const penalties: unknown[] = []
    const onPenalty = (e: unknown): void => { penalties.push(e) }
    b.node.on('peer:penalized', onPenalty)
    try {
      await c.node.chain?.addBlocks(blocks)
      await b.node.dial(addressOf(c.node))
      await waitFor(() => c.node.libp2p.services.gossip?.peerIds().includes(b.node.identity.peerId) === true, { what: 'c gossips with b' })
      const peer = b.node.networkPeers.get(c.node.identity.peerId)
      assert.ok(peer instanceof Libp2pPeer)
      const ops = builder.transfers([{ from: 8, to: 9, amount: 1n }, { from: 9, to: 8, amount: 1n }, { from: 10, to: 11, amount: 1n }])
      for (const op of ops) await c.node.inject(encode(operationCodec, op))
      // One Current_head lists the three.
      c.node.libp2p.services.gossip?.announceOperations(ops.map(op => operationHash(op)))
      await waitFor(() => ops.every(op => b.node.mempool?.has(operationHash(op)) === true), { what: 'the transfers in b\'s mempool' })
      assert.equal(c.node.libp2p.services.gossip?.receivedByTag.get('Get_operations'), 1, 'one Get_operations for the three hashes, on the gossip stream')
      assert.equal(c.node.libp2p.services.gossip?.stats.requestsAnswered, 1)
      assert.equal(peer.requestStats.streams, 0, 'no sync stream was opened')
      assert.equal(peer.requestStats.channel, 1)
      // Held now: announced again, they are not fetched.
      assert.ok(ops.every(op => b.node.mempool?.handled(operationHash(op)) === true))
      assert.deepEqual(penalties, [], 'the Operation answers were taken as answers, not as unrequested data')
    } finally {
      b.node.off('peer:penalized', onPenalty)
      await c.close()
    }
  })
})
