/**
 * The short version of `npm run fuzz` for the Octez wire's stream decoders: random bytes and mutated
 * real streams through the chunk reader and the envelope framing; only their typed errors may come out.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { applyMutation, exercise, fuzzTargets, INFLATED_LENGTHS, mutationArbitrary } from '../encoding/fuzz-support.ts'
import { decodeChunkStream, decodeEnvelopeStream, octezWireFuzzTargets } from './fuzz-targets.ts'

const RUNS = Number(process.env.TZP2P_PROPERTY_RUNS ?? 150)
const p2pCorpus = fuzzTargets(10).find(t => t.name === 'p2p_message')!.corpus
const targets = octezWireFuzzTargets(p2pCorpus)

test('the corpus decodes: real sealed streams and envelope streams round-trip', () => {
  for (const t of targets) {
    for (const input of t.corpus) assert.equal(exercise(t, input), 'decoded', `${t.name} corpus entry`)
  }
  assert.ok(decodeChunkStream(targets[0].corpus[0]).length === 3)
  assert.ok(decodeEnvelopeStream(targets[1].corpus[0]).length === 3)
})

test('random bytes: the chunk reader and the framing decode or fail with their typed errors only', () => {
  for (const t of targets) {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), bytes => { exercise(t, bytes) }), { numRuns: RUNS * 4 })
  }
})

test('mutated real streams: only typed errors, and every success re-encodes to the same values', () => {
  for (const t of targets) {
    fc.assert(fc.property(fc.nat(), fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }), (i, mutations) => {
      let input = t.corpus[i % t.corpus.length]
      for (const m of mutations) input = applyMutation(input, m, t.corpus)
      exercise(t, input)
    }), { numRuns: RUNS * 4 })
  }
})

test('inflated lengths at every offset are refused without allocating them', () => {
  const before = process.memoryUsage().arrayBuffers
  let worst = 0
  let refused = 0
  for (const t of targets) {
    for (const input of t.corpus.slice(0, 6)) {
      for (let at = 0; at + 4 <= Math.min(input.length, 400); at++) {
        for (const value of INFLATED_LENGTHS) {
          if (exercise(t, applyMutation(input, { kind: 'inflate', at, value }, t.corpus)) === 'DecodeError') refused++
          worst = Math.max(worst, process.memoryUsage().arrayBuffers - before)
        }
      }
    }
  }
  assert.ok(refused > 1000, `${refused} refusals`)
  assert.ok(worst < 16 * 1024 * 1024, `array buffers grew by ${worst} bytes`)
})
