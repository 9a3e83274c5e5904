import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Baker } from '../../src/chain/baker.ts'
import type { Chain } from '../../src/chain/chain.ts'
import { demoSetup } from '../helpers/demo-chain.ts'
import { UnknownProtocolError } from '../../src/chain/errors.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { protoLevelKey } from '../../src/chain/protocol-levels.ts'
import { createDemoProtocol, DEMO_V2_TRANSFER_CHARGE, readAccount, signTransfer } from '../../src/protocol/demo/index.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import type { Protocol } from '../../src/protocol/protocol.ts'
import { ProtocolRegistry } from '../../src/protocol/registry.ts'
import { openChain, type OpenedChain, blocksOf } from '../chain/helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const setup = demoSetup({ name: 'activation', accounts: 4, verifyWorkers: 0 })
const v2 = createDemoProtocol({
  bakerPublicKey: setup.baker.publicKey,
  bootstrapAccounts: setup.accounts.map(a => ({ publicKeyHash: a.publicKeyHash, balance: 1_000_000_000_000n })),
  verifyWorkers: 0,
  version: 2
})

interface Node { opened: OpenedChain, chain: Chain, baker: Baker, mempool: Mempool, dir: string }

/** A chain in its own store with a baker whose clock starts `offset` seconds after genesis. */
async function node (protocols: Protocol[], activations: Array<{ level: number, protocol: string }>, offset = 0): Promise<Node> {
  const dir = await tempDir('protocol')
  const opened = await openChain(dir, setup, { protocols: new ProtocolRegistry(protocols) })
  let t = (1_700_000_000 + offset) * 1000
  const mempool = new Mempool({ chain: opened.chain, announceDelayMs: 0 })
  const baker = new Baker({ chain: opened.chain, mempool, bakerKey: setup.baker.secretKey, activations, now: () => (t += 1000) })
  return { opened, chain: opened.chain, baker, mempool, dir }
}

async function close (...nodes: Node[]): Promise<void> {
  for (const n of nodes) { n.mempool.stop(); await n.opened.close(); await removeDir(n.dir) }
}

/** The current chain's blocks from `from` to the head, as another node receives them. */

function transfer (chain: Chain, from: number, counter: bigint) {
  return {
    branch: chain.head.hash,
    data: signTransfer(chain.head.hash, { publicKey: setup.accounts[from].publicKey, destination: setup.accounts[3].publicKeyHash, amount: 10n, fee: 1n, counter }, setup.accounts[from].secretKey)
  }
}

test('demo v1 and v2: distinct manifests and hashes, both served from a registry', () => {
  assert.notEqual(setup.protocol.hash, v2.hash)
  assert.equal(setup.protocol.manifest?.version, 1)
  assert.equal(v2.manifest?.version, 2)
  assert.equal(v2.manifest?.source === setup.protocol.manifest?.source, false)
})

test('a block activates demo v2: later headers carry protocol level 2 and are applied with the v2 charge', async () => {
  const a = await node([setup.protocol, v2], [{ level: 3, protocol: v2.hash }])
  try {
    for (let i = 0; i < 3; i++) await a.baker.bakeNow()
    assert.equal(a.chain.head.header.shell.proto, 1)
    assert.deepEqual(a.chain.protocolLevels.map(l => [l.protoLevel, l.protocol, l.firstLevel]), [[1, setup.protocol.hash, 1], [2, v2.hash, 4]])
    assert.equal(a.chain.protocol, v2)
    const bakerBefore = (await readAccount(a.chain.state, setup.baker.publicKeyHash))?.balance ?? 0n
    const sourceBefore = (await readAccount(a.chain.state, setup.accounts[0].publicKeyHash))?.balance as bigint
    await a.mempool.add(transfer(a.chain, 0, 1n))
    const baked = await a.baker.bakeNow()
    assert.equal(baked.header.shell.proto, 2)
    assert.equal(baked.operations, 1)
    const bakerAfter = (await readAccount(a.chain.state, setup.baker.publicKeyHash))?.balance as bigint
    const sourceAfter = (await readAccount(a.chain.state, setup.accounts[0].publicKeyHash))?.balance as bigint
    assert.equal(bakerAfter - bakerBefore, 1n + DEMO_V2_TRANSFER_CHARGE)
    assert.equal(sourceBefore - sourceAfter, 10n + 1n + DEMO_V2_TRANSFER_CHARGE)

    // A v1 block where v2 runs: refused by the shell's protocol level check.
    const v1Block = await a.chain.atHead(async (head, state) => await setup.protocol.makeBlock({
      predecessor: head.header, predecessorHash: head.hash, timestamp: head.header.shell.timestamp + 1n, candidates: [], state, bakerKey: setup.baker.secretKey, protoLevel: 1
    }))
    await assert.rejects(a.chain.addBlock(v1Block.header, v1Block.operations), (e: Error) => e instanceof InvalidBlockError && e.code === 'bad_proto_level')
    // A block at level 2 baked with v1 rules (no charge): its context is wrong under v2.
    const transferBlock = await a.chain.atHead(async (head, state) => await setup.protocol.makeBlock({
      predecessor: head.header, predecessorHash: head.hash, timestamp: head.header.shell.timestamp + 2n, candidates: [transfer(a.chain, 1, 1n)], state, bakerKey: setup.baker.secretKey, protoLevel: 2
    }))
    await assert.rejects(a.chain.addBlock(transferBlock.header, transferBlock.operations), (e: Error) => e instanceof InvalidBlockError && e.code === 'bad_context')
  } finally {
    await close(a)
  }
})

