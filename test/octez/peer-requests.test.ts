import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { OctezPeer } from '../../src/node/octez-peer.ts'
import { listenOctez, type OctezConnection, type OctezListener } from '../../src/octez/index.ts'
import { SYNC_REQUESTS } from '../../src/sync/definitions.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { identityWithPow } from '../helpers/node.ts'
import { RawOctezPeer, TEST_CHAIN } from './raw-peer.ts'

/**
 * Requests on Octez's wire (`OctezPeer.request`) over a real socket: answers are matched by key,
 * not by order; a key never answered is a timeout (the request resolves with what came); a late
 * answer is no fault; an answer nobody asked for is told apart.
 */
describe('OctezPeer requests and answers by key', () => {
  let listener: OctezListener
  let raw: RawOctezPeer
  let peer: OctezPeer
  const builder = new DemoChainBuilder(demoSetup({ name: 'octez-peer-requests', verifyWorkers: 0 }))
  const headers: Array<DemoChainBuilder['head']['header']> = []

  before(async () => {
    for (const b of await builder.grow(3, 0)) headers.push(b.header)
    const connected = Promise.withResolvers<OctezConnection>()
    listener = await listenOctez({
      identity: identityWithPow(0), chainName: TEST_CHAIN, expectedPow: 0, host: '127.0.0.1', port: 0,
      onConnection: c => { connected.resolve(c) }
    })
    raw = await RawOctezPeer.dial(listener.port)
    await raw.handshake(identityWithPow(0), false)
    peer = new OctezPeer(await connected.promise)
    // The node's reader hands every answer to the peer (src/node/octez-session.ts); this one does only that.
    void (async () => { for await (const m of peer.connection.messages()) peer.deliver(m) })().catch(() => {})
  })

  after(async () => {
    raw?.close()
    await peer?.connection.close()
    await listener?.close()
  })

  it('matches answers by key in any order, and resolves at the deadline with the keys answered', async () => {
    const [h1, h2, h3] = headers.map(h => blockHash(h))
    const pending = peer.request([{ tag: 'Get_block_headers', blockHashes: [h1, h2, h3] }], SYNC_REQUESTS.Get_block_headers, AbortSignal.timeout(1500))
    const asked = await raw.readMessage()
    assert.equal(asked.tag, 'Get_block_headers')
    // Answered out of order, the third never.
    raw.writeMessage({ tag: 'Block_header', header: headers[1] })
    raw.writeMessage({ tag: 'Block_header', header: headers[0] })
    const answers = await pending
    assert.deepEqual(answers.map(a => a.tag === 'Block_header' ? toHex(blockHash(a.header)) : a.tag).sort(), [toHex(h1), toHex(h2)].sort())
    // The third arrives after the deadline: a late answer, no fault.
    assert.equal(peer.deliver({ tag: 'Block_header', header: headers[2] }), 'late')
    // An answer to a key nobody asked for.
    assert.equal(peer.deliver({ tag: 'Block_header', header: headers[2] }), 'unrequested')
  })

  it('resolves as soon as every key is answered', async () => {
    const h = blockHash(headers[0])
    const pending = peer.request([{ tag: 'Get_block_headers', blockHashes: [h] }], SYNC_REQUESTS.Get_block_headers, AbortSignal.timeout(60_000))
    await raw.readMessage()
    raw.writeMessage({ tag: 'Block_header', header: headers[0] })
    assert.equal((await pending).length, 1)
  })
})
