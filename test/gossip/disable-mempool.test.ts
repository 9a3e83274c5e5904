import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { GOSSIP_PROTOCOL } from '../../src/gossip/definitions.ts'
import { EnvelopeStream } from '../../src/stream/envelope-stream.ts'
import { SYNC_PROTOCOL, SYNC_REQUESTS } from '../../src/sync/definitions.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { addressOf } from '../helpers/node.ts'
import { freshLoopbackSource, rawStream, startChainNode, startPlainNode } from '../sync/nodes.ts'
import { waitFor } from '../helpers/wait.ts'
import { startOctezChainNode } from '../octez/node-helpers.ts'

/**
 * `disable_mempool` on the libp2p wire, as Octez does it (`src/lib_shell/p2p_reader.ml`,
 * `src/lib_shell/distributed_db.ml`): a peer that announced it gets Current_head with an empty
 * mempool; a node that announced it disconnects and greylists a peer that sends it a mempool.
 */
describe('disable_mempool on the libp2p wire', () => {
  it('a peer that announced disable_mempool is answered Current_head with an empty mempool', async () => {
    const setup = demoSetup({ name: 'disable-mempool-answer', verifyWorkers: 0 })
    const builder = new DemoChainBuilder(setup)
    const a = await startChainNode(setup)
    const quiet = await startPlainNode({ disableMempool: true, sourceAddress: freshLoopbackSource() })
    const chatty = await startPlainNode({ sourceAddress: freshLoopbackSource() })
    try {
      await a.node.chain?.addBlocks(await builder.grow(2, 1))
      const [op] = builder.transfers([{ from: 0, to: 1, amount: 2n }])
      const { hash } = await a.node.inject(encode(operationCodec, op))
      const chainId = a.node.chain?.genesis.chainId ?? new Uint8Array(4)
      const mempoolSeenBy = async (peer: typeof quiet): Promise<string[]> => {
        await peer.dial(addressOf(a.node))
        const stream = await rawStream(peer, a.node, SYNC_PROTOCOL)
        stream.send(encodeP2pMessage({ tag: 'Get_current_head', chainId }))
        await stream.close()
        const read = await new EnvelopeStream(stream, SYNC_PROTOCOL, SYNC_REQUESTS.Get_current_head.maxAnswerBytes).read()
        assert.equal(read?.message.tag, 'Current_head')
        return read?.message.tag === 'Current_head' ? read.message.mempool.knownValid.map(toHex) : []
      }
      assert.deepEqual(await mempoolSeenBy(quiet), [])
      assert.deepEqual(await mempoolSeenBy(chatty), [toHex(hash)])
    } finally {
      await chatty.stop()
      await quiet.stop()
      await a.close()
    }
  })

  it('a node run with disable_mempool greylists a peer that sends it a non-empty mempool', async () => {
    const setup = demoSetup({ name: 'disable-mempool-greylist', verifyWorkers: 0 })
    const builder = new DemoChainBuilder(setup)
    const a = await startOctezChainNode(setup, { disableMempool: true })
    const ip = freshLoopbackSource()
    const rogue = await startPlainNode({ sourceAddress: ip })
    try {
      await a.node.chain?.addBlocks(await builder.grow(2, 1))
      await rogue.dial(addressOf(a.node))
      const stream = await rawStream(rogue, a.node, GOSSIP_PROTOCOL)
      const head = a.node.head()
      if (head === undefined) throw new Error('no head')
      stream.send(encodeP2pMessage({
        tag: 'Current_head', chainId: a.node.chain?.genesis.chainId ?? new Uint8Array(4), header: head.header, mempool: { knownValid: [new Uint8Array(32).fill(3)], pending: [] }
      }))
      await waitFor(() => a.node.greylist.isGreylisted(ip) && a.node.greylist.isGreylisted(rogue.identity.peerId), { what: 'a.node.greylist.isGreylisted(ip) && a.node.greylist.isGreylisted(rogue.identity.peerId)' })
      await waitFor(() => a.node.libp2p.getConnections(rogue.peerId).length === 0, { what: 'a.node.libp2p.getConnections(rogue.peerId).length === 0' })
    } finally {
      await rogue.stop()
      await a.close()
    }
  })
})
