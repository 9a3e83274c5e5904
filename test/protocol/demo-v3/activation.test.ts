import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Baker } from '../../../src/chain/baker.ts'
import type { Chain } from '../../../src/chain/chain.ts'
import { Mempool } from '../../../src/chain/mempool.ts'
import { readAccount } from '../../../src/protocol/demo/index.ts'
import { createDemoV3Protocol, decodeV3Fitness, signOperation } from '../../../src/protocol/demo-v3/index.ts'
import { managerKey } from '../../../src/protocol/demo-v3/store.ts'
import type { Protocol } from '../../../src/protocol/protocol.ts'
import { ProtocolRegistry } from '../../../src/protocol/registry.ts'
import { demoSetup } from '../../helpers/demo-chain.ts'
import { openChain, type OpenedChain, blocksOf } from '../../chain/helpers.ts'
import { removeDir, tempDir } from '../../helpers/temp-dir.ts'
import { namedGenesis } from '../../../src/chain/genesis.ts'
import { toHex } from '../../../src/encoding/index.ts'
import { ed25519FromName } from '../../../src/protocol/demo/keys.ts'
import { blockHash } from '../../../src/wire/block-header.ts'
import { compareFitness } from '../../../src/wire/fitness.ts'
import type { Operation } from '../../../src/wire/operation.ts'

const setup = demoSetup({ name: 'v3-activation', accounts: 3, verifyWorkers: 0 })
const v3 = createDemoV3Protocol({
  bakerPublicKey: setup.baker.publicKey,
  bootstrapAccounts: setup.accounts.map(a => ({ publicKeyHash: a.publicKeyHash, balance: 1_000_000_000_000n }))
})

interface Node { opened: OpenedChain, chain: Chain, baker: Baker, mempool: Mempool, dir: string }

async function node (protocols: Protocol[], activations: Array<{ level: number, protocol: string }>): Promise<Node> {
  const dir = await tempDir('protocol-v3')
  const opened = await openChain(dir, setup, { protocols: new ProtocolRegistry(protocols) })
  let t = 1_700_000_000 * 1000
  const mempool = new Mempool({ chain: opened.chain, announceDelayMs: 0 })
  // The clock jumps 10 s per call: demo v3 blocks wait for their priority's minimal delay.
  const baker = new Baker({ chain: opened.chain, mempool, bakerKey: setup.baker.secretKey, activations, now: () => (t += 10_000) })
  return { opened, chain: opened.chain, baker, mempool, dir }
}

async function close (...nodes: Node[]): Promise<void> {
  for (const n of nodes) { n.mempool.stop(); await n.opened.close(); await removeDir(n.dir) }
}

test('a demo v1 chain activates demo v3: four passes, two-element fitness, v1 accounts carried over, a v3 operation through the mempool, a second node follows', async () => {
  const a = await node([setup.protocol, v3], [{ level: 3, protocol: v3.hash }])
  const b = await node([setup.protocol, v3], [])
  try {
    for (let i = 0; i < 4; i++) await a.baker.bakeNow()
    assert.equal(a.chain.protocol, v3)
    assert.deepEqual(a.chain.protocolLevels.map(l => [l.protoLevel, l.firstLevel]), [[1, 1], [2, 4]])
    const head = a.chain.head.header
    assert.equal(head.shell.proto, 2)
    assert.equal(head.shell.validationPass, 4)
    assert.deepEqual(decodeV3Fitness(head.shell.fitness), { level: 4, endorsingPower: 0 })

    // A demo v1 account reveals its key under v3 (the authority bakes: no delegate has stake yet).
    const alice = setup.accounts[0]
    const before = (await readAccount(a.chain.state, alice.publicKeyHash))?.balance as bigint
    const data = signOperation(a.chain.head.hash, { kind: 'reveal', source: alice.publicKeyHash, fee: 5n, counter: 1n, gasLimit: 0n, storageLimit: 0n, publicKey: alice.publicKey }, alice.secretKey)
    await a.mempool.add({ branch: a.chain.head.hash, data })
    const baked = await a.baker.bakeNow()
    assert.equal(baked.operations, 1)
    assert.deepEqual(await managerKey(a.chain.state, alice.publicKeyHash), alice.publicKey)
    assert.equal((await readAccount(a.chain.state, alice.publicKeyHash))?.balance, before - 5n)

    await b.chain.addBlocks(await blocksOf(a.chain, 1))
    assert.equal(b.chain.head.hex, a.chain.head.hex)
    assert.equal(b.chain.protocol, v3)
  } finally {
    await close(a, b)
  }
})

test('fork choice on a demo v3 chain: of two blocks at one level, the chain keeps the one carrying more endorsements, whichever came first', async () => {
  const delegates = [0, 1, 2].map(i => ed25519FromName(`v3-fork/delegate/${i}`))
  const protocol = createDemoV3Protocol({
    bakerPublicKey: setup.baker.publicKey,
    bootstrapAccounts: delegates.map(d => ({ publicKeyHash: d.publicKeyHash, balance: 1_000_000_000_000n, publicKey: d.publicKey })),
    parameters: { endorsersPerBlock: 8, initialEndorsers: 4 }
  })
  const genesis = namedGenesis('v3-fork', 1_700_000_000n, protocol.hash)
  const dir = await tempDir('protocol-v3')
  const opened = await openChain(dir, { protocol, genesis }, { protocols: new ProtocolRegistry([protocol]) })
  const chain = opened.chain
  const keyOf = (pkh: Uint8Array) => delegates.find(d => toHex(d.publicKeyHash) === toHex(pkh)) as typeof delegates[number]
  const bakeOn = async (candidates: Operation[], extraSeconds = 0n) => await chain.atHead(async (head, state) => {
    const rights = await protocol.rightsAt(state, head.header.shell.level + 1)
    return await protocol.makeBlock({
      predecessor: head.header, predecessorHash: head.hash, timestamp: head.header.shell.timestamp + 1n + extraSeconds, candidates, state, bakerKey: keyOf(rights.bakers[0]).secretKey
    })
  })
  try {
    const first = await bakeOn([], 1n)
    await chain.addBlock(first.header, first.operations)
    const rights = await chain.atHead(async (head, state) => await protocol.rightsAt(state, head.header.shell.level))
    const endorsers = [...new Set(rights.slots.map(toHex))].map(h => keyOf(Buffer.from(h, 'hex')))
    assert.ok(endorsers.length >= 2, 'several delegates hold slots')
    const endorse = (k: typeof delegates[number]): Operation => ({
      branch: chain.head.hash,
      data: signOperation(chain.head.hash, { kind: 'endorsement', level: 1, slot: rights.slots.findIndex(s => toHex(s) === toHex(k.publicKeyHash)) }, k.secretKey)
    })
    const few = await bakeOn([endorse(endorsers[0])], 1n)
    const many = await bakeOn(endorsers.map(endorse), 2n)
    assert.equal(compareFitness(many.header.shell.fitness, few.header.shell.fitness), 1)
    await chain.addBlock(few.header, few.operations)
    assert.equal(toHex(chain.head.hash), toHex(blockHash(few.header)))
    await chain.addBlock(many.header, many.operations)
    assert.equal(toHex(chain.head.hash), toHex(blockHash(many.header)))
    // The lighter block arriving again changes nothing.
    await chain.addBlock(few.header, few.operations)
    assert.equal(toHex(chain.head.hash), toHex(blockHash(many.header)))
  } finally {
    await opened.close()
    await removeDir(dir)
  }
})
