import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { GOSSIP_MAX_MESSAGE_BYTES, GOSSIP_PROTOCOL, GOSSIP_PUSH_PROTOCOL } from '../../src/gossip/definitions.ts'
import { Libp2pPeer } from '../../src/node/libp2p-peer.ts'
import { EnvelopeStream } from '../../src/stream/envelope-stream.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { operationCodec, operationHash } from '../../src/wire/operation.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { addressOf } from '../helpers/node.ts'
import { freshLoopbackSource, rawStream, startChainNode, startPlainNode, type ChainTestNode } from '../sync/nodes.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * Block operations pushed ahead of the announcement (`/tzp2p/gossip/1.1.0`, `protocols/gossip.md`
 * §4.6): a node asks the peer that announced its latest blocks first to push, and takes the next
 * block from the push with no fetch; pushes nobody asked for, and the push request on a plain
 * gossip stream, are the peer's fault.
 */
describe('block operations pushed with the announcement', () => {
  let setup: DemoSetup
  let builder: DemoChainBuilder
  let a: ChainTestNode
  let b: ChainTestNode
  let transfers = 0

  before(async () => {
    setup = demoSetup({ name: 'gossip-push', verifyWorkers: 0, accounts: 16 })
    builder = new DemoChainBuilder(setup)
    // a never announces its mempool (its batching delay does not end during the test): the
    // operations of its blocks reach b only with the blocks.
    a = await startChainNode(setup, { baker: { key: setup.baker.secretKey }, mempool: { announceDelayMs: 3_600_000 } })
    b = await startChainNode(setup)
    await a.node.chain?.addBlocks(await builder.grow(3, 1))
    await b.node.dial(addressOf(a.node))
    const level = a.node.head()?.header.shell.level ?? 0
    await waitFor(() => b.node.head()?.header.shell.level === level, { what: `b at level ${level}` })
  })

  after(async () => {
    await b?.close()
    await a?.close()
  })

  const gossipOf = (n: ChainTestNode): NonNullable<typeof n.node.libp2p.services.gossip> => {
    const g = n.node.libp2p.services.gossip
    if (g === undefined) throw new Error('no gossip service')
    return g
  }
  const peerAOfB = (): Libp2pPeer => {
    const peer = b.node.networkPeers.get(a.node.identity.peerId)
    assert.ok(peer instanceof Libp2pPeer, 'a is a libp2p peer of b')
    return peer
  }

  /** a bakes a block of two transfers b has never seen (from accounts not used before), and b takes it as its head. */
  const bakeOnAUntilBHasIt = async (): Promise<Uint8Array[]> => {
    const level = a.node.head()?.header.shell.level ?? 0
    const ops = builder.transfers([{ from: transfers, to: transfers + 1, amount: 1n }, { from: transfers + 2, to: transfers + 3, amount: 1n }])
    transfers += 4
    for (const op of ops) await a.node.inject(encode(operationCodec, op))
    await waitFor(() => BigInt(Math.floor(Date.now() / 1000)) > (a.node.head()?.header.shell.timestamp ?? 0n), { what: 'a second after the head\'s timestamp' })
    const baked = await a.node.bake()
    assert.equal(baked.operations, 2)
    await waitFor(() => b.node.head()?.header.shell.level === level + 1, { what: `b at level ${level + 1}` })
    assert.equal(toHex(b.node.head()?.hash ?? new Uint8Array()), toHex(a.node.head()?.hash ?? new Uint8Array()))
    return ops.map(op => operationHash(op))
  }

  it('gossips on 1.1.0 between tzp2p nodes', () => {
    assert.equal(peerAOfB().pushCapable, true)
  })

  it('asks the first announcer to push, then takes its blocks without fetching their operations', async () => {
    const peer = peerAOfB()
    // First block: fetched on the gossip stream; a, its first announcer, is asked to push.
    const channelBefore = peer.requestStats.channel
    await bakeOnAUntilBHasIt()
    assert.equal(peer.requestStats.channel, channelBefore + 1, 'the first block\'s operations were fetched')
    await waitFor(() => gossipOf(a).receivedByTag.get('Block_push') === 1, { what: 'b asked a to push' })
    // Next blocks: pushed ahead of their announcement, taken with no request.
    for (let i = 0; i < 2; i++) {
      const before = { channel: peer.requestStats.channel, used: peer.requestStats.pushedKeysUsed, sent: gossipOf(a).stats.pushesSent, asked: gossipOf(a).receivedByTag.get('Get_operations_for_blocks') ?? 0 }
      const ops = await bakeOnAUntilBHasIt()
      assert.equal(gossipOf(a).stats.pushesSent, before.sent + 1, 'a pushed the block\'s operations')
      assert.equal(peer.requestStats.pushedKeysUsed, before.used + 1, 'b took the pushed pass')
      assert.equal(peer.requestStats.channel, before.channel, 'b sent no request')
      assert.equal(gossipOf(a).receivedByTag.get('Get_operations_for_blocks') ?? 0, before.asked, 'a was asked for nothing')
      const taken = await b.node.chain?.getOperations(b.node.head()?.hash ?? new Uint8Array(), 0)
      assert.deepEqual(taken?.map(op => toHex(operationHash(op))), ops.map(toHex), 'the block\'s operations, in order')
    }
  })

  it('pushes to a peer that asked, the operations before the announcement', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    // The rogue reads what a writes to it, in order.
    const fromA: string[] = []
    await rogue.libp2p.handle(GOSSIP_PUSH_PROTOCOL, async (stream) => {
      const reader = new EnvelopeStream(stream, GOSSIP_PUSH_PROTOCOL, GOSSIP_MAX_MESSAGE_BYTES)
      try {
        for (;;) {
          const read = await reader.read()
          if (read === undefined) return
          if (read.message.tag === 'Operations_for_blocks') fromA.push(`ops:${toHex(read.message.blockHash)}`)
          if (read.message.tag === 'Current_head') fromA.push(`head:${toHex(blockHash(read.message.header))}`)
        }
      } catch {
        // The rogue stops at the end of the test: its reader ends with the connection.
      }
    })
    try {
      await rogue.dial(addressOf(a.node))
      await waitFor(() => gossipOf(a).peerIds().includes(rogue.identity.peerId), { what: 'a gossips with the rogue' })
      const stream = await rawStream(rogue, a.node, GOSSIP_PUSH_PROTOCOL)
      const chainId = a.node.chain?.genesis.chainId ?? new Uint8Array(4)
      const asked = gossipOf(a).receivedByTag.get('Block_push') ?? 0
      stream.send(encodeP2pMessage({ tag: 'Block_push', chainId, enabled: true }))
      await waitFor(() => gossipOf(a).receivedByTag.get('Block_push') === asked + 1, { what: 'a took the push request' })
      await bakeOnAUntilBHasIt()
      const head = toHex(a.node.head()?.hash ?? new Uint8Array())
      await waitFor(() => fromA.includes(`head:${head}`), { what: 'a announced its head to the rogue' })
      assert.ok(fromA.indexOf(`ops:${head}`) >= 0, 'a pushed the operations')
      assert.ok(fromA.indexOf(`ops:${head}`) < fromA.indexOf(`head:${head}`), 'before the announcement')
      assert.equal(a.node.scores.score(rogue.identity.peerId) >= 0, true, 'asking is no fault')
    } finally {
      await rogue.stop()
    }
  })

  it('scores pushed operations nobody asked for', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    try {
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, GOSSIP_PUSH_PROTOCOL)
      const head = a.node.chain?.head
      assert.ok(head !== undefined)
      stream.send(encodeP2pMessage({ tag: 'Operations_for_blocks', blockHash: head.hash, validationPass: 0, path: [], operations: [] }))
      await waitFor(() => a.node.scores.score(rogue.identity.peerId) < 0, { what: 'the rogue scored' })
    } finally {
      await rogue.stop()
    }
  })

  it('scores a peer sending the push request on a 1.0.0 gossip stream (an out-of-place message)', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    try {
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, GOSSIP_PROTOCOL)
      stream.send(encodeP2pMessage({ tag: 'Block_push', chainId: a.node.chain?.genesis.chainId ?? new Uint8Array(4), enabled: true }))
      await waitFor(() => a.node.scores.score(rogue.identity.peerId) < 0, { what: 'the rogue scored' })
    } finally {
      await rogue.stop()
    }
  })
})
