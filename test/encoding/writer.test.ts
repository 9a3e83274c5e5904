import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Reader, Writer, EncodeError, toHex } from '../../src/encoding/index.ts'

test('Writer keeps every byte across buffer growth, whatever field triggers it', () => {
  for (const [name, write, size] of [
    ['uint8', (w: Writer) => w.uint8(0xab), 1],
    ['int16', (w: Writer) => w.int16(-2), 2],
    ['int32', (w: Writer) => w.int32(-5), 4],
    ['uint30', (w: Writer) => w.uint30(7), 4],
    ['int64', (w: Writer) => w.int64(-9n), 8],
    ['raw', (w: Writer) => w.raw(new Uint8Array([1, 2, 3])), 3]
  ] as const) {
    for (let start = 0; start < 12; start++) {
      const w = new Writer(8)
      for (let i = 0; i < start; i++) w.uint8(0x11)
      write(w)
      w.uint8(0xee)
      const out = w.finish()
      assert.equal(out.length, start + size + 1, name)
      const r = new Reader(out, start)
      const back = name === 'uint8' ? r.uint8('x') : name === 'int16' ? r.int16('x') : name === 'int32' ? r.int32('x')
        : name === 'uint30' ? r.uint30('x') : name === 'int64' ? r.int64('x') : toHex(r.fixed(3, 'x'))
      assert.deepEqual(back, { uint8: 0xab, int16: -2, int32: -5, uint30: 7, int64: -9n, raw: '010203' }[name], `${name} at ${start}`)
      assert.equal(r.uint8('end'), 0xee)
    }
  }
})

test('Writer.dynamic patches the prefix after a body that grew the buffer', () => {
  const w = new Writer(4)
  w.dynamic(w => { for (let i = 0; i < 1000; i++) w.uint8(i & 0xff) })
  const out = w.finish()
  assert.equal(out.length, 1004)
  assert.equal(toHex(out.subarray(0, 8)), '000003e800010203')
  assert.throws(() => new Writer().dynamic(w => w.raw(new Uint8Array(10)), 'x', 9), EncodeError)
})
