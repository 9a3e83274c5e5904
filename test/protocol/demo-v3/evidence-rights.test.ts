import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../../src/encoding/index.ts'
import type { InvalidOperationCode } from '../../../src/protocol/errors.ts'
import { ScratchState } from '../../../src/protocol/state.ts'
import type { Operation } from '../../../src/wire/operation.ts'
import { anonymousOperation, inlineEndorsement, NoBakingRightError, signOperation, type Contents, type DemoV3Protocol } from '../../../src/protocol/demo-v3/index.ts'
import { readCycle } from '../../../src/protocol/demo-v3/store.ts'
import { cycleOf, resolveParameters } from '../../../src/protocol/demo-v3/parameters.ts'
import { bakerAt, endorsementSlots, minimalTimestamp } from '../../../src/protocol/demo-v3/rights.ts'
import type { CycleData } from '../../../src/protocol/demo-v3/store.ts'
import { bake, balance, bestBaker, endorsement, frozen, hashOf, slotsAt, keyOf, v3Net, type V3Net } from './helpers.ts'
import { blockHash } from '../../../src/wire/block-header.ts'

async function verdict (net: V3Net, op: Operation): Promise<InvalidOperationCode | 'ok'> {
  const v = await net.protocol.validateOperation(op, new ScratchState(net.state))
  return v.ok ? 'ok' : v.error.code
}

test('double baking: two blocks signed by one baker at one level are evidence; the offender loses its deposit, half to the reporter', async () => {
  const net = v3Net('v3-double-baking')
  await bake(net)
  const { key: offender } = await bestBaker(net)
  const input = { predecessor: net.head, predecessorHash: net.headHash, candidates: [], state: net.state, bakerKey: offender.secretKey }
  const bh1 = (await net.protocol.makeBlock({ ...input, timestamp: net.head.shell.timestamp + 100n })).header
  const bh2 = (await net.protocol.makeBlock({ ...input, timestamp: net.head.shell.timestamp + 101n })).header
  await bake(net, [], offender) // the offender's block at this level (one more sibling) is the chain's
  const level = net.head.shell.level
  const deposit = await frozen(net, cycleOf(net.params, level), offender.publicKeyHash)
  assert.ok(deposit >= net.params.blockSecurityDeposit)

  const evidence = (a = bh1, b = bh2): Operation => ({ branch: net.headHash, data: anonymousOperation({ kind: 'double_baking_evidence', bh1: a, bh2: b }) })
  assert.equal(await verdict(net, evidence(bh1, bh1)), 'not_equivocation')
  const tampered = { ...bh2, protocolData: Uint8Array.from(bh2.protocolData) }
  tampered.protocolData[tampered.protocolData.length - 1] ^= 1
  assert.equal(await verdict(net, evidence(bh1, tampered)), 'bad_signature')
  // Another baker's block at another priority is not equivocation.
  const other = [...net.delegates, net.authority].find(k => k !== offender) as typeof offender
  const otherBlock = await net.protocol.makeBlock({ ...input, bakerKey: other.secretKey, timestamp: net.headers[level - 1].shell.timestamp + 200n }).catch(() => undefined)
  if (otherBlock !== undefined) assert.equal(await verdict(net, evidence(bh1, otherBlock.header)), 'not_equivocation')
  assert.equal(await verdict(net, evidence()), 'ok')

  const reporter = [...net.delegates, net.authority].find(k => k !== offender) as typeof offender
  const reporterBefore = await balance(net, reporter.publicKeyHash)
  const offenderBefore = await balance(net, offender.publicKeyHash)
  const baked = await bake(net, [evidence()], reporter)
  assert.equal(baked.operations[2].length, 1)
  assert.equal(await frozen(net, cycleOf(net.params, level), offender.publicKeyHash), 0n)
  const p = net.params
  // The reporter: half the deposit, plus its own block's reward, minus its block deposit; the offender's balance is untouched.
  assert.equal(await balance(net, reporter.publicKeyHash) - reporterBefore, deposit / 2n + p.bakingReward - p.blockSecurityDeposit)
  assert.equal(await balance(net, offender.publicKeyHash), offenderBefore)
  assert.equal(await verdict(net, evidence()), 'already_denounced')
})

