import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { DecodeError, bytesEqual, decodeExact, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import { blake2b256, b58Decode } from '../../src/crypto/index.ts'
import { blockHash, blockHeaderCodec, type BlockHeader } from '../../src/wire/block-header.ts'
import {
  LocatorStepGenerator, blockLocatorCodec, computeLocator, locatorToSteps, LOCATOR_DEFAULT_SIZE, type LocatorSeed
} from '../../src/wire/locator.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

const v = vectors.locator_steps

test('seeded steps: initial seed SHA-256(sender ‖ receiver ‖ head) and the first 30 steps', () => {
  const seed = { senderId: fromHex(v.sender_id_hex), receiverId: fromHex(v.receiver_id_hex) }
  const gen = new LocatorStepGenerator(seed, b58Decode('blockHash', v.head_block_hash))
  assert.equal(toHex(gen.currentSeed), v.initial_seed)
  const steps = Array.from({ length: v.steps.length }, () => gen.next())
  assert.deepEqual(steps, v.steps)
})

/** Independent model of the draw: BigInt arithmetic, truncated remainder, 32-bit wrap. */
function modelSteps (seed: LocatorSeed, head: Uint8Array, n: number): number[] {
  let s = createHash('sha256').update(seed.senderId).update(seed.receiverId).update(head).digest()
  let step = 1n; let counter = 9; const out: number[] = []
  const wrap = (x: bigint): bigint => BigInt.asIntN(32, x)
  for (let i = 0; i < n; i++) {
    let gap = 0n
    if (step > 1n) {
      const drawn = BigInt(s.readInt32BE(0))
      const m = step / 2n + 1n // BigInt division truncates toward zero, like Int32.div
      gap = drawn % m // BigInt remainder has the dividend's sign, like Int32.rem
      s = createHash('sha256').update(s).digest()
    }
    out.push(Number(wrap(step - gap)))
    if (counter === 0) { step = wrap(step * 2n); counter = 9 } else counter--
  }
  return out
}

test('seeded steps: ranges per round, signed gaps and Int32 wrap-around match an independent model', () => {
  for (let k = 0; k < 5; k++) {
    const seed = { senderId: blake2b256(new Uint8Array([k])).subarray(0, 16), receiverId: new Uint8Array(16).fill(k) }
    const head = blake2b256(new Uint8Array([k, k]))
    const gen = new LocatorStepGenerator(seed, head)
    const got = Array.from({ length: 340 }, () => gen.next())
    assert.deepEqual(got, modelSteps(seed, head, 340))
    for (let round = 0; round < 31; round++) {
      const base = 2 ** round
      for (const s of got.slice(round * 10, round * 10 + 10)) {
        assert.ok(s >= base - Math.floor(base / 2) && s <= base + Math.floor(base / 2), `round ${round}: ${s}`)
      }
    }
    // Round 31 doubles 2^30 into Int32 overflow: OCaml yields -2^31 and then 0.
    assert.deepEqual(got.slice(310, 320), Array(10).fill(-(2 ** 31)))
    assert.deepEqual(got.slice(320, 330), Array(10).fill(0))
  }
})

function header (level: number, predecessor: Uint8Array): BlockHeader {
  return {
    shell: {
      level, proto: 1, predecessor, timestamp: BigInt(1_600_000_000 + level), validationPass: 0,
      operationsHash: blake2b256(new Uint8Array(0)), fitness: [new Uint8Array([level & 0xff])], context: new Uint8Array(32)
    },
    protocolData: new Uint8Array([1, 2, 3])
  }
}

/** A chain of `length` blocks whose store keeps levels ≥ `caboose`; hashes are real header hashes. */
function chain (length: number, caboose = 0): { hashes: Uint8Array[], headers: BlockHeader[], getAncestor: (h: Uint8Array, d: number) => Uint8Array | undefined } {
  const hashes: Uint8Array[] = []; const headers: BlockHeader[] = []
  let pred: Uint8Array = new Uint8Array(32)
  for (let level = 0; level < length; level++) {
    const h = header(level, pred); headers.push(h); pred = blockHash(h); hashes.push(pred)
  }
  const levelOf = (h: Uint8Array): number => hashes.findIndex(x => bytesEqual(x, h))
  const getAncestor = (h: Uint8Array, d: number): Uint8Array | undefined => {
    const target = levelOf(h) - d
    if (target < caboose) return undefined
    return hashes[target]
  }
  return { hashes, headers, getAncestor }
}

const me = new Uint8Array(16).fill(0xaa)
const peer = new Uint8Array(16).fill(0xbb)

test('computeLocator walks seeded steps down the chain; the receiver replays them as strict steps', async () => {
  const c = chain(2000)
  const head = c.headers[1999]
  const locator = await computeLocator({
    headHash: c.hashes[1999], headHeader: head, seed: { senderId: me, receiverId: peer }, caboose: c.hashes[0], getAncestor: c.getAncestor
  })
  assert.ok(locator.history.length > 20 && locator.history.length < LOCATOR_DEFAULT_SIZE)
  const gen = new LocatorStepGenerator({ senderId: me, receiverId: peer }, c.hashes[1999])
  let level = 1999
  const levels = locator.history.map(h => c.hashes.findIndex(x => bytesEqual(x, h)))
  for (const l of levels.slice(0, -1)) { level -= gen.next(); assert.equal(l, level) }
  assert.equal(levels[levels.length - 1], 0, 'ends with the caboose (genesis here)')
  // Receiver side: the seed is inverted back to the sender's view.
  const steps = locatorToSteps({ senderId: me, receiverId: peer }, locator)
  assert.equal(steps.length, locator.history.length)
  const newestFirst = [...steps].reverse()
  assert.deepEqual(newestFirst[0].block, c.hashes[1999])
  for (const [i, s] of newestFirst.entries()) {
    const from = c.hashes.findIndex(x => bytesEqual(x, s.block))
    const to = c.hashes.findIndex(x => bytesEqual(x, s.predecessor))
    if (s.strictStep) assert.equal(from - to, s.step, `step ${i}`)
    else assert.ok(from - to <= s.step, 'the last step may be shorter')
  }
  assert.deepEqual(steps.map(s => s.strictStep), steps.map((_, i) => i !== 0), 'only the oldest step is non-strict')
  // A different peer gets a differently spaced locator.
  const other = await computeLocator({
    headHash: c.hashes[1999], headHeader: head, seed: { senderId: me, receiverId: me }, caboose: c.hashes[0], getAncestor: c.getAncestor
  })
  assert.notDeepEqual(other.history, locator.history)
  // The locator survives its wire form.
  assert.deepEqual(decodeExact(blockLocatorCodec, encode(blockLocatorCodec, locator)), locator)
})

test('computeLocator: size bound, caboose, and size 0', async () => {
  const c = chain(300, 250)
  const seed = { senderId: me, receiverId: peer }
  const small = await computeLocator({ headHash: c.hashes[299], headHeader: c.headers[299], seed, caboose: c.hashes[250], size: 5, getAncestor: c.getAncestor })
  assert.deepEqual(small.history, c.hashes.slice(294, 299).reverse())
  const all = await computeLocator({ headHash: c.hashes[299], headHeader: c.headers[299], seed, caboose: c.hashes[250], getAncestor: c.getAncestor })
  assert.deepEqual(all.history[all.history.length - 1], c.hashes[250])
  assert.equal(new Set(all.history.map(toHex)).size, all.history.length)
  const none = await computeLocator({ headHash: c.hashes[299], headHeader: c.headers[299], seed, caboose: c.hashes[250], size: 0, getAncestor: c.getAncestor })
  assert.deepEqual(none.history, [])
  // Head on the caboose: nothing below, and the caboose is not repeated.
  const atCaboose = await computeLocator({ headHash: c.hashes[250], headHeader: c.headers[250], seed, caboose: c.hashes[250], getAncestor: c.getAncestor })
  assert.deepEqual(atCaboose.history, [])
  // Async store lookups work the same way.
  const asyncAll = await computeLocator({
    headHash: c.hashes[299], headHeader: c.headers[299], seed, caboose: c.hashes[250], getAncestor: async (h, d) => await Promise.resolve(c.getAncestor(h, d))
  })
  assert.deepEqual(asyncAll, all)
})

test('locatorToSteps with truncation stops at the save point, non-strict', async () => {
  const c = chain(400)
  const seed = { senderId: me, receiverId: peer }
  const locator = await computeLocator({ headHash: c.hashes[399], headHeader: c.headers[399], seed, caboose: c.hashes[0], getAncestor: c.getAncestor })
  const full = locatorToSteps(seed, locator)
  const savePoint = c.hashes[370]
  const cut = locatorToSteps(seed, locator, { limit: 29, savePoint })
  const oldest = cut[0]
  assert.deepEqual(oldest.predecessor, savePoint)
  assert.equal(oldest.strictStep, false)
  const sumBefore = cut.slice(1).reduce((n, s) => n + s.step, 0)
  assert.ok(sumBefore < 29 && sumBefore + oldest.step >= 29)
  assert.deepEqual(cut.slice(1), full.slice(full.length - cut.length + 1))
})

test('block locator wire form: vector, bounds, and errors', () => {
  const branch = vectors.session_carthagenet.chunks.sent[3].plaintext
  const body = fromHex(branch).subarray(4 + 2 + 4)
  const l = decodeExact(blockLocatorCodec, body)
  assert.deepEqual(l.history, [])
  assert.equal(toHex(encode(blockLocatorCodec, l)), toHex(body))
  assert.throws(() => decodeExact(blockLocatorCodec, body.subarray(0, 50)), DecodeError)
  assert.throws(() => decodeExact(blockLocatorCodec, new Uint8Array([...body, 1, 2, 3])), DecodeError) // partial hash
  const h = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[0].hex))
  assert.throws(() => encode(blockLocatorCodec, { headHeader: h, history: Array(1001).fill(new Uint8Array(32)) }), Error)
})
