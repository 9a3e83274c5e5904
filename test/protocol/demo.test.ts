import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodeError, encode, toHex } from '../../src/encoding/index.ts'
import { blake2b256, b58Encode } from '../../src/crypto/index.ts'
import { blockHash, blockHeaderCodec } from '../../src/wire/block-header.ts'
import { operationsHashOfPasses } from '../../src/wire/merkle.ts'
import { operationHash, type Operation } from '../../src/wire/operation.ts'
import {
  createDemoProtocol, decodeTransfer, ed25519FromName, encodePublicKeyHash, readAccount, signTransfer, TRANSFER_BYTES
} from '../../src/protocol/demo/index.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { ScratchState, type StateReader } from '../../src/protocol/state.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'

const alice = ed25519FromName('test/alice')
const bob = ed25519FromName('test/bob')
const baker = ed25519FromName('test/baker')
const branch = blake2b256(new TextEncoder().encode('some block'))

function protocol (validationPasses = 1) {
  return createDemoProtocol({
    bakerPublicKey: baker.publicKey,
    bootstrapAccounts: [{ publicKeyHash: alice.publicKeyHash, balance: 1000n }],
    validationPasses,
    verifyWorkers: 0
  })
}

function genesisState (p: ReturnType<typeof protocol>): StateReader {
  const m = new Map(p.genesis().writes.map(w => [w.key, w.value as Uint8Array]))
  return { get: k => Promise.resolve(m.get(k)) }
}

function transfer (amount: bigint, counter: bigint, fee = 0n, from = alice, to = bob.publicKeyHash): Operation {
  return { branch, data: signTransfer(branch, { publicKey: from.publicKey, destination: to, amount, fee, counter }, from.secretKey) }
}

test('a transfer is 161 bytes laid out as documented and decodes back', () => {
  const op = transfer(25n, 1n, 3n)
  assert.equal(op.data.length, TRANSFER_BYTES)
  assert.equal(TRANSFER_BYTES, 161)
  assert.equal(op.data[0], 0x01)
  assert.equal(toHex(op.data.subarray(1, 21)), toHex(alice.publicKeyHash))
  assert.equal(toHex(op.data.subarray(21, 53)), toHex(alice.publicKey))
  assert.equal(toHex(op.data.subarray(53, 73)), toHex(bob.publicKeyHash))
  assert.equal(toHex(op.data.subarray(73, 97)), '0000000000000019' + '0000000000000003' + '0000000000000001')
  const t = decodeTransfer(op.data)
  assert.equal(t.amount, 25n)
  assert.equal(t.fee, 3n)
  assert.equal(t.counter, 1n)
  assert.match(encodePublicKeyHash(t.source), /^tz1/)
  assert.throws(() => decodeTransfer(op.data.subarray(0, 160)), DecodeError)
  const badTag = Uint8Array.from(op.data)
  badTag[0] = 0x02
  assert.throws(() => decodeTransfer(badTag), DecodeError)
})

test('mempool admission: counters, balance, signature, key, and effects recorded only on success', async () => {
  const p = protocol()
  const state = new ScratchState(genesisState(p))
  const check = async (op: Operation) => await p.validateOperation(op, state)
  assert.deepEqual(await check(transfer(100n, 1n, 5n)), { ok: true, pass: 0 })
  assert.deepEqual(await readAccount(state, alice.publicKeyHash), { balance: 895n, counter: 1n })
  assert.deepEqual(await readAccount(state, bob.publicKeyHash), { balance: 100n, counter: 0n })
  assert.deepEqual(await readAccount(state, baker.publicKeyHash), { balance: 5n, counter: 0n })
  const codeOf = async (op: Operation): Promise<string> => {
    const v = await check(op)
    assert.equal(v.ok, false)
    return v.ok ? '' : v.error.code
  }
  assert.equal(await codeOf(transfer(1n, 1n)), 'counter_in_the_past')
  assert.equal(await codeOf(transfer(1n, 3n)), 'counter_in_the_future')
  assert.equal(await codeOf(transfer(896n, 2n)), 'balance_too_low')
  assert.equal(await codeOf(transfer(890n, 2n, 6n)), 'balance_too_low')
  assert.equal(await codeOf(transfer(0n, 2n)), 'invalid_amount')
  const carol = ed25519FromName('test/carol')
  assert.equal(await codeOf(transfer(1n, 1n, 0n, carol)), 'unknown_account')
  const forged = transfer(10n, 2n)
  forged.data[80] ^= 1 // amount changed after signing
  assert.equal(await codeOf(forged), 'bad_signature')
  assert.equal(await codeOf({ branch: blake2b256(new Uint8Array(1)), data: transfer(10n, 2n).data }), 'bad_signature')
  const wrongKey = Uint8Array.from(transfer(10n, 2n).data)
  wrongKey.set(bob.publicKey, 21)
  assert.equal(await codeOf({ branch, data: wrongKey }), 'bad_public_key')
  assert.equal(await codeOf({ branch, data: new Uint8Array(10) }), 'malformed')
  // None of the refusals changed the state.
  assert.deepEqual(await readAccount(state, alice.publicKeyHash), { balance: 895n, counter: 1n })
  assert.deepEqual(await check(transfer(895n, 2n)), { ok: true, pass: 0 })
  assert.deepEqual(await readAccount(state, alice.publicKeyHash), { balance: 0n, counter: 2n })
})