test('double endorsement: two endorsements of different blocks at one level by one delegate; forms that prove nothing are refused', async () => {
  const net = v3Net('v3-double-endorsement')
  await bake(net)
  await bake(net)
  const level = net.head.shell.level
  const slots = await slotsAt(net, level)
  const offender = keyOf(net, slots[0])
  const slotOther = slots.findIndex(s => toHex(s) !== toHex(offender.publicKeyHash))
  // The offender endorses the head and gets it included, so it has a deposit of this cycle.
  const real = await endorsement(net, offender) as Operation
  await bake(net, [real])
  const e1 = inlineEndorsement(blockHash(net.headers[level]), level, 0, offender.secretKey)
  const e2 = inlineEndorsement(hashOf('a sibling block'), level, 0, offender.secretKey)
  const op = (op1 = e1, op2 = e2): Operation => ({ branch: net.headHash, data: anonymousOperation({ kind: 'double_endorsement_evidence', op1, op2 }) })
  assert.equal(await verdict(net, op(e1, e1)), 'not_equivocation')
  assert.equal(await verdict(net, op(e1, inlineEndorsement(hashOf('x'), level - 1, 0, offender.secretKey))), 'not_equivocation')
  if (slotOther >= 0) {
    const byOther = inlineEndorsement(hashOf('y'), level, slotOther, keyOf(net, slots[slotOther]).secretKey)
    assert.equal(await verdict(net, op(e1, byOther)), 'not_equivocation')
  }
  assert.equal(await verdict(net, op(e1, inlineEndorsement(hashOf('z'), level, 0, net.users[0].secretKey))), 'bad_signature')
  assert.equal(await verdict(net, op(e1, inlineEndorsement(hashOf('w'), net.head.shell.level + 1, 0, offender.secretKey))), 'not_equivocation')
  const cycle = cycleOf(net.params, net.head.shell.level)
  const deposit = await frozen(net, cycle, offender.publicKeyHash)
  assert.ok(deposit > 0n)
  assert.equal(await verdict(net, op()), 'ok')
  const reporter = [...net.delegates, net.authority].find(k => k !== offender) as typeof offender
  await bake(net, [op()], reporter)
  assert.equal(await frozen(net, cycle, offender.publicKeyHash), 0n)
  assert.equal(await verdict(net, op()), 'already_denounced')
  // Past the preserved cycles, evidence is too old.
  while (cycleOf(net.params, net.head.shell.level + 1) <= cycleOf(net.params, level) + net.params.preservedCycles) await bake(net)
  assert.equal(await verdict(net, op(e1, inlineEndorsement(hashOf('v'), level, 0, offender.secretKey))), 'evidence_too_old')
})

test('rights: deterministic for a seed and weighted by stake', () => {
  const d = (n: number): Uint8Array => new Uint8Array(20).fill(n)
  const cycle: CycleData = { seed: hashOf('seed'), stakes: [{ delegate: d(1), stake: 100n }, { delegate: d(2), stake: 300n }] }
  const count = new Map<string, number>()
  for (let level = 1; level <= 400; level++) {
    for (const s of endorsementSlots(cycle, level, 8)) count.set(toHex(s), (count.get(toHex(s)) ?? 0) + 1)
    assert.deepEqual(bakerAt(cycle, level, 0), bakerAt({ ...cycle, stakes: cycle.stakes.map(x => ({ ...x })) }, level, 0))
  }
  const small = count.get(toHex(d(1))) ?? 0
  const large = count.get(toHex(d(2))) ?? 0
  assert.equal(small + large, 3200)
  // Expected 800 and 2400; the bound is many standard deviations (≈ 24) wide.
  assert.ok(small > 600 && small < 1000, `small stake got ${small} slots`)
  // Another seed draws differently.
  const other = { ...cycle, seed: hashOf('other seed') }
  const differs = Array.from({ length: 50 }, (_, i) => toHex(bakerAt(cycle, i + 1, 0)) !== toHex(bakerAt(other, i + 1, 0))).some(x => x)
  assert.ok(differs)
})

