import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { fromHex, toHex } from '../../src/encoding/index.ts'

describe('toHex', () => {
  it('writes any length, whole arrays and views, on either side of the copied size', () => {
    const backing = new Uint8Array(randomBytes(400))
    for (const length of [0, 1, 16, 32, 64, 65, 127, 128, 129, 300]) {
      const whole = new Uint8Array(backing.subarray(0, length))
      const view = backing.subarray(7, 7 + length)
      assert.equal(toHex(whole), Buffer.from(whole).toString('hex'), `${length} bytes`)
      assert.equal(toHex(view), Buffer.from(view).toString('hex'), `a view of ${length} bytes`)
      assert.deepEqual(fromHex(toHex(view)), new Uint8Array(view))
    }
  })

  it('leaves no trace of one call in the next', () => {
    assert.equal(toHex(new Uint8Array([0xab, 0xcd, 0xef])), 'abcdef')
    assert.equal(toHex(new Uint8Array([0x01])), '01')
    assert.equal(toHex(new Uint8Array(0)), '')
  })
})