test('bob, credited in the same scratch state, can spend what alice sent him', async () => {
  const p = protocol()
  const state = new ScratchState(genesisState(p))
  assert.equal((await p.validateOperation(transfer(50n, 1n), state)).ok, true)
  assert.equal((await p.validateOperation(transfer(20n, 1n, 0n, bob, alice.publicKeyHash), state)).ok, true)
  assert.deepEqual(await readAccount(state, bob.publicKeyHash), { balance: 30n, counter: 1n })
})

test('baked blocks: operations sorted into passes, signed header, hash = BLAKE2b of the header, apply gives the same state', async () => {
  const setup = demoSetup({ name: 'demo-unit', accounts: 6, validationPasses: 3 })
  const b = new DemoChainBuilder(setup)
  const block = await b.bake(b.transfers([{ from: 0, to: 1, amount: 5n }, { from: 1, to: 2, amount: 7n }, { from: 0, to: 3, amount: 1n, fee: 2n }, { from: 4, to: 0, amount: 9n }]))
  const h = block.header
  assert.equal(h.shell.level, 1)
  assert.equal(h.shell.proto, 1)
  assert.equal(h.shell.validationPass, 3)
  assert.equal(h.protocolData.length, 96)
  assert.deepEqual(h.shell.fitness, [Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1)])
  assert.equal(toHex(blockHash(h)), toHex(blake2b256(encode(blockHeaderCodec, h))))
  assert.equal(toHex(h.shell.operationsHash), toHex(operationsHashOfPasses(block.operations.map(ops => ops.map(operationHash)))))
  let total = 0
  block.operations.forEach((ops, pass) => {
    for (const op of ops) assert.equal(op.data[1] % 3, pass)
    total += ops.length
  })
  assert.equal(total, 4)
  assert.equal(await b.balance(0), 1_000_000_000_000n - 5n - 1n - 2n + 9n)
  assert.deepEqual(setup.protocol.validateHeader(h, b.blocks[0].header), { ok: true })
})

test('header checks: another baker, a forged signature, a wrong fitness or protocol level are refused with their code', async () => {
  const setup = demoSetup({ name: 'demo-hdr' })
  const b = new DemoChainBuilder(setup)
  const genesisHeader = b.head.header
  const { header } = await b.bake([])
  const p = setup.protocol
  const codeOf = (h: typeof header): string => {
    const v = p.validateHeader(h, genesisHeader)
    return v.ok ? 'ok' : v.error.code
  }
  assert.equal(codeOf(header), 'ok')
  const intruder = ed25519FromName('intruder')
  const other = createDemoProtocol({ bakerPublicKey: intruder.publicKey, bootstrapAccounts: [], verifyWorkers: 0 })
  const intruderBlock = await other.makeBlock({ predecessor: genesisHeader, predecessorHash: blockHash(genesisHeader), timestamp: 1n + genesisHeader.shell.timestamp, candidates: [], state: genesisState(p), bakerKey: intruder.secretKey })
  assert.equal(codeOf(intruderBlock.header), 'bad_baker')
  const forged = { shell: { ...header.shell, timestamp: header.shell.timestamp + 1n }, protocolData: header.protocolData }
  assert.equal(codeOf(forged), 'bad_block_signature')
  assert.equal(codeOf({ shell: { ...header.shell, fitness: [Uint8Array.of(2)] }, protocolData: header.protocolData }), 'bad_fitness')
  // The protocol level is the shell's to check (test/protocol/activation.test.ts); the signature covers it.
  assert.equal(codeOf({ shell: { ...header.shell, proto: 2 }, protocolData: header.protocolData }), 'bad_block_signature')
  assert.equal(codeOf({ shell: header.shell, protocolData: header.protocolData.subarray(1) }), 'malformed_protocol_data')
  await assert.rejects(p.makeBlock({ predecessor: genesisHeader, predecessorHash: blockHash(genesisHeader), timestamp: 1n, candidates: [], state: genesisState(p), bakerKey: intruder.secretKey }), RangeError)
})

