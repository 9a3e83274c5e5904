import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blake2b256 } from '../../../src/crypto/index.ts'
import { toHex } from '../../../src/encoding/index.ts'
import { InvalidBlockError, type InvalidOperationCode } from '../../../src/protocol/errors.ts'
import { ScratchState } from '../../../src/protocol/state.ts'
import type { Operation } from '../../../src/wire/operation.ts'
import { compareFitness } from '../../../src/wire/fitness.ts'
import { anonymousOperation, decodeBlockData, decodeV3Fitness, endorsementOf, revelationsDue, seedNonceFor, TooEarlyForPriorityError, v3Fitness } from '../../../src/protocol/demo-v3/index.ts'
import { signBlockData } from '../../../src/protocol/demo-v3/block-data.ts'
import { signOperation } from '../../../src/protocol/demo-v3/sign.ts'
import type { BlockHeader } from '../../../src/wire/block-header.ts'
import { readCycle, readNonce } from '../../../src/protocol/demo-v3/store.ts'
import {
  ACTIVATION_SECRET, FUNDRAISER_BALANCE, bake, balance, bestBaker, endorsement, keyOf, slotsAt, v3Net, type V3Net
} from './helpers.ts'

async function verdict (net: V3Net, op: Operation, state = new ScratchState(net.state)): Promise<InvalidOperationCode | 'ok'> {
  const v = await net.protocol.validateOperation(op, state)
  return v.ok ? 'ok' : v.error.code
}

/** Endorsements of the head by every delegate holding a slot, one each. */
async function allEndorsements (net: V3Net): Promise<Operation[]> {
  const slots = await slotsAt(net, net.head.shell.level)
  const holders = [...new Set(slots.map(toHex))]
  const out: Operation[] = []
  for (const h of holders) {
    const op = await endorsement(net, keyOf(net, Buffer.from(h, 'hex')))
    if (op !== undefined) out.push(op)
  }
  return out
}

test('endorsements of the predecessor go in pass 0, count their slots in the fitness, and pay endorsers', async () => {
  const net = v3Net('v3-endorse')
  await bake(net)
  const ops = await allEndorsements(net)
  assert.ok(ops.length >= 2, 'several delegates hold slots')
  const shared = new ScratchState(net.state)
  for (const op of ops) assert.equal(await verdict(net, op, shared), 'ok')
  // The mempool refuses the second endorsement by the same delegate.
  assert.equal(await verdict(net, ops[0], shared), 'duplicate_endorsement')
  const slots = await slotsAt(net, net.head.shell.level)
  const blockBaker = (await bestBaker(net)).key
  const endorser = keyOf(net, slots.find(s => toHex(s) !== toHex(blockBaker.publicKeyHash)) as Uint8Array)
  const power = BigInt(slots.filter(s => toHex(s) === toHex(endorser.publicKeyHash)).length)
  const before = await balance(net, endorser.publicKeyHash)
  const baked = await bake(net, ops, blockBaker)
  assert.equal(baked.operations[0].length, ops.length)
  const p = net.params
  assert.equal(await balance(net, endorser.publicKeyHash) - before, power * (p.endorsementReward - p.endorsementSecurityDeposit))
  assert.deepEqual(decodeV3Fitness(baked.header.shell.fitness), { level: 2, endorsingPower: net.params.endorsersPerBlock })
})

test('each invalid endorsement is refused with its reason', async () => {
  const net = v3Net('v3-endorse-invalid')
  await bake(net)
  await bake(net)
  const slots = await slotsAt(net, net.head.shell.level)
  const holder = keyOf(net, slots[0])
  const outsider = [...net.delegates, net.authority].find(k => !slots.some(s => toHex(s) === toHex(k.publicKeyHash)))
  const firstOther = slots.findIndex(s => toHex(s) !== toHex(holder.publicKeyHash))
  const secondOfHolder = slots.findIndex((s, i) => i > 0 && toHex(s) === toHex(holder.publicKeyHash))

  assert.equal(await verdict(net, await endorsement(net, holder, { level: 1 }) as Operation), 'wrong_endorsement_level')
  assert.equal(await verdict(net, await endorsement(net, holder, { slot: net.params.endorsersPerBlock }) as Operation), 'wrong_slot')
  assert.equal(await verdict(net, await endorsement(net, holder, { slot: firstOther }) as Operation), 'bad_signature')
  if (secondOfHolder > 0) assert.equal(await verdict(net, await endorsement(net, holder, { slot: secondOfHolder }) as Operation), 'wrong_slot')
  if (outsider !== undefined) assert.equal(await endorsement(net, outsider), undefined)

  // In a block, the branch must be the predecessor: an endorsement of a sibling is refused.
  const sibling = await endorsement(net, holder, { branch: blake2b256(Uint8Array.of(1)) }) as Operation
  const good = await endorsement(net, holder) as Operation
  const baked = await bake(net, [sibling, good])
  assert.equal(baked.refused.length, 1)
  assert.equal((baked.refused[0].error as { code?: string }).code, 'wrong_endorsed_block')
  assert.equal(baked.operations[0].length, 1)
})

