import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { b58Decode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { envelopeOf, EnvelopeStream } from '../../src/stream/envelope-stream.ts'
import { InvalidAnswerError } from '../../src/sync/checks.ts'
import { SYNC_PROTOCOL } from '../../src/sync/definitions.ts'
import { planFromLocator } from '../../src/sync/plan.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { operationCodec, operationHash, type Operation } from '../../src/wire/operation.ts'
import { addressOf } from '../helpers/node.ts'
import { freshLoopbackSource, rawStream, startChainNode, startPlainNode, syncClientOf, type ChainTestNode } from './nodes.ts'
import { waitFor } from '../helpers/wait.ts'

describe('/tzp2p/sync/1.0.0 between two nodes on loopback', () => {
  let setup: DemoSetup
  let builder: DemoChainBuilder
  let a: ChainTestNode
  let b: ChainTestNode
  const hashes: Uint8Array[] = []

  before(async () => {
    setup = demoSetup({ name: 'sync-service', validationPasses: 2, verifyWorkers: 0 })
    builder = new DemoChainBuilder(setup)
    const blocks = await builder.grow(30, 3)
    a = await startChainNode(setup)
    await a.node.chain?.addBlocks(blocks)
    hashes.push(...blocks.map(x => blockHash(x.header)))
    b = await startChainNode(demoSetup({ name: 'sync-service', validationPasses: 2, verifyWorkers: 0 }))
    await b.node.dial(addressOf(a.node))
  })

  after(async () => {
    await b?.close()
    await a?.close()
  })

  const client = (): ReturnType<typeof syncClientOf> => syncClientOf(b.node)
  const peerA = (): string => a.node.identity.peerId

  it('answers Get_block_headers for the blocks it has and not the others', async () => {
    const unknown = new Uint8Array(32).fill(9)
    const got = await client().blockHeaders(peerA(), [hashes[4], hashes[5], unknown])
    assert.deepEqual([...got.keys()].sort(), [toHex(hashes[4]), toHex(hashes[5])].sort())
    assert.equal(got.get(toHex(hashes[5]))?.header.shell.level, 6)
  })

  it('answers Get_predecessor_header with the ancestor at each offset (0 = the block itself)', async () => {
    const top = hashes[19]
    const got = await client().predecessorHeaders(peerA(), top, [0, 1, 2, 25])
    assert.deepEqual([...got.keys()].sort(), [0, 1, 2])
    assert.equal(got.get(0)?.hex, toHex(hashes[19]))
    assert.equal(got.get(2)?.hex, toHex(hashes[17]))
  })

  it('answers Get_operations_for_blocks per validation pass, each checked through its Merkle path', async () => {
    const block = a.node.chain?.head
    assert.ok(block !== undefined)
    const keys = [0, 1].map(pass => ({ blockHash: block.hash, validationPass: pass, operationsHash: block.header.shell.operationsHash }))
    const got = await client().operationsForBlocks(peerA(), [...keys, { ...keys[0], blockHash: new Uint8Array(32) }])
    assert.equal(got.size, 2)
    const hex = (ops: Operation[] | undefined): string[] | undefined => ops?.map(op => toHex(encode(operationCodec, op)))
    for (const pass of [0, 1]) {
      const stored: Operation[] | undefined = await a.node.chain?.getOperations(block.hash, pass)
      assert.deepEqual(hex(got.get(`${block.hex}:${pass}`)), hex(stored))
    }
  })

  it('refuses operations that do not lead to the header\'s operations_hash at the requested pass', async () => {
    const block = a.node.chain?.head
    assert.ok(block !== undefined)
    // Asking pass 0 while claiming another block's operations_hash: the real answer cannot match.
    const wrong = { blockHash: block.hash, validationPass: 0, operationsHash: new Uint8Array(32).fill(1) }
    await assert.rejects(client().operationsForBlocks(peerA(), [wrong]), InvalidAnswerError)
  })

  it('answers Get_current_branch with a locator seeded for the recipient, which it can plan from', async () => {
    const locator = await client().currentBranch(peerA())
    assert.ok(locator !== undefined)
    assert.equal(toHex(blockHash(locator.headHeader)), toHex(hashes[29]))
    const seed = { senderId: b58Decode('peerId', peerA()), receiverId: b58Decode('peerId', b.node.identity.peerId) }
    const byHex = new Map([[toHex(b.node.chain?.genesis.hash ?? new Uint8Array()), 0], ...hashes.map((h, i) => [toHex(h), i + 1] as const)])
    const outcome = await planFromLocator({
      peer: peerA(), locator, seed,
      status: h => Promise.resolve(toHex(h) === toHex(b.node.chain?.genesis.hash ?? new Uint8Array()) ? 'valid' : 'unknown'),
      levelOf: h => Promise.resolve(byHex.get(toHex(h)))
    })
    assert.equal(outcome.kind, 'plan')
    if (outcome.kind !== 'plan') return
    for (const step of outcome.plan.steps) {
      assert.equal(toHex(step.top), toHex(hashes[step.topLevel - 1]), 'every step lands on the right block')
    }
  })

  it('answers Get_current_head with its head and mempool, and Get_operations from the mempool', async () => {
    const [op] = builder.transfers([{ from: 1, to: 2, amount: 5n }])
    await a.node.inject(encode(operationCodec, op))
    const head = await client().currentHead(peerA())
    assert.ok(head !== undefined)
    assert.equal(toHex(blockHash(head.header)), toHex(hashes[29]))
    assert.deepEqual(head.mempool.knownValid.map(toHex), [toHex(operationHash(op))])
    const ops = await client().operations(peerA(), [operationHash(op), new Uint8Array(32)])
    assert.deepEqual([...ops.keys()], [toHex(operationHash(op))])
  })

  it('answers Get_checkpoint with the checkpoint header', async () => {
    const checkpoint = await client().checkpoint(peerA())
    assert.equal(checkpoint?.shell.level, 0)
  })

  it('limits Get_current_branch per peer: beyond the burst a request is simply not answered', async () => {
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await client().currentBranch(peerA()))
    assert.ok(answers.some(x => x === undefined), 'some were not answered')
    assert.ok(answers.filter(x => x !== undefined).length <= 4)
  })

  it('greylists a peer whose request does not decode; scores one whose request is not a request', async () => {
    for (const [bytes, greylisted] of [
      // Get_block_headers announcing 11 keys (Octez bounds the list to 10): malformed, greylisted at once.
      [envelopeOf(new Uint8Array([0x00, 0x20, 0x00, 0x00, 0x01, 0x60, ...new Uint8Array(352)])), true],
      // An answer sent as a request (Get_protocols is a sync request since protocols are fetched over
      // sync): well formed but out of place, an invalid message that costs score.
      [encodeP2pMessage({ tag: 'Protocol', protocol: { expectedEnvVersion: 0, components: [] } }), false]
    ] as const) {
      const rogue = await startPlainNode({ sourceAddress: freshLoopbackSource() })
      try {
        await rogue.dial(addressOf(a.node))
        const stream = await rawStream(rogue, a.node, SYNC_PROTOCOL)
        stream.send(bytes)
        await stream.close().catch(() => {})
        if (greylisted) {
          await waitFor(() => a.node.greylist.isGreylisted(rogue.identity.peerId), { what: 'the rogue greylisted' })
          await waitFor(() => a.node.peers.get(rogue.identity.peerId) === undefined, { what: 'the rogue disconnected' })
        } else {
          await waitFor(() => a.node.scores.score(rogue.identity.peerId) < 0, { what: 'the rogue scored' })
          assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
        }
      } finally {
        await rogue.stop()
      }
    }
  })

  it('closes a request stream without answers when the request never comes', async () => {
    const rogue = await startPlainNode()
    try {
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, SYNC_PROTOCOL)
      const reader = new EnvelopeStream(stream, SYNC_PROTOCOL, 1024)
      // The responder gives up after its read timeout (5 s) and resets the stream.
      await assert.rejects(reader.read())
      assert.equal(a.node.greylist.isGreylisted(rogue.identity.peerId), false)
    } finally {
      await rogue.stop()
    }
  })

  it('lets the joining node bootstrap from it', async () => {
    await waitFor(() => b.node.head()?.header.shell.level === 30, { what: 'b at level 30' })
    assert.equal(b.node.head()?.hex, toHex(hashes[29]))
  })
})
