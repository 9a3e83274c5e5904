import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { eventually, startOctezChainNode } from './node-helpers.ts'

/**
 * Two tzp2p nodes over Octez's raw-TCP wire only (no libp2p connection between them): a node
 * follows the chain the other serves (headers walked with Get_block_headers, operations by key),
 * then a new head and a mempool operation travel by Current_head, each way round.
 */
describe('two nodes over the Octez wire', () => {
  for (const dialler of ['follower', 'server'] as const) {
    it(`syncs a chain and gossips a head and an operation (the ${dialler} dials)`, async () => {
      const setup = demoSetup({ name: `octez-node-wire-${dialler}`, validationPasses: 2, verifyWorkers: 0 })
      const builder = new DemoChainBuilder(setup)
      const blocks = await builder.grow(40, 2)
      const server = await startOctezChainNode(setup, {}, { baker: { key: setup.baker.secretKey } })
      const follower = await startOctezChainNode(demoSetup({ name: `octez-node-wire-${dialler}`, validationPasses: 2, verifyWorkers: 0 }))
      try {
        await server.node.chain?.addBlocks(blocks)
        if (dialler === 'follower') await follower.node.octez?.dial('127.0.0.1', server.octezPort)
        else await server.node.octez?.dial('127.0.0.1', follower.octezPort)
        assert.equal(follower.node.libp2p.getConnections().length, 0, 'no libp2p connection')
        await eventually(() => follower.node.networkPeers.get(server.node.identity.peerId) !== undefined)
        assert.equal(follower.node.networkPeers.get(server.node.identity.peerId)?.wire, 'octez')

        await eventually(() => follower.node.head()?.header.shell.level === 40)
        assert.equal(toHex(follower.node.head()?.hash ?? new Uint8Array()), toHex(server.node.head()?.hash ?? new Uint8Array(1)))

        // A new head, announced by Current_head.
        await eventually(() => BigInt(Math.floor(Date.now() / 1000)) > (server.node.head()?.header.shell.timestamp ?? 0n))
        await server.node.bake()
        await eventually(() => follower.node.head()?.header.shell.level === 41)

        // A mempool operation, from the follower to the server: announced, fetched with Get_operations.
        const [op] = builder.transfers([{ from: 2, to: 3, amount: 5n }])
        const { hash } = await follower.node.inject(encode(operationCodec, op))
        await eventually(() => server.node.mempool?.get(hash) !== undefined)
      } finally {
        await follower.close()
        await server.close()
      }
    })
  }
})
