import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DecodeError, EncodeError, decodeExact, encode } from '../../src/encoding/index.ts'
import { WIRE_ENCODINGS, WireJsonError, decodeConnectionFrame, encodeConnectionFrame, p2pMessageBodyLength } from '../../src/wire/index.ts'
import { ARBITRARIES, connectionMessage } from './arbitraries.ts'
import { INFLATED_LENGTHS, applyMutation, exercise, fuzzTargets, mutationArbitrary } from './fuzz-support.ts'

const RUNS = Number(process.env.TZP2P_PROPERTY_RUNS ?? 150)
const targets = fuzzTargets(20)

test('every named encoding: decode ∘ encode = id, encoding is canonical, JSON round-trips', () => {
  for (const e of WIRE_ENCODINGS) {
    const arb = ARBITRARIES[e.name]
    assert.ok(arb !== undefined, `no arbitrary for ${e.name}`)
    fc.assert(fc.property(arb, value => {
      const bytes = encode(e.codec, value)
      const back: unknown = decodeExact(e.codec, bytes)
      assert.deepEqual(back, value)
      assert.deepEqual(encode(e.codec, back), bytes)
      const json: unknown = JSON.parse(JSON.stringify(e.json.toJson(value)))
      assert.deepEqual(e.json.fromJson(json), value)
    }), { numRuns: RUNS, seed: 7 })
  }
})

test('connection frames: encodeConnectionFrame / decodeConnectionFrame are inverse', () => {
  fc.assert(fc.property(connectionMessage, m => {
    const frame = encodeConnectionFrame(m)
    assert.equal((frame[0] << 8) | frame[1], frame.length - 2)
    assert.deepEqual(decodeConnectionFrame(frame), m)
  }), { numRuns: RUNS })
})

test('random bytes: every decoder either decodes (and re-encodes consistently) or throws DecodeError', () => {
  for (const t of targets) {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => { exercise(t, bytes) }), { numRuns: RUNS })
  }
})

test('mutated real and generated encodings: only DecodeError, never anything else', () => {
  for (const t of targets) {
    if (t.corpus.length === 0) continue
    fc.assert(fc.property(fc.nat(), fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }), (i, mutations) => {
      let input = t.corpus[i % t.corpus.length]
      for (const m of mutations) input = applyMutation(input, m, t.corpus)
      exercise(t, input)
    }), { numRuns: RUNS * 2 })
  }
})

test('oversized length prefixes at every offset of every corpus entry are refused without allocating', () => {
  let refused = 0
  const before = process.memoryUsage().arrayBuffers
  let worst = 0
  for (const t of targets) {
    for (const input of t.corpus.slice(0, 12)) {
      for (let at = 0; at + 4 <= input.length; at++) {
        for (const value of INFLATED_LENGTHS) {
          const outcome = exercise(t, applyMutation(input, { kind: 'inflate', at, value }, t.corpus))
          if (outcome === 'DecodeError') refused++
          worst = Math.max(worst, process.memoryUsage().arrayBuffers - before)
        }
      }
    }
  }
  assert.ok(refused > 10_000, `${refused} refusals`)
  // A decoder that trusted one of those lengths would have allocated ≥ 16 MiB at least once.
  assert.ok(worst < 16 * 1024 * 1024, `array buffers grew by ${worst} bytes`)
})

test('the envelope length reader refuses lengths over 100 MiB before any body is read', () => {
  fc.assert(fc.property(fc.integer({ min: 100 * 1024 * 1024 - 3, max: 0x3fffffff }), n => {
    const prefix = new Uint8Array(4); new DataView(prefix.buffer).setUint32(0, n)
    assert.throws(() => p2pMessageBodyLength(prefix), DecodeError)
  }))
})

test('JSON input: mutated JSON of generated values fails only with WireJsonError or EncodeError', () => {
  const leaf = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant({}), fc.constant([]))
  for (const e of WIRE_ENCODINGS) {
    fc.assert(fc.property(ARBITRARIES[e.name], fc.nat(), leaf, fc.boolean(), (value, pick, replacement, remove) => {
      const json: unknown = JSON.parse(JSON.stringify(e.json.toJson(value)))
      mutateJson(json, pick, replacement, remove)
      try {
        encode(e.codec, e.json.fromJson(json))
      } catch (err) {
        if (!(err instanceof WireJsonError || err instanceof EncodeError)) throw err
      }
    }), { numRuns: RUNS })
  }
})

/** Replaces (or removes) the pick-th node of a JSON tree, in depth-first order. */
function mutateJson (root: unknown, pick: number, replacement: unknown, remove: boolean): void {
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = []
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((c, i) => { slots.push([node, i]); walk(c) })
    else if (typeof node === 'object' && node !== null) for (const [k, c] of Object.entries(node)) { slots.push([node as Record<string, unknown>, k]); walk(c) }
  }
  walk(root)
  if (slots.length === 0) return
  const [parent, key] = slots[pick % slots.length]
  if (remove && !Array.isArray(parent)) delete parent[key as string]
  else (parent as Record<string | number, unknown>)[key] = replacement
}