test('fitness: a block with more endorsements of the same predecessor weighs more; a false claim is invalid', async () => {
  const net = v3Net('v3-fitness')
  await bake(net)
  const ops = await allEndorsements(net)
  const baker = (await bestBaker(net)).key
  const make = async (candidates: Operation[]) => await net.protocol.makeBlock({
    predecessor: net.head, predecessorHash: net.headHash, timestamp: net.head.shell.timestamp + 30n, candidates, state: net.state, bakerKey: baker.secretKey
  })
  const few = await make(ops.slice(0, 1))
  const many = await make(ops)
  assert.equal(compareFitness(many.header.shell.fitness, few.header.shell.fitness), 1)
  for (const b of [few, many]) await net.protocol.applyBlock({ header: b.header, operations: b.operations, predecessor: net.head, state: net.state })
  // The header of `many` with the operations of `few`: the fitness claims endorsements it lacks.
  await assert.rejects(net.protocol.applyBlock({ header: many.header, operations: few.operations, predecessor: net.head, state: net.state }), InvalidBlockError)
})

test('Emmy* timing: a block before its priority\'s minimal time is refused', async () => {
  const net = v3Net('v3-timing')
  const { key, priority } = await bestBaker(net)
  const genesisTime = net.head.shell.timestamp
  await assert.rejects(net.protocol.makeBlock({
    predecessor: net.head, predecessorHash: net.headHash, timestamp: genesisTime + 1n, candidates: [], state: net.state, bakerKey: key.secretKey
  }), (e: unknown) => e instanceof TooEarlyForPriorityError && e.priority === priority && e.earliest === genesisTime + BigInt(2 + 2 * priority + 4))
  const baked = await bake(net)
  // No endorsements (initialEndorsers 4 missing): priority p waits 2 + 2p + 4 × 1 seconds.
  const p = decodeBlockData(baked.header.protocolData).priority
  assert.equal(baked.header.shell.timestamp, net.headers[0].shell.timestamp + BigInt(2 + 2 * p + 4))
  const early = { ...baked.header, shell: { ...baked.header.shell, timestamp: baked.header.shell.timestamp - 1n } }
  const v = net.protocol.validateHeader(early, net.headers[0])
  assert.equal(v.ok, false)
  assert.equal(!v.ok && v.error.code, 'timestamp_too_early')
})

test('activation: the secret matching the blinded key hash credits the committed balance, once', async () => {
  const net = v3Net('v3-activation')
  await bake(net)
  const wrong = anonymousOperation({ kind: 'activate_account', pkh: net.fundraiser.publicKeyHash, secret: new Uint8Array(20) })
  assert.equal(await verdict(net, { branch: net.headHash, data: wrong }), 'invalid_activation')
  const right = { branch: net.headHash, data: anonymousOperation({ kind: 'activate_account', pkh: net.fundraiser.publicKeyHash, secret: ACTIVATION_SECRET }) }
  assert.equal(await verdict(net, right), 'ok')
  const baked = await bake(net, [right])
  assert.equal(baked.operations[2].length, 1)
  assert.equal(await balance(net, net.fundraiser.publicKeyHash), FUNDRAISER_BALANCE)
  assert.equal(await verdict(net, { branch: net.headHash, data: right.data }), 'invalid_activation')
})

