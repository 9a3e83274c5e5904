import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blake2b256 } from '../../../src/crypto/index.ts'
import { DecodeError, EncodeError, decodeExact, encode, toHex } from '../../../src/encoding/index.ts'
import { ed25519FromName } from '../../../src/protocol/demo/keys.ts'
import { decodeBlockData, decodeV3Fitness, encodeBlockData, v3Fitness } from '../../../src/protocol/demo-v3/block-data.ts'
import {
  decodeOperationData, encodeContents, encodeOperationData, passOf, TAG, type Contents
} from '../../../src/protocol/demo-v3/encoding.ts'
import { blockDataCodec, blockDataJson, operationDataCodec, operationDataJson } from '../../../src/protocol/demo-v3/json.ts'
import { checkOperationSignature, inlineEndorsement, signOperation } from '../../../src/protocol/demo-v3/sign.ts'
import { compareFitness } from '../../../src/wire/fitness.ts'
import type { BlockHeader } from '../../../src/wire/block-header.ts'

const alice = ed25519FromName('v3-encoding/alice')
const bob = ed25519FromName('v3-encoding/bob')
const branch = blake2b256(new TextEncoder().encode('branch'))
const other = blake2b256(new TextEncoder().encode('other branch'))
const manager = { source: alice.publicKeyHash, fee: 10n, counter: 1n, gasLimit: 1040n, storageLimit: 0n }
const header: BlockHeader = {
  shell: {
    level: 7, proto: 1, predecessor: branch, timestamp: 1_700_000_000n, validationPass: 4,
    operationsHash: new Uint8Array(32), fitness: v3Fitness(7, 3), context: new Uint8Array(32)
  },
  protocolData: encodeBlockData({ priority: 1, powNonce: new Uint8Array(8), signature: new Uint8Array(64).fill(7) })
}

/** One contents of every kind. */
const samples: Contents[] = [
  { kind: 'endorsement', level: 41, slot: 3 },
  { kind: 'seed_nonce_revelation', level: 8, nonce: new Uint8Array(32).fill(9) },
  { kind: 'double_endorsement_evidence', op1: inlineEndorsement(branch, 5, 2, alice.secretKey), op2: inlineEndorsement(other, 5, 2, alice.secretKey) },
  { kind: 'double_baking_evidence', bh1: header, bh2: { ...header, shell: { ...header.shell, timestamp: 1_700_000_001n } } },
  { kind: 'activate_account', pkh: bob.publicKeyHash, secret: new Uint8Array(20).fill(4) },
  { kind: 'reveal', ...manager, publicKey: alice.publicKey },
  { kind: 'transaction', ...manager, amount: 5n, destination: { kind: 'implicit', pkh: bob.publicKeyHash } },
  { kind: 'transaction', ...manager, amount: 5n, destination: { kind: 'originated', hash: new Uint8Array(20).fill(1) } },
  { kind: 'origination', ...manager, balance: 100n, delegate: bob.publicKeyHash },
  { kind: 'origination', ...manager, balance: 0n },
  { kind: 'delegation', ...manager, delegate: alice.publicKeyHash },
  { kind: 'delegation', ...manager }
]

function dataOf (c: Contents): Uint8Array {
  return c.kind === 'endorsement' || 'source' in c ? signOperation(branch, c, alice.secretKey) : encodeOperationData({ contents: c })
}

test('every kind round-trips through binary and JSON, with its Tezos tag and validation pass', () => {
  const expectedPass: Record<string, number> = {
    endorsement: 0, seed_nonce_revelation: 2, double_endorsement_evidence: 2, double_baking_evidence: 2, activate_account: 2,
    reveal: 3, transaction: 3, origination: 3, delegation: 3
  }
  const tags: Record<string, number> = {
    endorsement: TAG.endorsement, seed_nonce_revelation: 1, double_endorsement_evidence: 2, double_baking_evidence: 3, activate_account: 4,
    reveal: 107, transaction: 108, origination: 109, delegation: 110
  }
  for (const c of samples) {
    const data = dataOf(c)
    assert.equal(data[0], tags[c.kind], c.kind)
    const back = decodeOperationData(data)
    assert.deepEqual(back.contents, c, c.kind)
    assert.equal(passOf(back.contents), expectedPass[c.kind])
    assert.equal(toHex(encodeOperationData(back)), toHex(data), c.kind)
    const json = operationDataJson.toJson(back)
    const fromJson = operationDataJson.fromJson(JSON.parse(JSON.stringify(json)))
    assert.equal(toHex(encode(operationDataCodec, fromJson)), toHex(data), `${c.kind} through JSON`)
    assert.deepEqual(decodeExact(operationDataCodec, data).contents, c)
  }
})

