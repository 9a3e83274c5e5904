import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodeError, Reader, UINT30_MAX, Writer, decodeExact, encode, fromHex, toHex, type Codec } from '../../src/encoding/index.ts'

const r = (hex: string): Reader => new Reader(fromHex(hex))
const isDecodeError = (offset: number, pattern: RegExp) => (e: unknown): boolean =>
  e instanceof DecodeError && e.offset === offset && pattern.test(e.message)

test('integers are big-endian with their signedness', () => {
  const x = r('ff' + 'ff' + 'fffe' + 'fffe' + 'fffffffd' + 'fffffffd' + 'fffffffffffffffc')
  assert.equal(x.uint8('a'), 255)
  assert.equal(x.int8('b'), -1)
  assert.equal(x.uint16('c'), 0xfffe)
  assert.equal(x.int16('d'), -2)
  assert.equal(x.uint32('e'), 0xfffffffd)
  assert.equal(x.int32('f'), -3)
  assert.equal(x.int64('g'), -4n)
  assert.ok(x.atEnd)
  assert.throws(() => x.uint8('h'), isDecodeError(22, /^h at offset 22: needs 1 byte\(s\), only 0 left$/))
})

test('uint30 accepts [0, 2^30-1] only; bool reads any non-zero as true', () => {
  assert.equal(r('3fffffff').uint30('n'), UINT30_MAX)
  assert.throws(() => r('40000000').uint30('n'), isDecodeError(0, /uint30 out of range/))
  // Read unsigned: the value is reported as it is on the wire, with the bound it breaks.
  assert.throws(() => r('ffffffff').uint30('n'), isDecodeError(0, /uint30 out of range: 4294967295 \(0xffffffff\); at most 1073741823 \(2\^30 - 1\)$/))
  const b = r('00ff01')
  assert.deepEqual([b.bool('x'), b.bool('x'), b.bool('x')], [false, true, true])
})

test('lengths are checked against the bound and the bytes left before anything is read', () => {
  assert.throws(() => r('00000005aabb').bytes('b', 10), isDecodeError(0, /length 5 exceeds the 2 byte\(s\) left/))
  assert.throws(() => r('00000005aabbccddee').bytes('b', 4), isDecodeError(0, /length 5 exceeds the bound 4/))
  assert.equal(toHex(r('00000002aabb').bytes('b', 2)), 'aabb')
  const nested = r('00000006' + '00000002aabb' + 'cc')
  assert.equal(toHex(nested.dynamic('outer', 100, sub => sub.bytes('inner', 100))), 'aabb')
  assert.equal(nested.uint8('after'), 0xcc)
  // An inner length may not reach past its enclosing block even if the buffer continues.
  assert.throws(() => r('00000005' + '00000003aa' + 'bbcc').dynamic('outer', 100, sub => sub.bytes('inner', 100)),
    isDecodeError(4, /inner at offset 4: length 3 exceeds the 1 byte\(s\) left/))
  assert.throws(() => r('00000002aabbcc').dynamic('outer', 100, sub => sub.uint8('one')), isDecodeError(5, /1 unexpected trailing byte/))
})

test('strings must be valid UTF-8; fixed bytes are copies', () => {
  assert.equal(r('00000003e282ac').string('s', 10), '€')
  assert.throws(() => r('00000002c328').string('s', 10), isDecodeError(0, /invalid UTF-8/))
  const buf = fromHex('0102')
  const f = new Reader(buf).fixed(2, 'f')
  buf[0] = 9
  assert.equal(toHex(f), '0102')
})

test('rest, lists, variable lists and options', () => {
  assert.throws(() => r('010203').rest('rest', 2), isDecodeError(0, /3 byte\(s\) exceed the bound 2/))
  assert.deepEqual(r('00000004' + '0102' + '0304').list('l', 4, 2, x => x.uint16('e')), [0x0102, 0x0304])
  assert.throws(() => r('00000006' + '010203040506').list('l', 6, 2, x => x.uint16('e')), isDecodeError(8, /more than 2 element/))
  assert.throws(() => r('00000003' + '010203').list('l', 6, 5, x => x.uint16('e')), DecodeError)
  assert.throws(() => r('0102').variableList('v', 5, () => 0), isDecodeError(0, /consumed no bytes/))
  assert.equal(r('00').optional('o', x => x.uint8('v')), undefined)
  assert.equal(r('ff07').optional('o', x => x.uint8('v')), 7)
  assert.throws(() => r('01').optional('o', x => x.uint8('v')), isDecodeError(0, /invalid option tag 0x01/))
})

test('decodeExact checks maxSize first and rejects trailing bytes', () => {
  const two: Codec<number> = { name: 'two', maxSize: 2, encode: (w, v) => { w.uint16(v) }, decode: x => x.uint16('two') }
  assert.equal(decodeExact(two, fromHex('0102')), 0x0102)
  assert.throws(() => decodeExact(two, fromHex('010203')), isDecodeError(0, /3 bytes exceed the bound 2/))
  const unbounded: Codec<number> = { ...two, maxSize: undefined }
  assert.throws(() => decodeExact(unbounded, fromHex('010203')), isDecodeError(2, /trailing/))
  assert.equal(toHex(encode(two, 7)), '0007')
})

test('Writer encodes what Reader decodes for every primitive', () => {
  const w = new Writer(1)
  w.uint8(1).int8(-1).uint16(2).int16(-2).int32(-3).uint32(4).uint30(5).int64(-6n).bool(true).bool(false)
    .fixed(fromHex('aabb'), 2).bytes(fromHex('cc')).string('é').optional(undefined, () => {}).optional(9, (w, v) => w.uint8(v))
  const x = new Reader(w.finish())
  assert.deepEqual([x.uint8('a'), x.int8('a'), x.uint16('a'), x.int16('a'), x.int32('a'), x.uint32('a'), x.uint30('a'), x.int64('a'),
    x.bool('a'), x.bool('a'), toHex(x.fixed(2, 'a')), toHex(x.bytes('a', 9)), x.string('a', 9), x.optional('a', y => y.uint8('o')),
    x.optional('a', y => y.uint8('o'))], [1, -1, 2, -2, -3, 4, 5, -6n, true, false, 'aabb', 'cc', 'é', undefined, 9])
  assert.ok(x.atEnd)
  assert.throws(() => new Writer().uint8(256), /not an integer in \[0, 255\]/)
  assert.throws(() => new Writer().uint30(UINT30_MAX + 1))
  assert.throws(() => new Writer().int16(1.5))
  assert.throws(() => new Writer().bytes(new Uint8Array(3), 'b', 2), /exceed the bound 2/)
})

test('fromHex is strict and toHex is lowercase', () => {
  assert.equal(toHex(fromHex(' 0xAbCd\n')), 'abcd')
  for (const bad of ['abc', 'zz', '0x0g', 'ab cd']) assert.throws(() => fromHex(bad), DecodeError, bad)
  // The error says what is wrong: the first character that is no hex digit, and where (counted
  // from 1 in the text given), else an odd count.
  assert.throws(() => fromHex('zzzz'), isDecodeError(0, /: not hexadecimal: "z" at character 1 is not a digit 0-9 or a letter a-f$/))
  assert.throws(() => fromHex(' 0xab_c'), isDecodeError(5, /: not hexadecimal: "_" at character 6 /))
  assert.throws(() => fromHex('abc'), isDecodeError(0, /: an odd number of hexadecimal digits \(3\): each byte takes two$/))
})