test('seed nonces: committed every blocksPerCommitment levels, revealed in the next cycle for the held reward; unrevealed ones forfeit it', async () => {
  const net = v3Net('v3-nonces')
  const bakers = new Map<number, Uint8Array>()
  for (let i = 0; i < 8; i++) {
    const b = await bake(net)
    const d = decodeBlockData(b.header.protocolData)
    assert.equal(d.seedNonceHash !== undefined, b.header.shell.level % 4 === 0, `level ${b.header.shell.level}`)
    if (d.seedNonceHash !== undefined) bakers.set(b.header.shell.level, (await readNonce(net.state, b.header.shell.level))?.baker as Uint8Array)
    if (b.header.shell.level === 7) {
      // The next block (8) is still in cycle 0: level 4's nonce is revealed during cycle 1, not before.
      const nonce = seedNonceFor(keyOf(net, bakers.get(4) as Uint8Array).secretKey, 4)
      const op = { branch: net.headHash, data: anonymousOperation({ kind: 'seed_nonce_revelation', level: 4, nonce }) }
      assert.equal(await verdict(net, op), 'unexpected_nonce')
    }
  }
  assert.deepEqual([...bakers.keys()], [4, 8])
  const bakerOf4 = keyOf(net, bakers.get(4) as Uint8Array)
  const nonce4 = seedNonceFor(bakerOf4.secretKey, 4)
  const reveal = (level: number, nonce: Uint8Array): Operation => ({ branch: net.headHash, data: anonymousOperation({ kind: 'seed_nonce_revelation', level, nonce }) })
  // The mempool checks against the next block: on head 8 that is level 9, cycle 1, when level 4's nonce may be revealed.
  assert.equal(await verdict(net, reveal(4, nonce4)), 'ok')
  assert.equal(await verdict(net, reveal(4, new Uint8Array(32))), 'bad_nonce')
  assert.equal(await verdict(net, reveal(3, nonce4)), 'unexpected_nonce')
  const before = await balance(net, bakerOf4.publicKeyHash)
  const held = (await readNonce(net.state, 4))?.pendingReward as bigint
  assert.equal(held, net.params.bakingReward)
  const blockBaker = (await bestBaker(net)).key
  const baked = await bake(net, [reveal(4, nonce4)], blockBaker)
  assert.equal(baked.operations[2].length, 1)
  // The held reward goes to the committer; the block's baker also gets the tip, its own reward, and freezes its deposit.
  const p = net.params
  const expected = held + (blockBaker === bakerOf4 ? p.seedNonceRevelationTip + p.bakingReward - p.blockSecurityDeposit : 0n)
  assert.equal(await balance(net, bakerOf4.publicKeyHash) - before, expected)
  assert.equal((await readNonce(net.state, 4))?.pendingReward, 0n)
  assert.equal(await verdict(net, reveal(4, nonce4)), 'unexpected_nonce')
  // Level 8's nonce is never revealed: at the start of cycle 2 (level 17) its record and reward are gone.
  const held8 = (await readNonce(net.state, 8))?.pendingReward
  assert.equal(held8, net.params.bakingReward)
  while (net.head.shell.level < 17) await bake(net)
  assert.equal(await readNonce(net.state, 8), undefined)
  assert.equal(await readNonce(net.state, 4), undefined)
})