test('byte layouts follow the Emmy* encodings: an endorsement, a transaction', () => {
  // endorsement: tag 0 ‖ level int32 ‖ slot uint16
  assert.equal(toHex(encodeContents({ kind: 'endorsement', level: 0x01020304, slot: 0x0506 })), '00010203040506')
  // transaction: tag 108 ‖ source (0x00 ‖ pkh) ‖ fee ‖ counter ‖ gas ‖ storage (int64 each) ‖ amount ‖ destination (0x00 0x00 ‖ pkh) ‖ no parameters
  const t = encodeContents({ kind: 'transaction', ...manager, amount: 5n, destination: { kind: 'implicit', pkh: bob.publicKeyHash } })
  assert.equal(t.length, 1 + 21 + 32 + 8 + 22 + 1)
  assert.equal(t[0], 108)
  assert.equal(toHex(t.subarray(1, 22)), `00${toHex(alice.publicKeyHash)}`)
  assert.equal(toHex(t.subarray(62, 84)), `0000${toHex(bob.publicKeyHash)}`)
  assert.equal(t[84], 0)
})

test('garbage is refused with a DecodeError naming the field', () => {
  const transfer = signOperation(branch, { kind: 'transaction', ...manager, amount: 5n, destination: { kind: 'implicit', pkh: bob.publicKeyHash } }, alice.secretKey)
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /tag/],
    [Uint8Array.of(5), /unknown operation tag 5/],
    [Uint8Array.of(0, 0, 0, 0, 1), /endorsement\.slot/],
    [transfer.subarray(0, transfer.length - 1), /64-byte signature/],
    [Uint8Array.from([...transfer, 0]), /64-byte signature/],
    [Uint8Array.from([...encodeOperationData({ contents: samples[4] }), 1]), /trailing/],
    [(() => { const b = Uint8Array.from(transfer); b[1] = 1; return b })(), /only Ed25519/],
    [(() => { const b = Uint8Array.from(transfer); b[84] = 0xff; return b })(), /no contract code/],
    [(() => { const b = Uint8Array.from(transfer); b[62] = 2; return b })(), /contract tag 2/]
  ]
  for (const [bytes, message] of cases) {
    assert.throws(() => decodeOperationData(bytes), (e: unknown) => e instanceof DecodeError && message.test(e.message), toHex(bytes).slice(0, 40))
  }
  assert.throws(() => encodeOperationData({ contents: samples[0] }), EncodeError)
  assert.throws(() => encodeOperationData({ contents: samples[1], signature: new Uint8Array(64) }), EncodeError)
  assert.throws(() => operationDataJson.fromJson({ contents: { kind: 'ballot' } }), /unknown demo v3 operation kind/)
})

test('signatures: watermark 0x02 for endorsements, 0x03 for the rest; a signature never passes under another kind or branch', () => {
  const e = signOperation(branch, { kind: 'endorsement', level: 4, slot: 0 }, alice.secretKey)
  assert.equal(checkOperationSignature(branch, e, true, alice.publicKey), true)
  assert.equal(checkOperationSignature(branch, e, false, alice.publicKey), false)
  assert.equal(checkOperationSignature(other, e, true, alice.publicKey), false)
  assert.equal(checkOperationSignature(branch, e, true, bob.publicKey), false)
})

test('block protocol data round-trips and refuses garbage; fitness orders level first, then endorsements', () => {
  const d = { priority: 2, powNonce: new Uint8Array(8).fill(1), seedNonceHash: new Uint8Array(32).fill(2), nextProtocol: new Uint8Array(32).fill(3), signature: new Uint8Array(64).fill(4) }
  const bytes = encodeBlockData(d)
  assert.deepEqual(decodeBlockData(bytes), d)
  assert.equal(bytes.length, 2 + 8 + 33 + 33 + 64)
  assert.deepEqual(blockDataJson.fromJson(JSON.parse(JSON.stringify(blockDataJson.toJson(d)))), d)
  assert.deepEqual(decodeExact(blockDataCodec, bytes), d)
  assert.throws(() => decodeBlockData(bytes.subarray(1)), DecodeError)
  const badOption = Uint8Array.from(bytes)
  badOption[10] = 7
  assert.throws(() => decodeBlockData(badOption), /invalid option tag/)

  assert.equal(compareFitness(v3Fitness(10, 5), v3Fitness(10, 4)), 1)
  assert.equal(compareFitness(v3Fitness(11, 0), v3Fitness(10, 32)), 1)
  assert.equal(compareFitness(v3Fitness(10, 300), v3Fitness(10, 256)), 1)
  // A v1/v2 fitness (one element) is below any v3 fitness: the first v3 block beats its predecessor.
  assert.equal(compareFitness(v3Fitness(5, 0), [new Uint8Array(8).fill(0xff)]), 1)
  assert.deepEqual(decodeV3Fitness(v3Fitness(12, 7)), { level: 12, endorsingPower: 7 })
  assert.throws(() => decodeV3Fitness([new Uint8Array(8)]), DecodeError)
})
