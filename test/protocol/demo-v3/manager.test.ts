import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidBlockError, type InvalidOperationCode } from '../../../src/protocol/errors.ts'
import { ScratchState } from '../../../src/protocol/state.ts'
import { operationHash, type Operation } from '../../../src/wire/operation.ts'
import type { Ed25519Keypair } from '../../../src/protocol/demo/keys.ts'
import { originatedAddress, signOperation, type Contents } from '../../../src/protocol/demo-v3/index.ts'
import { isDelegate, readContract, delegateOf } from '../../../src/protocol/demo-v3/store.ts'
import { BALANCE, bake, balance, bestBaker, stake, v3Net, type V3Net } from './helpers.ts'

type Fixed = 'source' | 'fee' | 'counter' | 'gasLimit' | 'storageLimit'
/** A manager contents without the fields every test fills the same way (distributed over the kinds). */
type ManagerSpec = (Extract<Contents, { source: Uint8Array }> extends infer C ? C extends unknown ? Omit<C, Fixed> : never : never) & { fee?: bigint, counter?: bigint }

function managerOp (net: V3Net, key: Ed25519Keypair, spec: ManagerSpec, signer = key): Operation {
  const contents = { source: key.publicKeyHash, fee: spec.fee ?? 100n, counter: spec.counter ?? 1n, gasLimit: 1000n, storageLimit: 0n, ...spec } as Contents
  return { branch: net.headHash, data: signOperation(net.headHash, contents, signer.secretKey) }
}

async function refusedWith (net: V3Net, op: Operation, code: InvalidOperationCode, message?: RegExp): Promise<void> {
  const v = await net.protocol.validateOperation(op, new ScratchState(net.state))
  assert.equal(v.ok, false, `expected ${code}`)
  if (!v.ok) {
    assert.equal(v.error.code, code, v.error.message)
    if (message !== undefined) assert.match(v.error.message, message)
  }
}

async function admitted (net: V3Net, op: Operation): Promise<void> {
  const v = await net.protocol.validateOperation(op, new ScratchState(net.state))
  assert.equal(v.ok, true, v.ok ? '' : v.error.message)
  assert.equal(v.ok && v.pass, 3)
}

test('reveal, then transaction, delegation and origination are applied: balances, counters, fees to the baker, stake moving with delegations', async () => {
  const net = v3Net('v3-manager')
  const [user, other] = net.users
  const [d0, d1] = net.delegates
  await bake(net)
  await refusedWith(net, managerOp(net, user, { kind: 'transaction', amount: 5n, destination: { kind: 'implicit', pkh: other.publicKeyHash } }), 'unrevealed_key', /reveal/)
  await admitted(net, managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey }))
  let baked = await bake(net, [managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey })])
  assert.equal(baked.operations[3].length, 1)
  assert.equal(await balance(net, user.publicKeyHash), BALANCE - 100n)

  // Delegation to d1: user's balance now counts in d1's stake. (A delegate's own balance moves
  // with its deposits and rewards as it bakes, so stake is compared net of it.)
  const delegated = async (d: Ed25519Keypair): Promise<bigint> => await stake(net, d.publicKeyHash) - await balance(net, d.publicKeyHash)
  assert.equal(await delegated(d1), 0n)
  baked = await bake(net, [managerOp(net, user, { kind: 'delegation', delegate: d1.publicKeyHash, counter: 2n })])
  assert.deepEqual(baked.refused, [])
  const userBalance = await balance(net, user.publicKeyHash)
  assert.equal(await delegated(d1), userBalance)

  // A transaction moves stake from d1 (the sender's delegate) to nobody (the receiver has none).
  baked = await bake(net, [managerOp(net, user, { kind: 'transaction', amount: 1_000n, destination: { kind: 'implicit', pkh: other.publicKeyHash }, counter: 3n })])
  assert.deepEqual(baked.refused, [])
  assert.equal(await balance(net, other.publicKeyHash), BALANCE + 1_000n)
  assert.equal(await delegated(d1), userBalance - 1_100n)

  // Origination: a KT1 with a balance and d0 as delegate, at the address the operation hash gives.
  const origination = managerOp(net, user, { kind: 'origination', balance: 50_000n, delegate: d0.publicKeyHash, counter: 4n })
  assert.equal(await delegated(d0), 0n)
  baked = await bake(net, [origination])
  assert.deepEqual(baked.refused, [])
  const kt1 = { kind: 'originated' as const, hash: originatedAddress(operationHash(origination)) }
  assert.equal((await readContract(net.state, kt1))?.balance, 50_000n)
  assert.deepEqual(await delegateOf(net.state, kt1), d0.publicKeyHash)
  assert.equal(await delegated(d0), 50_000n)
  assert.equal(await delegated(d1), userBalance - 1_100n - 50_100n)
  // A transaction to the KT1 adds to its balance and to d0's stake.
  baked = await bake(net, [managerOp(net, user, { kind: 'transaction', amount: 7n, destination: kt1, counter: 5n })])
  assert.deepEqual(baked.refused, [])
  assert.equal((await readContract(net.state, kt1))?.balance, 50_007n)
  assert.equal(await delegated(d0), 50_007n)

  // Registering as a delegate: delegate to oneself.
  await bake(net, [managerOp(net, other, { kind: 'reveal', publicKey: other.publicKey })])
  assert.equal(await isDelegate(net.state, other.publicKeyHash), false)
  await bake(net, [managerOp(net, other, { kind: 'delegation', delegate: other.publicKeyHash, counter: 2n })])
  assert.equal(await isDelegate(net.state, other.publicKeyHash), true)
  assert.equal(await stake(net, other.publicKeyHash), await balance(net, other.publicKeyHash))
})