test('a delegation moves stake into the next cycle\'s snapshot, and so rights', async () => {
  const net = v3Net('v3-snapshot')
  const [user] = net.users
  const [d0] = net.delegates
  const sign = (c: Contents): Operation => ({ branch: net.headHash, data: signOperation(net.headHash, c, user.secretKey) })
  const m = { source: user.publicKeyHash, fee: 0n, gasLimit: 0n, storageLimit: 0n }
  await bake(net)
  await bake(net, [sign({ kind: 'reveal', ...m, counter: 1n, publicKey: user.publicKey })])
  const before = (await readCycle(net.state, 0))?.stakes.find(x => toHex(x.delegate) === toHex(d0.publicKeyHash))?.stake as bigint
  await bake(net, [sign({ kind: 'delegation', ...m, counter: 2n, delegate: d0.publicKeyHash })])
  // Cycle 0's snapshot is fixed; cycle 1's (taken by its first block) has the user's balance in d0's stake.
  assert.equal((await readCycle(net.state, 0))?.stakes.find(x => toHex(x.delegate) === toHex(d0.publicKeyHash))?.stake, before)
  while (net.head.shell.level < net.params.blocksPerCycle + 1) await bake(net)
  const after = (await readCycle(net.state, 1))?.stakes.find(x => toHex(x.delegate) === toHex(d0.publicKeyHash))?.stake as bigint
  assert.ok(after - before >= await balance(net, user.publicKeyHash) - 2n * net.params.blockSecurityDeposit, `${before} → ${after}`)
})

test('the authority bakes a chain without delegates', async () => {
  const net = v3Net('v3-authority', { delegates: 0 })
  for (let i = 0; i < 3; i++) {
    const { key, priority } = await bestBaker(net)
    assert.equal(key, net.authority)
    assert.equal(priority, 0)
    await bake(net)
  }
})

test('Emmy* minimal timestamps', () => {
  const p = resolveParameters({ minimalBlockDelay: 30, timeBetweenBlocks: [60, 40], initialEndorsers: 192, endorsersPerBlock: 256, delayPerMissingEndorsement: 4 })
  assert.equal(minimalTimestamp(p, 1000n, 0, 192), 1030n)
  assert.equal(minimalTimestamp(p, 1000n, 0, 191), 1000n + 60n + 4n)
  assert.equal(minimalTimestamp(p, 1000n, 2, 256), 1000n + 60n + 80n)
  assert.equal(minimalTimestamp(p, 1000n, 1, 100), 1000n + 60n + 40n + 4n * 92n)
})

test('rightsAt: the bakers by priority and the endorsement slots the protocol checks against', async () => {
  const net = v3Net('v3-rights-at')
  await bake(net)
  const protocol = net.protocol as DemoV3Protocol
  const level = net.head.shell.level + 1
  const rights = await protocol.rightsAt(net.state, level, 16)
  const { key, priority } = await bestBaker(net)
  assert.equal(toHex(rights.bakers[priority]), toHex(key.publicKeyHash))
  // Every drawn baker is one of the net's delegates, so the best of them holds priority 0.
  assert.equal(priority, 0)
  assert.deepEqual((await protocol.rightsAt(net.state, net.head.shell.level)).slots.map(toHex), (await slotsAt(net, net.head.shell.level)).map(toHex))
  assert.equal(protocol.earliestTimestamp(100n, 0, net.params.initialEndorsers), 100n + BigInt(net.params.minimalBlockDelay))
})

test('makeBlock with a key holding no right at the level is a NoBakingRightError', async () => {
  const net = v3Net('v3-no-right')
  await assert.rejects(net.protocol.makeBlock({
    predecessor: net.head, predecessorHash: net.headHash, timestamp: net.head.shell.timestamp + 1n, candidates: [], state: net.state, bakerKey: net.users[0].secretKey
  }), (e: unknown) => e instanceof NoBakingRightError && e.level === 1)
})
