import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { startOctezChainNode } from './node-helpers.ts'
import { waitFor } from '../helpers/wait.ts'
import { startChainNode } from '../sync/nodes.ts'
import { addressOf } from '../helpers/node.ts'

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
        await waitFor(() => follower.node.networkPeers.get(server.node.identity.peerId) !== undefined, { what: 'follower.node.networkPeers.get(server.node.identity.peerId) !== undefined' })
        assert.equal(follower.node.networkPeers.get(server.node.identity.peerId)?.wire, 'octez')

        await waitFor(() => follower.node.head()?.header.shell.level === 40, { what: 'follower.node.head()?.header.shell.level === 40' })
        assert.equal(toHex(follower.node.head()?.hash ?? new Uint8Array()), toHex(server.node.head()?.hash ?? new Uint8Array(1)))

        // A new head, announced by Current_head.
        await waitFor(() => BigInt(Math.floor(Date.now() / 1000)) > (server.node.head()?.header.shell.timestamp ?? 0n), { what: 'BigInt(Math.floor(Date.now() / 1000)) > (server.node.head()?.header.shell.timestamp ?? 0n)' })
        await server.node.bake()
        await waitFor(() => follower.node.head()?.header.shell.level === 41, { what: 'follower.node.head()?.header.shell.level === 41' })

        // A mempool operation, from the follower to the server: announced, fetched with Get_operations.
        const [op] = builder.transfers([{ from: 2, to: 3, amount: 5n }])
        const { hash } = await follower.node.inject(encode(operationCodec, op))
        await waitFor(() => server.node.mempool?.get(hash) !== undefined, { what: 'server.node.mempool?.get(hash) !== undefined' })
      } finally {
        await follower.close()
        await server.close()
      }
    })
  }
})

/**
 * One node, two kinds of peers: a bridge follows a chain served over the Octez wire and relays it
 * to a libp2p-only node, and operations cross both ways (an Octez-wire peer's operation reaches
 * the libp2p node's mempool, and the other way).
 */
describe('a bridge between the Octez wire and libp2p', () => {
  it('relays blocks and mempool operations both ways', async () => {
    const name = 'octez-node-bridge'
    const setup = demoSetup({ name, validationPasses: 2, verifyWorkers: 0 })
    const builder = new DemoChainBuilder(setup)
    const blocks = await builder.grow(30, 2)
    // The Octez-wire side: serves the chain and bakes; no libp2p connection to anyone.
    const octezSide = await startOctezChainNode(setup, {}, { baker: { key: setup.baker.secretKey } })
    const bridge = await startOctezChainNode(demoSetup({ name, validationPasses: 2, verifyWorkers: 0 }))
    // The libp2p side: no Octez wire at all.
    const libp2pSide = await startChainNode(demoSetup({ name, validationPasses: 2, verifyWorkers: 0 }), { baker: { key: setup.baker.secretKey } })
    try {
      assert.equal(libp2pSide.node.octez, undefined)
      await octezSide.node.chain?.addBlocks(blocks)
      await bridge.node.octez?.dial('127.0.0.1', octezSide.octezPort)
      await libp2pSide.node.dial(addressOf(bridge.node))
      await waitFor(() => libp2pSide.node.head()?.header.shell.level === 30, { what: 'libp2pSide.node.head()?.header.shell.level === 30' })
      assert.equal(octezSide.node.libp2p.getConnections().length, 0)
      assert.deepEqual(bridge.node.networkPeers.list().map(p => p.wire).sort(), ['libp2p', 'octez'])

      // A block baked on the Octez-wire side reaches the libp2p node through the bridge.
      await waitFor(() => BigInt(Math.floor(Date.now() / 1000)) > (octezSide.node.head()?.header.shell.timestamp ?? 0n), { what: 'BigInt(Math.floor(Date.now() / 1000)) > (octezSide.node.head()?.header.shell.timestamp ...' })
      await octezSide.node.bake()
      await waitFor(() => libp2pSide.node.head()?.header.shell.level === 31, { what: 'libp2pSide.node.head()?.header.shell.level === 31' })

      // An operation injected on the Octez-wire side reaches the libp2p node's mempool …
      const [fromOctez, fromLibp2p] = builder.transfers([{ from: 4, to: 5, amount: 7n }, { from: 6, to: 7, amount: 8n }])
      const a = await octezSide.node.inject(encode(operationCodec, fromOctez))
      await waitFor(() => libp2pSide.node.mempool?.get(a.hash) !== undefined, { what: 'libp2pSide.node.mempool?.get(a.hash) !== undefined' })
      // … and one injected on the libp2p side reaches the Octez-wire node's.
      const b = await libp2pSide.node.inject(encode(operationCodec, fromLibp2p))
      await waitFor(() => octezSide.node.mempool?.get(b.hash) !== undefined, { what: 'octezSide.node.mempool?.get(b.hash) !== undefined' })

      // A block baked on the libp2p side reaches the Octez-wire node.
      await waitFor(() => BigInt(Math.floor(Date.now() / 1000)) > (libp2pSide.node.head()?.header.shell.timestamp ?? 0n), { what: 'BigInt(Math.floor(Date.now() / 1000)) > (libp2pSide.node.head()?.header.shell.timestamp...' })
      await libp2pSide.node.bake()
      await waitFor(() => octezSide.node.head()?.header.shell.level === 32, { what: 'octezSide.node.head()?.header.shell.level === 32' })
    } finally {
      await libp2pSide.close()
      await bridge.close()
      await octezSide.close()
    }
  })
})

describe('one connection limit for both wires', () => {
  it('a node at its limit with an Octez-wire peer refuses a libp2p one, and the other way round', async () => {
    const setup = demoSetup({ name: 'octez-node-limit', verifyWorkers: 0 })
    const full = await startOctezChainNode(setup, { maxConnections: 1 })
    const viaOctez = await startOctezChainNode(demoSetup({ name: 'octez-node-limit', verifyWorkers: 0 }))
    const viaLibp2p = await startOctezChainNode(demoSetup({ name: 'octez-node-limit', verifyWorkers: 0 }))
    try {
      await viaOctez.node.octez?.dial('127.0.0.1', full.octezPort)
      await waitFor(() => full.node.networkPeers.size === 1, { what: 'full.node.networkPeers.size === 1' })
      await assert.rejects(viaLibp2p.node.dial(addressOf(full.node)), /Too_many_connections/)
      // Once the Octez-wire peer leaves, the libp2p one gets in, and an Octez-wire dial is refused.
      await viaOctez.node.stop()
      await waitFor(() => full.node.networkPeers.size === 0, { what: 'full.node.networkPeers.size === 0' })
      await viaLibp2p.node.dial(addressOf(full.node))
      await waitFor(() => full.node.networkPeers.size === 1, { what: 'full.node.networkPeers.size === 1' })
      const other = await startOctezChainNode(demoSetup({ name: 'octez-node-limit', verifyWorkers: 0 }))
      try {
        await assert.rejects(other.node.octez?.dial('127.0.0.1', full.octezPort) ?? Promise.reject(new Error('no wire')), /Too_many_connections/)
      } finally { await other.close() }
    } finally {
      await viaLibp2p.close()
      await viaOctez.close().catch(() => {})
      await full.close()
    }
  })
})