test('each invalid manager operation is refused with its reason', async () => {
  const net = v3Net('v3-manager-invalid')
  const [user, other] = net.users
  const [d0] = net.delegates
  await bake(net)
  await refusedWith(net, managerOp(net, user, { kind: 'reveal', publicKey: other.publicKey }, other), 'bad_public_key')
  await refusedWith(net, managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey }, other), 'bad_signature')
  await refusedWith(net, managerOp(net, net.fundraiser, { kind: 'reveal', publicKey: net.fundraiser.publicKey }), 'unknown_account')
  await refusedWith(net, managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey, counter: 2n }), 'counter_in_the_future')
  await refusedWith(net, managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey, fee: -1n }), 'invalid_amount')
  await refusedWith(net, managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey, fee: BALANCE + 1n }), 'balance_too_low')
  await bake(net, [managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey })])
  await refusedWith(net, managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey, counter: 2n }), 'already_revealed')
  await refusedWith(net, managerOp(net, user, { kind: 'delegation', delegate: other.publicKeyHash, counter: 1n }), 'counter_in_the_past')
  await refusedWith(net, managerOp(net, user, { kind: 'delegation', delegate: other.publicKeyHash, counter: 2n }), 'not_a_delegate')
  await refusedWith(net, managerOp(net, user, { kind: 'origination', balance: 1n, delegate: other.publicKeyHash, counter: 2n }), 'not_a_delegate')
  await refusedWith(net, managerOp(net, user, { kind: 'transaction', amount: 0n, destination: { kind: 'implicit', pkh: other.publicKeyHash }, counter: 2n }), 'invalid_amount')
  await refusedWith(net, managerOp(net, user, { kind: 'transaction', amount: BALANCE, destination: { kind: 'implicit', pkh: other.publicKeyHash }, counter: 2n }), 'balance_too_low')
  await refusedWith(net, managerOp(net, user, { kind: 'transaction', amount: 1n, destination: { kind: 'originated', hash: new Uint8Array(20) }, counter: 2n }), 'unknown_contract')
  await refusedWith(net, managerOp(net, d0, { kind: 'delegation', delegate: net.delegates[1].publicKeyHash, counter: 1n }), 'delegate_unchangeable')
  await refusedWith(net, managerOp(net, d0, { kind: 'delegation', counter: 1n }), 'delegate_unchangeable')
  await refusedWith(net, { branch: net.headHash, data: Uint8Array.of(108, 0) }, 'malformed')
})

test('a block carrying an operation in the wrong pass, or anything in the voting pass, is invalid', async () => {
  const net = v3Net('v3-manager-passes')
  const [user] = net.users
  await bake(net)
  const reveal = managerOp(net, user, { kind: 'reveal', publicKey: user.publicKey })
  const baked = await net.protocol.makeBlock({
    predecessor: net.head, predecessorHash: net.headHash, timestamp: net.head.shell.timestamp + 10n, candidates: [reveal], state: net.state, bakerKey: (await bestBaker(net)).key.secretKey
  })
  for (const wrong of [0, 1, 2]) {
    const operations = [[], [], [], []] as Operation[][]
    operations[wrong].push(reveal)
    await assert.rejects(net.protocol.applyBlock({ header: baked.header, operations, predecessor: net.head, state: net.state }),
      (e: unknown) => e instanceof InvalidBlockError && e.operation?.error.code === 'wrong_validation_pass' && e.operation.pass === wrong)
  }
  // The block as baked applies.
  await net.protocol.applyBlock({ header: baked.header, operations: baked.operations, predecessor: net.head, state: net.state })
})