test('fork choice across an activation: rewinding removes the protocol level, switching back restores it', async () => {
  const a = await node([setup.protocol, v2], [{ level: 3, protocol: v2.hash }])
  const b = await node([setup.protocol, v2], [], 7)
  try {
    for (let i = 0; i < 5; i++) await a.baker.bakeNow()
    // b shares blocks 1-2 with a, then grows its own v1-only branch, longer than a's.
    await b.chain.addBlocks((await blocksOf(a.chain, 1)).slice(0, 2))
    for (let i = 0; i < 5; i++) await b.baker.bakeNow()
    assert.equal(b.chain.head.header.shell.level, 7)
    const aBranch = await blocksOf(a.chain, 3)

    const r = await a.chain.addBlocks(await blocksOf(b.chain, 3))
    assert.equal(r.head.hex, b.chain.head.hex)
    assert.equal(a.chain.head.header.shell.proto, 1)
    assert.deepEqual(a.chain.protocolLevels.map(l => l.protoLevel), [1])
    assert.equal(await a.chain.state.get(protoLevelKey(2)), undefined)
    assert.equal(a.chain.protocol, setup.protocol)

    // The activating branch grows past b's: a switches back, re-applying blocks with v2.
    const c = await node([setup.protocol, v2], [{ level: 3, protocol: v2.hash }], 20)
    try {
      await c.chain.addBlocks([...(await blocksOf(b.chain, 1)).slice(0, 2), ...aBranch])
      for (let i = 0; i < 4; i++) await c.baker.bakeNow()
      assert.equal(c.chain.head.header.shell.level, 9)
      await a.chain.addBlocks(await blocksOf(c.chain, 3))
      assert.equal(a.chain.head.hex, c.chain.head.hex)
      assert.equal(a.chain.head.header.shell.proto, 2)
      assert.deepEqual(a.chain.protocolLevels.map(l => [l.protoLevel, l.protocol, l.firstLevel]), [[1, setup.protocol.hash, 1], [2, v2.hash, 4]])
    } finally {
      await close(c)
    }
  } finally {
    await close(a, b)
  }
})

test('a node without v2 stops at the activating block, marks nothing invalid, and resumes once v2 is registered', async () => {
  const a = await node([setup.protocol, v2], [{ level: 3, protocol: v2.hash }])
  const registry = new ProtocolRegistry([setup.protocol])
  const dir = await tempDir('protocol')
  const d = await openChain(dir, setup, { protocols: registry })
  const missing: UnknownProtocolError[] = []
  d.chain.on('protocol:missing', e => missing.push(e))
  try {
    for (let i = 0; i < 6; i++) await a.baker.bakeNow()
    const blocks = await blocksOf(a.chain, 1)
    await assert.rejects(d.chain.addBlocks(blocks), (e: Error) => e instanceof UnknownProtocolError && e.protocol === v2.hash && e.level === 4 && e.protoLevel === 2)
    assert.equal(missing.length, 1)
    assert.match(missing[0].message, /^unknown protocol P\w+ at level 4: not installed; branch not followed$/)
    assert.equal(d.chain.head.header.shell.level, 3)
    assert.equal(d.chain.missingProtocol?.protocol, v2.hash)
    assert.equal(await d.chain.isKnownInvalid(blocks[3].header.shell.predecessor), undefined)
    const { blockHash } = await import('../../src/wire/block-header.ts')
    assert.equal(await d.chain.isKnownInvalid(blockHash(blocks[3].header)), undefined)
    assert.equal(await d.chain.hasBlock(blockHash(blocks[3].header)), false)

    registry.register(v2)
    assert.equal(d.chain.missingProtocol, undefined)
    await d.chain.addBlocks(blocks.slice(3))
    assert.equal(d.chain.head.hex, a.chain.head.hex)
  } finally {
    await d.close()
    await removeDir(dir)
    await close(a)
  }
})
