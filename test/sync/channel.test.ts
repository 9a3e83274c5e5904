import { after, before, describe, it, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { Libp2pPeer } from '../../src/node/libp2p-peer.ts'
import { END_OF_BATCH, END_OF_BATCH_BYTES, EnvelopeStream } from '../../src/stream/envelope-stream.ts'
import { RateLimiter } from '../../src/stream/rate-limit.ts'
import { operationsKeyId } from '../../src/sync/client.ts'
import { SYNC_CHANNEL_PROTOCOL, SYNC_THROTTLES, syncRequestCost } from '../../src/sync/definitions.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { encodeP2pMessage, type P2pMessage } from '../../src/wire/p2p-message.ts'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { addressOf } from '../helpers/node.ts'
import { waitFor } from '../helpers/wait.ts'
import { freshLoopbackSource, rawStream, startChainNode, startPlainNode, syncClientOf, type ChainTestNode } from './nodes.ts'

describe('/tzp2p/sync-channel/1.0.0 between two nodes on loopback', () => {
  let setup: DemoSetup
  let a: ChainTestNode
  let b: ChainTestNode
  const hashes: Uint8Array[] = []
  const blocks: Awaited<ReturnType<DemoChainBuilder['grow']>> = []

  before(async () => {
    setup = demoSetup({ name: 'sync-channel', validationPasses: 2, verifyWorkers: 0 })
    blocks.push(...await new DemoChainBuilder(setup).grow(60, 2))
    a = await startChainNode(setup)
    await a.node.chain?.addBlocks(blocks)
    hashes.push(...blocks.map(x => blockHash(x.header)))
    b = await startChainNode(demoSetup({ name: 'sync-channel', validationPasses: 2, verifyWorkers: 0 }))
    await b.node.dial(addressOf(a.node))
    await waitFor(() => b.node.networkPeers.get(a.node.identity.peerId) !== undefined, { what: 'b authenticated a' })
  })

  after(async () => {
    await b?.close()
    await a?.close()
  })

  const client = (): ReturnType<typeof syncClientOf> => syncClientOf(b.node)

  it('pipelines every data request on one channel stream, each answered in full', async () => {
    const peer = b.node.networkPeers.get(a.node.identity.peerId)
    assert.ok(peer instanceof Libp2pPeer)
    const streamsBefore = peer.requestStats.streams
    const unknown = new Uint8Array(32).fill(7)
    // Many requests at once, of every data kind, spread over several event-loop turns.
    const headerSets = await Promise.all(hashes.map(async (h, i) => await client().blockHeaders(a.node.identity.peerId, i % 5 === 0 ? [h, unknown] : [h])))
    const ancestors = await Promise.all([59, 40, 20].map(async top => await client().predecessorHeaders(a.node.identity.peerId, hashes[top], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])))
    const ops = await Promise.all(blocks.slice(0, 30).map(async x => {
      const key = { blockHash: blockHash(x.header), validationPass: 1, operationsHash: x.header.shell.operationsHash }
      return (await client().operationsForBlocks(a.node.identity.peerId, [key])).get(operationsKeyId(key.blockHash, 1))
    }))
    headerSets.forEach((got, i) => { assert.deepEqual([...got.keys()], [toHex(hashes[i])]) })
    ancestors.forEach((got, i) => {
      const top = [59, 40, 20][i]
      assert.equal(got.size, 10)
      for (let o = 0; o < 10; o++) assert.equal(got.get(o)?.hex, toHex(hashes[top - o]))
    })
    ops.forEach((got, i) => { assert.equal(got?.length, blocks[i].operations[1].length) })
    assert.equal(peer.syncChannelStats?.opened, 1, 'one channel stream for all of them')
    assert.ok((peer.syncChannelStats?.batches ?? 0) >= 3)
    assert.equal(peer.requestStats.streams, streamsBefore, 'no sync stream of one exchange')
  })

  it('answers batches in order, each ended by the end-of-batch mark, unknown keys unanswered', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    try {
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, SYNC_CHANNEL_PROTOCOL)
      const reader = new EnvelopeStream(stream, SYNC_CHANNEL_PROTOCOL, 1 << 22)
      const batches: P2pMessage[][] = [
        [{ tag: 'Get_block_headers', blockHashes: [hashes[3], new Uint8Array(32).fill(1)] }],
        [{ tag: 'Get_block_headers', blockHashes: [new Uint8Array(32).fill(2)] }],
        [0, 1, 2].map(offset => ({ tag: 'Get_predecessor_header', blockHash: hashes[10], offset }) as const)
      ]
      // Three batches in one write: pipelined, not waiting for each other's answers.
      stream.send(Buffer.concat(batches.flatMap(batch => [...batch.map(m => encodeP2pMessage(m)), END_OF_BATCH_BYTES])))
      const got: Array<Array<P2pMessage>> = [[]]
      while (got.length <= batches.length) {
        const frame = await reader.readFrame({ signal: AbortSignal.timeout(10_000) })
        assert.ok(frame !== undefined, 'the channel stays open')
        if (frame === END_OF_BATCH) got.push([])
        else got[got.length - 1].push(frame.message)
      }
      assert.deepEqual(got[0].map(m => m.tag), ['Block_header'])
      assert.deepEqual(got[1], [], 'an unknown key: nothing but the mark')
      assert.deepEqual(got[2].map(m => m.tag === 'Predecessor_header' ? m.offset : -1).sort(), [0, 1, 2])
      assert.deepEqual(got[3], [], 'nothing after the last mark')
      // The requester closing its side ends the channel cleanly.
      await stream.close()
      assert.equal(await reader.readFrame({ signal: AbortSignal.timeout(10_000) }), undefined)
      assert.equal(a.node.scores.score(rogue.identity.peerId), 0)
    } finally {
      await rogue.stop()
    }
  })

  it('reads envelopes and marks that arrive cut into 3-byte frames (length prefixes split too)', async () => {
    const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    try {
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, SYNC_CHANNEL_PROTOCOL)
      const reader = new EnvelopeStream(stream, SYNC_CHANNEL_PROTOCOL, 1 << 22)
      const batches: P2pMessage[][] = [
        [0, 1, 2, 3].map(offset => ({ tag: 'Get_predecessor_header', blockHash: hashes[20], offset }) as const),
        // 10 keys: a request of 340 bytes, whose length prefix has two non-zero bytes.
        [{ tag: 'Get_operations_for_blocks', keys: hashes.slice(0, 10).map((blockHash, i) => ({ blockHash, validationPass: i % 2 })) }]
      ]
      const bytes = Buffer.concat(batches.flatMap(batch => [...batch.map(m => encodeP2pMessage(m)), END_OF_BATCH_BYTES]))
      for (let i = 0; i < bytes.length; i += 3) stream.send(bytes.subarray(i, i + 3))
      const got: Array<Array<P2pMessage>> = [[]]
      while (got.length <= batches.length) {
        const frame = reader.bufferedFrame() ?? await reader.readFrame({ signal: AbortSignal.timeout(10_000) })
        assert.ok(frame !== undefined, 'the channel stays open')
        if (frame === END_OF_BATCH) got.push([])
        else got[got.length - 1].push(frame.message)
      }
      assert.deepEqual(got[0].map(m => m.tag === 'Predecessor_header' ? toHex(blockHash(m.header)) : m.tag).sort(), [20, 19, 18, 17].map(i => toHex(hashes[i])).sort(), 'the block itself (offset 0) and its 3 ancestors')
      assert.deepEqual(got[1].map(m => m.tag === 'Operations_for_blocks' ? operationsKeyId(m.blockHash, m.validationPass) : m.tag).sort(),
        hashes.slice(0, 10).map((h, i) => operationsKeyId(h, i % 2)).sort())
      await stream.close()
      assert.equal(await reader.readFrame({ signal: AbortSignal.timeout(10_000) }), undefined)
      assert.equal(a.node.scores.score(rogue.identity.peerId), 0)
    } finally {
      await rogue.stop()
    }
  })

  it('scores a batch with no request, or mixing kinds, as an invalid message', async () => {
    const head = new Uint8Array(hashes[5])
    for (const bytes of [
      END_OF_BATCH_BYTES,
      Buffer.concat([encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: [head] }), encodeP2pMessage({ tag: 'Get_predecessor_header', blockHash: head, offset: 1 }), END_OF_BATCH_BYTES])
    ]) {
      const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
      try {
        await rogue.dial(addressOf(a.node))
        const stream = await rawStream(rogue, a.node, SYNC_CHANNEL_PROTOCOL)
        stream.send(bytes)
        await waitFor(() => a.node.scores.score(rogue.identity.peerId) < 0, { what: 'the rogue scored' })
        assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
      } finally {
        await rogue.stop()
      }
    }
  })

  it('falls back to a sync stream per exchange with a peer that has no channel', async () => {
    const old = await startChainNode(setup)
    try {
      await old.node.chain?.addBlocks(blocks.slice(0, 5))
      await old.node.libp2p.unhandle(SYNC_CHANNEL_PROTOCOL)
      await b.node.dial(addressOf(old.node))
      await waitFor(() => b.node.networkPeers.get(old.node.identity.peerId) !== undefined, { what: 'b authenticated the old node' })
      const peer = b.node.networkPeers.get(old.node.identity.peerId)
      assert.ok(peer instanceof Libp2pPeer)
      for (let i = 0; i < 3; i++) {
        const got = await client().blockHeaders(old.node.identity.peerId, [hashes[i]])
        assert.deepEqual([...got.keys()], [toHex(hashes[i])])
      }
      assert.equal(peer.requestStats.streams, 3, 'each on a sync stream')
      assert.equal(peer.syncChannelStats, undefined, 'the channel given up after the first refusal')
    } finally {
      await old.close()
    }
  })
})

