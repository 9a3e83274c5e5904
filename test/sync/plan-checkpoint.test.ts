import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blake2b256 } from '../../src/crypto/index.ts'
import { toHex } from '../../src/encoding/index.ts'
import { levelFitness, operationsHashOf } from '../../src/protocol/common.ts'
import { planFromLocator, type BlockStatus } from '../../src/sync/plan.ts'
import { blockHash, type BlockHeader } from '../../src/wire/block-header.ts'
import { computeLocator } from '../../src/wire/locator.ts'

/**
 * Plans from locators reaching below the oldest block a node holds (a chain started from a
 * checkpoint): the steps are cut at the checkpoint, as Octez's `to_steps_truncate` cuts at the
 * savepoint, and the oldest step must end on it.
 */

const seed = { senderId: new Uint8Array(16).fill(1), receiverId: new Uint8Array(16).fill(2) }

/** A chain of `n` headers above a genesis hash; hashes[level]. */
function chainOf (n: number): { headers: BlockHeader[], hashes: Uint8Array[] } {
  const hashes = [blake2b256(new TextEncoder().encode('plan checkpoint genesis'))]
  const headers: BlockHeader[] = []
  for (let level = 1; level <= n; level++) {
    const header: BlockHeader = {
      shell: { level, proto: 1, predecessor: hashes[level - 1], timestamp: BigInt(level), validationPass: 1, operationsHash: operationsHashOf([[]]), fitness: levelFitness(level), context: new Uint8Array(32) },
      protocolData: new Uint8Array(0)
    }
    headers.push(header)
    hashes.push(blockHash(header))
  }
  return { headers, hashes }
}

async function locatorOf (c: ReturnType<typeof chainOf>, head: number): ReturnType<typeof computeLocator> {
  const levelOf = new Map(c.hashes.map((h, l) => [toHex(h), l]))
  return await computeLocator({
    headHash: c.hashes[head],
    headHeader: c.headers[head - 1],
    seed,
    caboose: c.hashes[0],
    getAncestor: (hash, distance) => {
      const l = (levelOf.get(toHex(hash)) ?? 0) - distance
      return l < 0 ? undefined : c.hashes[l]
    }
  })
}

function holder (c: ReturnType<typeof chainOf>, held: number[]): { status: (h: Uint8Array) => Promise<BlockStatus>, levelOf: (h: Uint8Array) => Promise<number | undefined> } {
  const levels = new Map(held.map(l => [toHex(c.hashes[l]), l]))
  return {
    status: h => Promise.resolve(levels.has(toHex(h)) ? 'valid' : 'unknown'),
    levelOf: h => Promise.resolve(levels.get(toHex(h)))
  }
}

test('a locator reaching genesis is cut at the checkpoint: the oldest step ends on it and steps cover exactly the levels above it', async () => {
  const c = chainOf(3000)
  const locator = await locatorOf(c, 3000)
  for (const k of [1, 17, 1234, 2999]) {
    const outcome = await planFromLocator({ peer: 'p', locator, seed, ...holder(c, [0, k]), caboose: { hash: c.hashes[k], level: k } })
    assert.equal(outcome.kind, 'plan', `checkpoint ${k}`)
    if (outcome.kind !== 'plan') continue
    const { plan } = outcome
    assert.equal(plan.startLevel, k)
    assert.equal(toHex(plan.steps[0].predecessor), toHex(c.hashes[k]), `the oldest step ends on checkpoint ${k}`)
    assert.equal(plan.steps.reduce((n, s) => n + s.count, 0), 3000 - k)
    for (const s of plan.steps) assert.equal(toHex(s.top), toHex(c.hashes[s.topLevel]), `step top at ${s.topLevel}`)
  }
})

test('with nothing known in the history (not even genesis), the plan still ends on the checkpoint', async () => {
  const c = chainOf(500)
  const locator = await locatorOf(c, 500)
  const outcome = await planFromLocator({ peer: 'p', locator, seed, ...holder(c, [100]), caboose: { hash: c.hashes[100], level: 100 } })
  assert.equal(outcome.kind, 'plan')
  if (outcome.kind === 'plan') assert.equal(toHex(outcome.plan.steps[0].predecessor), toHex(c.hashes[100]))
})

test('a known block above the checkpoint is used as usual; a head at or below the checkpoint has no common ancestor', async () => {
  const c = chainOf(400)
  const locator = await locatorOf(c, 400)
  const held = [0, 50, ...Array.from({ length: 400 - 50 }, (_, i) => 51 + i).filter(l => l <= 390)]
  const outcome = await planFromLocator({ peer: 'p', locator, seed, ...holder(c, held), caboose: { hash: c.hashes[50], level: 50 } })
  assert.equal(outcome.kind, 'plan')
  if (outcome.kind === 'plan') assert.ok(outcome.plan.startLevel > 50 && outcome.plan.startLevel <= 390, `start ${outcome.plan.startLevel}`)

  const low = await locatorOf(c, 40)
  assert.equal((await planFromLocator({ peer: 'p', locator: low, seed, ...holder(c, [0, 50]), caboose: { hash: c.hashes[50], level: 50 } })).kind, 'unknown-ancestor')
})

test('without a checkpoint (a node holding the chain from genesis) nothing changes: the plan starts at genesis', async () => {
  const c = chainOf(300)
  const locator = await locatorOf(c, 300)
  const outcome = await planFromLocator({ peer: 'p', locator, seed, ...holder(c, [0]), caboose: { hash: c.hashes[0], level: 0 } })
  assert.equal(outcome.kind, 'plan')
  if (outcome.kind === 'plan') {
    assert.equal(outcome.plan.startLevel, 0)
    assert.equal(outcome.plan.steps.reduce((n, s) => n + s.count, 0), 300)
  }
})
