import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { GOSSIP_MAX_MESSAGE_BYTES, GOSSIP_PROTOCOL } from '../../src/gossip/definitions.ts'
import { EnvelopeStream } from '../../src/stream/envelope-stream.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { blockHash, type BlockHeader } from '../../src/wire/block-header.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { Libp2pPeer } from '../../src/node/libp2p-peer.ts'
import { addressOf } from '../helpers/node.ts'
import { forgeDemoBlock } from '../chain/helpers.ts'
import { freshLoopbackSource, rawStream, startChainNode, startPlainNode, type ChainTestNode } from '../sync/nodes.ts'
import { waitFor } from '../helpers/wait.ts'

describe('/tzp2p/gossip/1.0.0', () => {
  let setup: DemoSetup
  let builder: DemoChainBuilder
  let a: ChainTestNode
  let invalid: BlockHeader
  let inapplicable: BlockHeader

  before(async () => {
    setup = demoSetup({ name: 'gossip-service', verifyWorkers: 0 })
    builder = new DemoChainBuilder(setup)
    a = await startChainNode(setup, { baker: { key: setup.baker.secretKey } })
    await a.node.chain?.addBlocks(await builder.grow(5, 1))
    // A block whose header is well signed but whose operations are not valid: A holds it invalid.
    const [bad] = builder.transfers([{ from: 0, to: 1, amount: 1n }])
    invalid = forgeDemoBlock(setup, builder.head, [[{ ...bad, data: bad.data.map((x, i) => i === bad.data.length - 1 ? x ^ 1 : x) }]])
    await assert.rejects(a.node.chain?.addBlock(invalid, [[{ ...bad, data: bad.data.map((x, i) => i === bad.data.length - 1 ? x ^ 1 : x) }]]) ?? Promise.reject(new Error('no chain')), InvalidBlockError)
    // One that passes validation and fails when applied (an overspend): inapplicable after validation.
    const overspend = builder.fork('overspend').transfers([{ from: 0, to: 1, amount: 2_000_000_000_000n }])
    inapplicable = forgeDemoBlock(setup, builder.head, [overspend])
    await assert.rejects(a.node.chain?.addBlock(inapplicable, [overspend]) ?? Promise.reject(new Error('no chain')), (e: InvalidBlockError) => e.afterValidation === true)
  })

  after(async () => { await a?.close() })

  const chainId = (): Uint8Array => a.node.chain?.genesis.chainId ?? new Uint8Array(4)
  const gossipOf = (n: ChainTestNode): NonNullable<typeof n.node.libp2p.services.gossip> => {
    const g = n.node.libp2p.services.gossip
    if (g === undefined) throw new Error('no gossip service')
    return g
  }

  /** Connects a hand-driven peer (from an address of its own) and writes `messages` on its gossip stream to A. */
  async function rogueSends (...messages: Uint8Array[]): Promise<Awaited<ReturnType<typeof startPlainNode>>> {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    await rogue.dial(addressOf(a.node))
    const stream = await rawStream(rogue, a.node, GOSSIP_PROTOCOL)
    for (const m of messages) stream.send(m)
    return rogue
  }

  it('ignores a head dated more than 1 s ahead (a future block) without blaming the peer', async () => {
    const header = structuredClone(a.node.chain?.head.header) as BlockHeader
    header.shell.timestamp = BigInt(Math.floor(Date.now() / 1000) + 60)
    const before = gossipOf(a).stats.futureBlocks
    const rogue = await rogueSends(encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header, mempool: { knownValid: [], pending: [] } }))
    try {
      await waitFor(() => gossipOf(a).stats.futureBlocks === before + 1, { what: 'the future block counted' })
      assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
      assert.ok(a.node.peers.get(rogue.identity.peerId) !== undefined, 'still connected')
    } finally {
      await rogue.stop()
    }
  })

  it('greylists and disconnects a peer announcing a head it holds invalid', async () => {
    assert.ok(await a.node.chain?.isKnownInvalid(blockHash(invalid)) !== undefined)
    const rogue = await rogueSends(encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: invalid, mempool: { knownValid: [], pending: [] } }))
    try {
      await waitFor(() => a.node.greylist.isGreylisted(rogue.identity.peerId), { what: 'the rogue greylisted' })
      await waitFor(() => a.node.peers.get(rogue.identity.peerId) === undefined, { what: 'the rogue disconnected' })
    } finally {
      await rogue.stop()
    }
  })

  it('does not blame a peer announcing a block it holds inapplicable after validation (gossip.md §9)', async () => {
    assert.equal((await a.node.chain?.isKnownInvalid(blockHash(inapplicable)))?.afterValidation, true)
    const future = structuredClone(a.node.chain?.head.header) as BlockHeader
    future.shell.timestamp = BigInt(Math.floor(Date.now() / 1000) + 60)
    const before = gossipOf(a).stats.futureBlocks
    // The future head after it tells when A has read the first (a stream is read in order).
    const rogue = await rogueSends(
      encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: inapplicable, mempool: { knownValid: [], pending: [] } }),
      encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: future, mempool: { knownValid: [], pending: [] } })
    )
    try {
      await waitFor(() => gossipOf(a).stats.futureBlocks === before + 1, { what: 'both announcements read' })
      assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
      assert.ok(a.node.peers.get(rogue.identity.peerId) !== undefined, 'still connected')
      assert.equal(a.node.chain?.head.header.shell.level, 5)
    } finally {
      await rogue.stop()
    }
  })

  it('scores a peer sending what is not a gossip message (an invalid message: not greylisted by one)', async () => {
    const rogue = await rogueSends(encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: [] }))
    try {
      await waitFor(() => a.node.scores.score(rogue.identity.peerId) < 0, { what: 'the rogue scored' })
      assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
    } finally {
      await rogue.stop()
    }
  })

  it('answers Get_operations_for_blocks on its own gossip stream, and scores an answer nobody asked for', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    // The rogue reads what A writes on A's gossip stream to it.
    const fromA: string[] = []
    await rogue.libp2p.handle(GOSSIP_PROTOCOL, async (stream) => {
      const reader = new EnvelopeStream(stream, GOSSIP_PROTOCOL, GOSSIP_MAX_MESSAGE_BYTES)
      try {
        for (;;) {
          const read = await reader.read()
          if (read === undefined) return
          if (read.message.tag === 'Operations_for_blocks') fromA.push(toHex(read.message.blockHash))
        }
      } catch {
        // The rogue stops at the end of the test: its reader ends with the connection.
      }
    })
    try {
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, GOSSIP_PROTOCOL)
      const head = a.node.chain?.head
      assert.ok(head !== undefined)
      stream.send(encodeP2pMessage({ tag: 'Get_operations_for_blocks', keys: [{ blockHash: head.hash, validationPass: 0 }] }))
      await waitFor(() => fromA.includes(toHex(head.hash)), { what: 'A\'s answer on its gossip stream' })
      assert.equal(a.node.scores.score(rogue.identity.peerId) >= 0, true, 'asking is no fault')
      // An answer to a request A never made is unrequested data.
      stream.send(encodeP2pMessage({ tag: 'Operations_for_blocks', blockHash: head.hash, validationPass: 0, path: [], operations: [] }))
      await waitFor(() => a.node.scores.score(rogue.identity.peerId) < 0, { what: 'the rogue scored' })
    } finally {
      await rogue.stop()
    }
  })

  it('asks for mempool operations on the gossip stream only those of a Current_head whose head the peer already knew', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    try {
      await rogue.dial(addressOf(a.node))
      await waitFor(() => gossipOf(a).peerIds().includes(rogue.identity.peerId), { what: 'A gossips with the rogue' })
      const peer = a.node.networkPeers.get(rogue.identity.peerId)
      assert.ok(peer instanceof Libp2pPeer)
      const head = a.node.chain?.head
      assert.ok(head !== undefined)
      const stream = await rawStream(rogue, a.node, GOSSIP_PROTOCOL)
      const [x, y] = [new Uint8Array(32).fill(0xa1), new Uint8Array(32).fill(0xb2)]
      // First Current_head of this head from the peer: as on a new head, known_valid may be the
      // block's operations, gone from its mempool: A asks for x over sync.
      stream.send(encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: head.header, mempool: { knownValid: [x], pending: [] } }))
      await waitFor(() => peer.requestStats.streams >= 1, { what: 'A asked the rogue for x' })
      assert.equal(peer.requestStats.channel, 0)
      // The same head again: a mempool announcement; y is asked on the gossip stream.
      stream.send(encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: head.header, mempool: { knownValid: [y], pending: [] } }))
      await waitFor(() => peer.requestStats.channel >= 1, { what: 'A asked the rogue for y on the gossip stream' })
    } finally {
      await rogue.stop()
    }
  })

  it('ignores messages for another chain', async () => {
    const before = gossipOf(a).stats.otherChain
    const rogue = await rogueSends(encodeP2pMessage({ tag: 'Get_current_head', chainId: new Uint8Array([1, 2, 3, 4]) }))
    try {
      await waitFor(() => gossipOf(a).stats.otherChain === before + 1, { what: 'the other chain\'s message counted' })
      assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
    } finally {
      await rogue.stop()
    }
  })

  it('announces a new head to a peer once, never back to the peer it came from', async () => {
    const b = await startChainNode(demoSetup({ name: 'gossip-service', verifyWorkers: 0 }), { baker: { key: setup.baker.secretKey } })
    try {
      await b.node.dial(addressOf(a.node))
      const level = a.node.head()?.header.shell.level ?? 0
      await waitFor(() => b.node.head()?.header.shell.level === level, { what: `b at level ${level}` })
      const heads = (): number => gossipOf(a).receivedByTag.get('Current_head') ?? 0
      const before = heads()
      // A bakes: B hears of it and applies it, and must not announce it back to A.
      await a.node.bake()
      await waitFor(() => b.node.head()?.header.shell.level === level + 1, { what: `b at level ${level + 1}` })
      // Then B bakes: A hears of that one. Messages on B's stream arrive in order, so an echo of
      // A's block would have come first.
      await b.node.bake()
      await waitFor(() => a.node.head()?.header.shell.level === level + 2, { what: `a at level ${level + 2}` })
      assert.equal(heads() - before, 1, 'A received exactly one Current_head from B: its own block')
    } finally {
      await b.close()
    }
  })

  it('announces a new head with the hashes of the operations that block contains, which the receiver takes with the block', async () => {
    const b = await startChainNode(demoSetup({ name: 'gossip-service', verifyWorkers: 0 }))
    try {
      // A admits a few new connections per second per IP, and every test here dials it from 127.0.0.1.
      await waitFor(async () => await b.node.dial(addressOf(a.node)).then(() => true, () => false), { what: 'b connected to a (a admits a few connections per second per IP)' })
      const level = a.node.head()?.header.shell.level ?? 0
      await waitFor(() => b.node.head()?.header.shell.level === level, { what: `b at level ${level}` })
      const announced: Array<{ level: number, ops: string[] }> = []
      gossipOf(b).on('head', h => { announced.push({ level: h.header.shell.level, ops: h.mempool.knownValid.map(x => toHex(x)) }) })
      // Once the clock allows a new block, injected and baked at once, before the mempool's 100 ms
      // announcement batch: peers learn of the operation only through the head announcement.
      await waitFor(() => BigInt(Math.floor(Date.now() / 1000)) > (a.node.head()?.header.shell.timestamp ?? 0n), { what: 'a second after the head\'s timestamp' })
      const [op] = builder.transfers([{ from: 0, to: 1, amount: 1n }])
      const { hash } = await a.node.inject(encode(operationCodec, op))
      const baked = await a.node.bake()
      assert.equal(baked.operations, 1, 'the block carries the operation')
      await waitFor(() => b.node.head()?.header.shell.level === level + 1, { what: `b at level ${level + 1}` })
      const forBlock = announced.filter(x => x.level === level + 1)
      assert.ok(forBlock.length > 0)
      assert.deepEqual(forBlock[0].ops, [toHex(hash)], 'the new head lists the operation its block contains')
      // Taken with the block, it is no mempool operation of b's (nor fetched as one afterwards).
      await b.node.mempool?.idle()
      assert.equal(b.node.mempool?.has(hash), false)
    } finally {
      await b.close()
    }
  })
})
