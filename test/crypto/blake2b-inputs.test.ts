import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import sodium from 'sodium-native'
import { blake2b } from '../../src/crypto/blake2b.ts'

/** libsodium's digest of `data`, hashed from a Buffer of its own. */
function reference (data: Uint8Array, size: number): Uint8Array {
  const out = Buffer.alloc(size)
  sodium.crypto_generichash(out, Buffer.from(data))
  return new Uint8Array(out)
}

describe('blake2b inputs', () => {
  it('gives the same digest for one input, or any split of it, on either side of the copied size', () => {
    for (const length of [0, 1, 32, 64, 65, 193, 4095, 4096, 4097, 10_000]) {
      const data = new Uint8Array(randomBytes(length))
      for (const size of [16, 20, 32, 64]) {
        const want = reference(data, size)
        assert.deepEqual(blake2b(data, size), want, `${length} bytes, digest ${size}`)
        const cuts = [0, Math.floor(length / 3), Math.floor(length / 2), length]
        const parts = cuts.slice(1).map((end, i) => data.subarray(cuts[i], end))
        assert.deepEqual(blake2b(parts, size), want, `${length} bytes in ${parts.length} parts, digest ${size}`)
      }
    }
  })

  it('matches an independent BLAKE2b-512 and returns digests that share nothing', () => {
    const data = new Uint8Array(randomBytes(100))
    const first = blake2b(data, 64)
    assert.deepEqual(Buffer.from(first), createHash('blake2b512').update(data).digest())
    const second = blake2b(new Uint8Array(32), 64)
    // Each digest is an array of its own: a later hash leaves an earlier one as it was.
    assert.deepEqual(Buffer.from(first), createHash('blake2b512').update(data).digest())
    assert.notEqual(first.buffer, second.buffer)
    assert.equal(first.byteLength, 64)
    assert.equal(first.byteOffset, 0)
  })
})