test('a data request costs one token per key: 10 000 headers a second, whether asked 1 or 10 per message', () => {
  let now = 0
  const limiter = new RateLimiter(SYNC_THROTTLES, () => now)
  const tenKeys = { tag: 'Get_block_headers', blockHashes: Array.from({ length: 10 }, () => new Uint8Array(32)) } as const
  assert.equal(syncRequestCost(tenKeys), 10)
  assert.equal(syncRequestCost({ tag: 'Get_predecessor_header', blockHash: new Uint8Array(32), offset: 3 }), 1)
  assert.equal(syncRequestCost({ tag: 'Get_current_head', chainId: new Uint8Array(4) }), 1)
  let granted = 0
  for (let i = 0; i < 1500; i++) if (limiter.admit('p', tenKeys.tag, syncRequestCost(tenKeys)) === 'granted') granted++
  assert.equal(granted, 1000, 'the burst is 10 000 keys')
  let predecessors = 0
  for (let i = 0; i < 15_000; i++) if (limiter.admit('p', 'Get_predecessor_header') === 'granted') predecessors++
  assert.equal(predecessors, 10_000, 'a key asked alone costs the same')
  // A second later the bucket has refilled 10 000 tokens.
  now += 1000
  assert.equal(limiter.admit('p', tenKeys.tag, 10), 'granted')
})

test('a peer refused a run of tokens twice the burst is flooding, once per run, whatever the cost per message', () => {
  const limiter = new RateLimiter({ k: { rate: 1, burst: 100 } }, () => 0)
  for (let i = 0; i < 10; i++) assert.equal(limiter.admit('p', 'k', 10), 'granted')
  const admissions = Array.from({ length: 30 }, () => limiter.admit('p', 'k', 10))
  // Refused tokens in a row reach 200 at the 20th refusal of 10.
  assert.equal(admissions.indexOf('flooding'), 19)
  assert.equal(admissions.filter(x => x === 'flooding').length, 1)
})
