import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blake2b256 } from '../../../src/crypto/index.ts'
import { toHex } from '../../../src/encoding/index.ts'
import { ed25519FromName } from '../../../src/protocol/demo/keys.ts'
import { newContext, signedBy } from '../../../src/protocol/demo-v3/context.ts'
import { resolveParameters } from '../../../src/protocol/demo-v3/parameters.ts'
import { endorsementSlots } from '../../../src/protocol/demo-v3/rights.ts'
import { signOperation } from '../../../src/protocol/demo-v3/sign.ts'
import type { CycleData } from '../../../src/protocol/demo-v3/store.ts'

/**
 * The two verdicts demo v3 remembers between the mempool and block application: a signature that
 * verified (reused only under the very key and watermark it verified under) and a level's slot
 * draw (reused only for the same seed, stake snapshot, level and slot count).
 */

const params = resolveParameters({})
const alice = ed25519FromName('verdict-caches/alice')
const bob = ed25519FromName('verdict-caches/bob')
const branch = new Uint8Array(32).fill(7)
const ctx = (): ReturnType<typeof newContext> => newContext({ params, authorityKey: alice.publicKey, authority: alice.publicKeyHash }, { level: 2 })

test('a verified signature is reused for the same operation and key only', () => {
  const op = { branch, data: signOperation(branch, { kind: 'endorsement', level: 1, slot: 0 }, alice.secretKey) }
  assert.equal(signedBy(ctx(), op, true, alice.publicKey), true)
  assert.equal(signedBy(ctx(), op, true, alice.publicKey), true, 'again, from another context (a block after the mempool)')
  // The remembered verdict does not make the operation pass as another key's, or under another watermark.
  assert.equal(signedBy(ctx(), op, true, bob.publicKey), false)
  assert.equal(signedBy(ctx(), op, false, alice.publicKey), false)
  assert.equal(signedBy(ctx(), op, true, alice.publicKey), true)
  // Same bytes with a broken signature, as another object: checked on its own, refused.
  const forged = { branch, data: Uint8Array.from(op.data) }
  forged.data[forged.data.length - 1] ^= 1
  assert.equal(signedBy(ctx(), forged, true, alice.publicKey), false)
  assert.equal(signedBy(ctx(), forged, true, alice.publicKey), false)
})

test('a slot draw is reused only for the same cycle data, level and slot count', () => {
  const cycle = (seed: number, stakes: bigint[]): CycleData => ({
    seed: new Uint8Array(32).fill(seed),
    stakes: stakes.map((stake, i) => ({ delegate: new Uint8Array(20).fill(i + 1), stake }))
  })
  const hexes = (slots: Uint8Array[]): string[] => slots.map(toHex)
  const base = cycle(1, [1n, 1n, 1n])
  const first = endorsementSlots(base, 10, 64)
  assert.equal(first.length, 64)
  assert.deepEqual(hexes(endorsementSlots(cycle(1, [1n, 1n, 1n]), 10, 64)), hexes(first), 'equal data, equal draw')
  // Callers own the list they get.
  first.reverse()
  assert.notDeepEqual(hexes(endorsementSlots(base, 10, 64)), hexes(first))
  first.reverse()
  // Each input changes the draw: seed, stakes, level.
  const differs = (slots: Uint8Array[]): boolean => hexes(slots).join() !== hexes(first).join()
  assert.ok(differs(endorsementSlots(cycle(2, [1n, 1n, 1n]), 10, 64)), 'another seed')
  assert.ok(differs(endorsementSlots(cycle(1, [1n, 1n, 1_000_000n]), 10, 64)), 'another stake snapshot')
  assert.ok(differs(endorsementSlots(base, 11, 64)), 'another level')
  assert.deepEqual(hexes(endorsementSlots(base, 10, 32)), hexes(first).slice(0, 32), 'fewer slots: the same draws, fewer of them')
  // Each slot is the spec's draw: BLAKE2b-256(seed ‖ 'e' ‖ level ‖ slot), first 8 bytes mod the total stake.
  const int32 = (v: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v); return b }
  first.forEach((delegate, slot) => {
    const h = blake2b256([base.seed, Uint8Array.of(0x65), int32(10), int32(slot)])
    const r = Number(new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0) % 3n)
    assert.equal(toHex(delegate), toHex(base.stakes[r].delegate), `slot ${slot}`)
  })
  // Stake weighs: the delegate holding almost all stake holds almost every slot.
  const heavy = endorsementSlots(cycle(1, [1n, 1n, 1_000_000n]), 10, 64)
  assert.ok(heavy.filter(d => d[0] === 3).length > 60)
})
