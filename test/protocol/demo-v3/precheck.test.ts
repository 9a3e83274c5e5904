import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../../src/encoding/index.ts'
import { Ed25519VerifyPool } from '../../../src/protocol/ed25519-pool.ts'
import { blindedPublicKeyHash, createDemoV3Protocol, endorsementOf, signOperation } from '../../../src/protocol/demo-v3/index.ts'
import { SignatureCache } from '../../../src/protocol/demo-v3/precheck.ts'
import { readCycle } from '../../../src/protocol/demo-v3/store.ts'
import { InvalidBlockError } from '../../../src/protocol/errors.ts'
import type { BlockHeader } from '../../../src/wire/block-header.ts'
import type { Operation } from '../../../src/wire/operation.ts'
import { ACTIVATION_SECRET, BALANCE, FUNDRAISER_BALANCE, MapState, TEST_PARAMETERS, bake, slotsAt, v3Net, type V3Net } from './helpers.ts'

interface Block { header: BlockHeader, operations: Operation[][] }

/** 12 blocks, each carrying every endorsement of its predecessor; a user reveals and then transfers. */
async function chainWithSignatures (net: V3Net): Promise<Block[]> {
  const blocks: Block[] = []
  const [user, other] = net.users
  for (let i = 0; i < 12; i++) {
    const candidates: Operation[] = []
    if (net.head.shell.level > 0) {
      const slots = await slotsAt(net, net.head.shell.level)
      for (const key of [...net.delegates, net.authority]) {
        const op = endorsementOf({ hash: net.headHash, level: net.head.shell.level }, slots, key.secretKey)
        if (op !== undefined) candidates.push(op)
      }
    }
    const m = { source: user.publicKeyHash, fee: 1n, counter: BigInt(i + 1), gasLimit: 0n, storageLimit: 0n }
    candidates.push({
      branch: net.headHash,
      data: signOperation(net.headHash, i === 0
        ? { kind: 'reveal', ...m, publicKey: user.publicKey }
        : { kind: 'transaction', ...m, amount: 1n, destination: { kind: 'implicit', pkh: other.publicKeyHash } }, user.secretKey)
    })
    const baked = await bake(net, candidates)
    assert.equal(baked.refused.length, 0)
    blocks.push({ header: baked.header, operations: baked.operations })
  }
  return blocks
}

test('precheck on the worker pool: every signature verified under the key the state names; a forged one is not, and application still refuses it', async () => {
  const net = v3Net('v3-precheck')
  const blocks = await chainWithSignatures(net)
  const keys = [...net.delegates, net.authority].map(k => ({ pkh: k.publicKeyHash, publicKey: k.publicKey }))
  const cache = new SignatureCache(net.params, keys)
  for (const c of [0, 1]) cache.learnCycle(c, await readCycle(net.state, c) ?? assert.fail(`no cycle ${c}`))
  // Forge one endorsement: same bytes but the last signature byte.
  const victim = blocks[5].operations[0][0]
  const forged = { branch: victim.branch, data: Uint8Array.from(victim.data) }
  forged.data[forged.data.length - 1] ^= 1
  const run = blocks.map((b, i) => i === 5 ? { header: b.header, operations: [[forged, ...b.operations[0].slice(1)], ...b.operations.slice(1)] } : b)
  const pool = new Ed25519VerifyPool(1)
  try {
    await cache.precheck(pool, run)
  } finally {
    await pool.close()
  }
  const byKey = new Map([...net.delegates, net.authority, ...net.users].map(k => [toHex(k.publicKey), k]))
  let verified = 0
  for (const b of run) {
    assert.ok(byKey.has(toHex(cache.verified.get(b.header) ?? new Uint8Array())), `header ${b.header.shell.level}`)
    for (const op of [...b.operations[0], ...b.operations[3]]) {
      if (op === forged) continue
      assert.ok(cache.verified.has(op), `an operation of block ${b.header.shell.level}`)
      verified++
    }
  }
  assert.ok(verified >= 30)
  assert.equal(cache.verified.has(forged), false)
  // A verdict is tied to its key: asked about another key, the cache checks for real.
  const someOp = run[3].operations[0][0]
  assert.equal(cache.signedBy(someOp, true, net.users[1].publicKey), false)
  assert.equal(cache.signedBy(someOp, true, cache.verified.get(someOp) as Uint8Array), true)

  // A node with a pool: prechecks the run and applies it to the same head; the forged block is refused.
  const withPool = createDemoV3Protocol({
    bakerPublicKey: net.authority.publicKey,
    bootstrapAccounts: [
      ...net.delegates.map((d, i) => ({ publicKeyHash: d.publicKeyHash, balance: BALANCE * BigInt(i + 1), publicKey: d.publicKey })),
      ...net.users.map(u => ({ publicKeyHash: u.publicKeyHash, balance: BALANCE }))
    ],
    commitments: [{ blindedPublicKeyHash: blindedPublicKeyHash(net.fundraiser.publicKeyHash, ACTIVATION_SECRET), balance: FUNDRAISER_BALANCE }],
    parameters: TEST_PARAMETERS,
    verifyWorkers: 1
  })
  try {
    assert.equal(withPool.hash, net.protocol.hash)
    const state = new MapState()
    state.apply(withPool.genesis().writes)
    let predecessor = net.headers[0]
    await withPool.precheckBlocks?.(run)
    for (let i = 0; i < run.length; i++) {
      const apply = withPool.applyBlock({ header: run[i].header, operations: run[i].operations, predecessor, state })
      if (i === 5) {
        await assert.rejects(apply, (e: unknown) => e instanceof InvalidBlockError && e.operation?.error.code === 'bad_signature')
        break
      }
      state.apply((await apply).writes)
      predecessor = run[i].header
    }
  } finally {
    await withPool.close?.()
  }
})
