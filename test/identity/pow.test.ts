import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  checkProofOfWork, expectedPowAttempts, leBytesToBigInt, makePowTarget, powDifficultyFloor, powDifficultyOf, powHash,
  InvalidDifficultyError
} from '../../src/identity/index.ts'
import { PowScanner } from '../../src/identity/pow-scanner.ts'
import { incrementNonce } from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

test('make_pow_target vectors, fractional 26.5 included', () => {
  for (const v of vectors.pow_targets) {
    assert.equal(makePowTarget(v.difficulty).toString(16).padStart(64, '0'), v.target_hex, `difficulty ${v.difficulty}`)
  }
  assert.equal(makePowTarget(256), 0n)
  assert.throws(() => makePowTarget(-1), InvalidDifficultyError)
  assert.throws(() => makePowTarget(256.5), InvalidDifficultyError)
  assert.throws(() => makePowTarget(Number.NaN), InvalidDifficultyError)
})

test('pow_checks and pow_le_integers vectors', () => {
  for (const v of vectors.pow_checks) {
    const pk = fromHex(v.public_key)
    const stamp = fromHex(v.proof_of_work_stamp)
    assert.equal(toHex(powHash(pk, stamp)), v.pow_hash)
    assert.equal(checkProofOfWork(pk, stamp, makePowTarget(v.difficulty)), v.accepted)
    assert.equal(powDifficultyOf(pk, stamp), v.max_difficulty)
    assert.ok(powDifficultyFloor(pk, stamp) <= v.max_difficulty)
    assert.equal(checkProofOfWork(pk, stamp, makePowTarget(27)), false)
  }
  for (const v of vectors.pow_le_integers) {
    assert.equal(leBytesToBigInt(fromHex(v.hex)).toString(), v.little_endian_integer)
  }
})

test('expected attempts are 2^256 / (target + 1)', () => {
  for (const d of [0, 1, 8, 26, 40]) assert.ok(Math.abs(expectedPowAttempts(makePowTarget(d)) / 2 ** d - 1) < 1e-9)
  assert.ok(expectedPowAttempts(makePowTarget(26.5)) > 2 ** 26 && expectedPowAttempts(makePowTarget(26.5)) < 2 ** 27)
})

test('the scanner stops at the first passing stamp in Nonce.increment order', () => {
  const v = vectors.identities[0]
  const pk = fromHex(v.public_key)
  const start = fromHex('00112233445566778899aabbccddeeff00112233445566fd') // carries within a few steps
  const target = makePowTarget(8)
  const scanner = new PowScanner(pk, start, target)
  let tried = 0
  while (!scanner.found) tried += scanner.scan(7)
  // Walk the same stamps independently with the reference increment and the reference check.
  let stamp = start
  let expectedTried = 1
  while (!checkProofOfWork(pk, stamp, target)) { stamp = incrementNonce(stamp); expectedTried++ }
  assert.equal(toHex(scanner.stamp), toHex(stamp))
  assert.equal(tried, expectedTried)
  assert.equal(scanner.scan(10), 0, 'a finished scanner does no more work')
})

test('the scanner increments with carry across bytes and finds the known vector stamp', () => {
  const pk = fromHex(vectors.identities[0].public_key)
  const never = new PowScanner(pk, fromHex('0000000000000000000000000000000000000000ffffffff'.slice(0, 48)), 0n)
  assert.equal(never.scan(3), 3)
  assert.equal(never.found, false)
  let expected = fromHex('0000000000000000000000000000000000000000ffffffff'.slice(0, 48))
  for (let i = 0; i < 3; i++) expected = incrementNonce(expected)
  assert.equal(toHex(never.stamp), toHex(expected))

  const wrap = new PowScanner(pk, fromHex('ff'.repeat(24)), 0n)
  wrap.scan(1)
  assert.equal(toHex(wrap.stamp), '00'.repeat(24))

  // Starting just before a known passing stamp, the scanner lands on it at difficulty 26.
  for (const v of vectors.identities) {
    const passing = fromHex(v.proof_of_work_stamp)
    let before = passing
    // step back 5 (big-endian decrement) unless that would cross a byte boundary, then just start on it
    if (passing[23] >= 5) { before = passing.slice(); before[23] -= 5 }
    const scanner = new PowScanner(fromHex(v.public_key), before, makePowTarget(26))
    scanner.scan(6)
    assert.equal(scanner.found, true)
    assert.equal(toHex(scanner.stamp), v.proof_of_work_stamp)
  }
  assert.throws(() => new PowScanner(pk, new Uint8Array(23), 0n), RangeError)
  assert.throws(() => new PowScanner(pk, new Uint8Array(24), 1n << 256n), RangeError)
})
