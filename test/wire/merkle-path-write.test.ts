import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EncodeError, encode } from '../../src/encoding/index.ts'
import { blake2b256 } from '../../src/crypto/index.ts'
import { merklePath, merklePathBytes, operationsHashPathCodec, writeOperationsHashPath, type MerklePath } from '../../src/wire/merkle.ts'
import { bytes } from '../encoding/arbitraries.ts'

/** The path written in place, with a byte of something else on either side. */
function written (path: MerklePath): Uint8Array {
  const out = new Uint8Array(merklePathBytes(path) + 2).fill(0xaa)
  const end = writeOperationsHashPath(out, 1, path)
  assert.equal(end, out.length - 1)
  assert.equal(out[0], 0xaa)
  assert.equal(out[out.length - 1], 0xaa)
  return out.subarray(1, end)
}

describe('writeOperationsHashPath', () => {
  it('writes what the codec encodes, for every pass of lists of 1 to 8 passes (depth 3, the bound)', () => {
    for (let n = 1; n <= 8; n++) {
      const hashes = Array.from({ length: n }, (_, i) => blake2b256(new Uint8Array([i])))
      for (let pass = 0; pass < n; pass++) {
        const path = merklePath(hashes, pass)
        assert.deepEqual(written(path), encode(operationsHashPathCodec, path), `pass ${pass} of ${n}`)
      }
    }
  })

  it('writes what the codec encodes for any path within the bound, and refuses what it refuses', () => {
    const step = fc.record({ side: fc.constantFrom('Left' as const, 'Right' as const), sibling: bytes(32) })
    fc.assert(fc.property(fc.array(step, { maxLength: 3 }), path => {
      assert.deepEqual(written(path), encode(operationsHashPathCodec, path))
    }), { numRuns: 300 })
    const deep: MerklePath = Array.from({ length: 4 }, () => ({ side: 'Left', sibling: new Uint8Array(32) }))
    assert.throws(() => encode(operationsHashPathCodec, deep), EncodeError)
    assert.throws(() => writeOperationsHashPath(new Uint8Array(200), 0, deep), EncodeError)
    assert.throws(() => writeOperationsHashPath(new Uint8Array(200), 0, [{ side: 'Right', sibling: new Uint8Array(31) }]), EncodeError)
  })
})