test('each invalid block header is refused with its reason', async () => {
  const net = v3Net('v3-headers')
  const baker = (await bestBaker(net)).key
  const good = (await net.protocol.makeBlock({
    predecessor: net.head, predecessorHash: net.headHash, timestamp: net.head.shell.timestamp + 60n, candidates: [], state: net.state, bakerKey: baker.secretKey
  })).header
  const data = decodeBlockData(good.protocolData)
  const withShell = (shell: Partial<BlockHeader['shell']>): BlockHeader => ({ ...good, shell: { ...good.shell, ...shell } })
  const withData = (d: Partial<typeof data>, key = baker): BlockHeader =>
    ({ ...good, protocolData: signBlockData(good.shell, { ...data, ...d }, key.secretKey) })
  const cases: Array<[BlockHeader, string]> = [
    [withShell({ fitness: [good.shell.fitness[0]] }), 'bad_fitness'],
    [withShell({ fitness: v3Fitness(9, 0) }), 'bad_fitness'],
    [withShell({ validationPass: 3 }), 'bad_validation_passes'],
    [{ ...good, protocolData: good.protocolData.subarray(1) }, 'malformed_protocol_data'],
    [withData({ priority: net.params.maxPriority }), 'bad_priority'],
    [withData({ seedNonceHash: new Uint8Array(32) }), 'bad_nonce_commitment']
  ]
  for (const [header, code] of cases) {
    const v = net.protocol.validateHeader(header, net.head)
    assert.equal(v.ok ? 'ok' : v.error.code, code)
  }
  // Signed by a key that does not hold the priority: valid header shape, refused when applied.
  const intruder = net.users[0]
  const forged = withData({}, intruder)
  assert.equal(net.protocol.validateHeader(forged, net.head).ok, true)
  await assert.rejects(net.protocol.applyBlock({ header: forged, operations: [[], [], [], []], predecessor: net.head, state: net.state }),
    (e: unknown) => e instanceof InvalidBlockError && e.code === 'bad_block_signature')
  await net.protocol.applyBlock({ header: good, operations: [[], [], [], []], predecessor: net.head, state: net.state })
})

test('revealed nonces seed the cycle after next: the same chain with and without a revelation draws different rights there', async () => {
  const nets = [v3Net('v3-seed'), v3Net('v3-seed')]
  for (const net of nets) while (net.head.shell.level < 9) await bake(net)
  const committer = keyOf(nets[0], (await readNonce(nets[0].state, 4))?.baker as Uint8Array)
  const nonce = seedNonceFor(committer.secretKey, 4)
  await bake(nets[0], [{ branch: nets[0].headHash, data: anonymousOperation({ kind: 'seed_nonce_revelation', level: 4, nonce }) }])
  await bake(nets[1])
  for (const net of nets) while (net.head.shell.level < 17) await bake(net)
  const seeds = await Promise.all(nets.map(async net => await Promise.all([1, 2].map(async c => toHex((await readCycle(net.state, c))?.seed as Uint8Array)))))
  assert.equal(seeds[0][0], seeds[1][0])
  assert.notEqual(seeds[0][1], seeds[1][1])
})

test('the genesis block is not endorsed', async () => {
  const net = v3Net('v3-genesis-endorsement')
  const slots = await slotsAt(net, 1)
  const op = { branch: net.headHash, data: signOperation(net.headHash, { kind: 'endorsement', level: 0, slot: 0 }, keyOf(net, slots[0]).secretKey) }
  assert.equal(await verdict(net, op), 'wrong_endorsement_level')
})

test('duties: endorsementOf signs for the key\'s first slot; revelationsDue lists the key\'s unrevealed commitments of the previous cycle', async () => {
  const net = v3Net('v3-duties')
  while (net.head.shell.level < 9) await bake(net)
  const slots = await slotsAt(net, net.head.shell.level)
  const shared = new ScratchState(net.state)
  const endorsements: Operation[] = []
  for (const key of [...net.delegates, net.authority, ...net.users]) {
    const op = endorsementOf({ hash: net.headHash, level: net.head.shell.level }, slots, key.secretKey)
    const holds = slots.some(s => toHex(s) === toHex(key.publicKeyHash))
    assert.equal(op !== undefined, holds)
    if (op !== undefined) { assert.equal(await verdict(net, op, shared), 'ok'); endorsements.push(op) }
  }
  const committers = [4, 8].map(async l => (await readNonce(net.state, l))?.baker as Uint8Array)
  const due: Operation[] = []
  for (const key of [...net.delegates, net.authority]) {
    const ops = await revelationsDue(net.state, net.params, net.head.shell.level + 1, net.headHash, key.secretKey)
    const mine = (await Promise.all(committers)).filter(c => toHex(c) === toHex(key.publicKeyHash)).length
    assert.equal(ops.length, mine)
    due.push(...ops)
  }
  const baked = await bake(net, [...endorsements, ...due])
  assert.equal(baked.refused.length, 0)
  assert.equal(baked.operations[2].length, 2)
  for (const key of [...net.delegates, net.authority]) {
    assert.deepEqual(await revelationsDue(net.state, net.params, net.head.shell.level + 1, net.headHash, key.secretKey), [])
  }
})