test('applyBlock refuses overspends, used counters, bad signatures, wrong passes and a wrong context', async () => {
  const setup = demoSetup({ name: 'demo-apply', accounts: 4, validationPasses: 2 })
  const b = new DemoChainBuilder(setup)
  const state = new Map<string, Uint8Array>(setup.protocol.genesis().writes.map(w => [w.key, w.value as Uint8Array]))
  const reader: StateReader = { get: k => Promise.resolve(state.get(k)) }
  const pred = b.head
  const good = await b.bake(b.transfers([{ from: 0, to: 1, amount: 10n }]))
  const apply = async (operations: Operation[][], header = good.header) =>
    await setup.protocol.applyBlock({ header, operations, predecessor: pred.header, state: reader })
  const applied = await apply(good.operations)
  assert.ok(applied.writes.length >= 2)
  const op = good.operations.flat()[0]
  const pass = good.operations.findIndex(ops => ops.length > 0)
  const swapped = good.operations.map((_, i) => i === pass ? [] : [op])
  await assert.rejects(apply(swapped), (e: InvalidBlockError) => e.code === 'invalid_operation' && e.operation?.error.code === 'wrong_validation_pass')
  const forged: Operation = { branch: op.branch, data: Uint8Array.from(op.data) }
  forged.data[100] ^= 0xff
  await assert.rejects(apply(good.operations.map(ops => ops.length > 0 ? [forged] : [])), (e: InvalidBlockError) => e.operation?.error.code === 'bad_signature')
  await assert.rejects(apply(good.operations.map(ops => ops.length > 0 ? [op, op] : [])), (e: InvalidBlockError) => e.operation?.error.code === 'counter_in_the_past' && e.operation.index === 1)
  const rich = b.fork('x').transfers([{ from: 2, to: 1, amount: 2_000_000_000_000n }])
  await assert.rejects(apply([rich[0].data[1] % 2 === 0 ? rich : [], rich[0].data[1] % 2 === 1 ? rich : []]), (e: InvalidBlockError) => e.operation?.error.code === 'balance_too_low')
  // Operations valid but the header's context names another state.
  const otherContext = { shell: { ...good.header.shell, context: new Uint8Array(32) }, protocolData: good.header.protocolData }
  await assert.rejects(apply(good.operations, otherContext), (e: InvalidBlockError) => e.code === 'bad_context')
})

test('the protocol hash changes with the configuration', () => {
  const a = createDemoProtocol({ bakerPublicKey: baker.publicKey, bootstrapAccounts: [], verifyWorkers: 0 })
  const b = createDemoProtocol({ bakerPublicKey: baker.publicKey, bootstrapAccounts: [], validationPasses: 2, verifyWorkers: 0 })
  const c = createDemoProtocol({ bakerPublicKey: alice.publicKey, bootstrapAccounts: [], verifyWorkers: 0 })
  assert.match(a.hash, /^P[1-9A-HJ-NP-Za-km-z]{50}$/)
  assert.notEqual(a.hash, b.hash)
  assert.notEqual(a.hash, c.hash)
  assert.equal(a.hash, createDemoProtocol({ bakerPublicKey: baker.publicKey, bootstrapAccounts: [], verifyWorkers: 0 }).hash)
  assert.throws(() => createDemoProtocol({ bakerPublicKey: baker.publicKey, bootstrapAccounts: [], validationPasses: 9 }), RangeError)
  assert.throws(() => createDemoProtocol({ bakerPublicKey: baker.publicKey, bootstrapAccounts: [{ publicKeyHash: alice.publicKeyHash, balance: 1n << 62n }, { publicKeyHash: bob.publicKeyHash, balance: 1n << 62n }] }), RangeError)
})

test('describeOperation gives RPC JSON with b58 keys; malformed data is described, not thrown', () => {
  const p = protocol()
  const d = p.describeOperation(transfer(7n, 1n, 1n))
  assert.equal(d.kind, 'transfer')
  assert.equal(d.amount, '7')
  assert.match(String(d.source), /^tz1/)
  assert.match(String(d.public_key), /^edpk/)
  assert.match(String(d.signature), /^edsig/)
  assert.equal(p.describeOperation({ branch, data: Uint8Array.of(1, 2) }).kind, 'malformed')
  assert.equal(b58Encode('blockHash', branch).length, 51)
})
