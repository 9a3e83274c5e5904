import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodeError, EncodeError, Reader, decodeExact, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import { blake2b256, b58Decode, b58Encode } from '../../src/crypto/index.ts'
import {
  blockHeaderCodec, shellHeaderCodec, blockHash, blockHashOfBytes, BLOCK_HEADER_MAX_BYTES, type BlockHeader
} from '../../src/wire/block-header.ts'
import { operationCodec, operationHash, OPERATION_MAX_BYTES } from '../../src/wire/operation.ts'
import {
  merkleRoot, merklePath, checkMerklePath, operationListHash, operationListListHash, operationsHashOfPasses,
  operationsHashPathCodec, merklePathCodec, type MerklePath
} from '../../src/wire/merkle.ts'
import { chainIdOfGenesis } from '../../src/wire/chain-id.ts'
import { compareFitness, fitnessCodec } from '../../src/wire/fitness.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

const H = (s: string): Uint8Array => blake2b256(new TextEncoder().encode(s))

test('block headers: vector fields, hash BLAKE2b-256 of the full header, byte-exact re-encoding', () => {
  for (const v of vectors.block_headers) {
    const bytes = fromHex(v.hex)
    const h = decodeExact(blockHeaderCodec, bytes)
    const d = v.decoded
    assert.equal(h.shell.level, d.level)
    assert.equal(h.shell.proto, d.proto)
    assert.equal(b58Encode('blockHash', h.shell.predecessor), d.predecessor)
    assert.equal(h.shell.timestamp, BigInt(d.timestamp))
    assert.equal(h.shell.validationPass, d.validation_pass)
    assert.equal(b58Encode('operationListListHash', h.shell.operationsHash), d.operations_hash)
    assert.deepEqual(h.shell.fitness.map(toHex), d.fitness)
    assert.equal(b58Encode('contextHash', h.shell.context), d.context)
    assert.equal(toHex(h.protocolData), d.protocol_data)
    assert.equal(toHex(encode(blockHeaderCodec, h)), v.hex)
    if (v.hash !== null) {
      assert.equal(b58Encode('blockHash', blockHash(h)), v.hash)
      assert.equal(b58Encode('blockHash', blockHashOfBytes(bytes)), v.hash)
    }
  }
  // The genesis vector is a bare shell header: the shell codec consumes it exactly.
  const genesis = decodeExact(shellHeaderCodec, fromHex(vectors.block_headers[1].hex))
  assert.equal(genesis.level, 0)
})

test('block headers: truncation, inflated fitness, and the 8 MiB bound are DecodeErrors', () => {
  const bytes = fromHex(vectors.block_headers[0].hex)
  for (let cut = 0; cut < 115; cut += 7) assert.throws(() => decodeExact(blockHeaderCodec, bytes.subarray(0, cut)), DecodeError)
  const inflated = bytes.slice(); inflated.set([0x3f, 0xff, 0xff, 0xff], 78)
  assert.throws(() => decodeExact(blockHeaderCodec, inflated), (e: unknown) => e instanceof DecodeError && e.offset === 78)
  const huge = new Uint8Array(BLOCK_HEADER_MAX_BYTES + 1); huge.set(bytes)
  assert.throws(() => blockHeaderCodec.decode(new Reader(huge)), (e: unknown) => e instanceof DecodeError && /8388608/.test(e.message))
  const h = decodeExact(blockHeaderCodec, bytes)
  assert.throws(() => encode(blockHeaderCodec, { ...h, protocolData: new Uint8Array(BLOCK_HEADER_MAX_BYTES) }), EncodeError)
  assert.throws(() => encode(blockHeaderCodec, { ...h, shell: { ...h.shell, predecessor: new Uint8Array(31) } }), EncodeError)
  assert.throws(() => encode(blockHeaderCodec, { ...h, shell: { ...h.shell, timestamp: 1n << 63n } }), EncodeError)
})

test('operations: branch and hash match the vector; bound 128 KiB', () => {
  const v = vectors.operations[0]
  const op = decodeExact(operationCodec, fromHex(v.hex))
  assert.equal(b58Encode('blockHash', op.branch), v.branch)
  assert.equal(b58Encode('operationHash', operationHash(op)), v.hash)
  assert.equal(toHex(encode(operationCodec, op)), v.hex)
  assert.throws(() => decodeExact(operationCodec, new Uint8Array(31)), DecodeError)
  assert.throws(() => decodeExact(operationCodec, new Uint8Array(OPERATION_MAX_BYTES + 1)), DecodeError)
  assert.equal(decodeExact(operationCodec, new Uint8Array(OPERATION_MAX_BYTES)).data.length, OPERATION_MAX_BYTES - 32)
  assert.throws(() => encode(operationCodec, { branch: op.branch, data: new Uint8Array(OPERATION_MAX_BYTES) }), EncodeError)
})

test('chain ids: first 4 bytes of BLAKE2b-256 of the genesis hash', () => {
  for (const c of vectors.chain_ids) {
    if (!('genesis_block' in c)) continue
    const id = chainIdOfGenesis(b58Decode('blockHash', c.genesis_block as string))
    assert.equal(toHex(id), c.chain_id_hex)
    assert.equal(b58Encode('chainId', id), c.chain_id)
  }
  for (const c of vectors.chain_ids) assert.equal(toHex(b58Decode('chainId', c.chain_id)), c.chain_id_hex)
  assert.throws(() => chainIdOfGenesis(new Uint8Array(4)), RangeError)
})

test('operations_hash of blocks with empty passes matches the vectors', () => {
  for (const m of vectors.merkle) {
    const passes = (m.operation_hashes_per_pass as string[][]).map(p => p.map(h => b58Decode('operationHash', h)))
    assert.equal(b58Encode('operationListListHash', operationsHashOfPasses(passes)), m.operations_hash)
  }
  assert.equal(toHex(merkleRoot([])), '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8')
})

/** The definition itself: pad with copies of the last leaf to a power of two, full binary tree. */
function naiveRoot (elements: Uint8Array[]): Uint8Array {
  if (elements.length === 0) return blake2b256(new Uint8Array(0))
  let level = elements.map(e => blake2b256(e))
  let size = 1
  while (size < level.length) size *= 2
  while (level.length < size) level.push(level[level.length - 1])
  while (level.length > 1) {
    const next = []
    for (let i = 0; i < level.length; i += 2) next.push(blake2b256([level[i], level[i + 1]]))
    level = next
  }
  return level[0]
}

test('Merkle root: Octez shapes ([1;2;3] and the 6-leaf case that differs from Bitcoin) and n = 1..40', () => {
  const x = Array.from({ length: 40 }, (_, i) => H(`element ${i}`))
  const L = (e: Uint8Array): Uint8Array => blake2b256(e)
  const N = (a: Uint8Array, b: Uint8Array): Uint8Array => blake2b256([a, b])
  assert.deepEqual(merkleRoot(x.slice(0, 1)), L(x[0]))
  assert.deepEqual(merkleRoot(x.slice(0, 3)), N(N(L(x[0]), L(x[1])), N(L(x[2]), L(x[2]))))
  const [a, b, c, d, e, f] = x.slice(0, 6).map(L)
  const octez = N(N(N(a, b), N(c, d)), N(N(e, f), N(f, f)))
  const bitcoin = N(N(N(a, b), N(c, d)), N(N(e, f), N(e, f)))
  assert.deepEqual(merkleRoot(x.slice(0, 6)), octez)
  assert.notDeepEqual(merkleRoot(x.slice(0, 6)), bitcoin)
  for (let n = 0; n <= 40; n++) assert.deepEqual(merkleRoot(x.slice(0, n)), naiveRoot(x.slice(0, n)), `n = ${n}`)
  assert.deepEqual(operationListHash(x.slice(0, 5)), operationListListHash(x.slice(0, 5)))
})

test('Merkle paths: every position of every size checks back to the root and its index', () => {
  const x = Array.from({ length: 33 }, (_, i) => H(`op ${i}`))
  for (let n = 1; n <= 33; n++) {
    const elems = x.slice(0, n)
    const root = merkleRoot(elems)
    for (let i = 0; i < n; i++) {
      const path = merklePath(elems, i)
      assert.equal(path.length, Math.ceil(Math.log2(n)))
      const checked = checkMerklePath(path, elems[i])
      assert.deepEqual(checked.root, root)
      assert.equal(checked.position, i)
      // Another element with the same path does not reach the root.
      assert.notDeepEqual(checkMerklePath(path, H('intruder')).root, root)
    }
  }
  assert.throws(() => merklePath(x.slice(0, 3), 3), RangeError)
  assert.throws(() => merklePath([], 0), RangeError)
})

test('Merkle path encoding: the Operations_for_blocks vector path, layout and bounds', () => {
  const v = vectors.operations_for_blocks[0]
  const msg = fromHex(v.hex)
  const r = new Reader(msg, 4 + 2 + 32 + 1)
  const path = operationsHashPathCodec.decode(r)
  const expected = (v.path as { Right: [string, { Right: [string, string] }] }).Right
  assert.deepEqual(path, [
    { side: 'Right', sibling: b58Decode('operationListListHash', expected[0]) },
    { side: 'Right', sibling: b58Decode('operationListListHash', expected[1].Right[0]) }
  ])
  assert.equal(r.remaining, 0)
  const emptyPass = operationListHash([])
  const { root, position } = checkMerklePath(path, emptyPass)
  assert.equal(position, v.validation_pass)
  // The sibling at the bottom is leaf(Lo of an empty pass): pass 2 was empty too.
  assert.deepEqual(path[1].sibling, blake2b256(emptyPass))
  assert.equal(root.length, 32)
  assert.equal(toHex(encode(operationsHashPathCodec, path)), toHex(msg.subarray(39)))

  const s1 = H('a'); const s2 = H('b'); const s3 = H('c')
  const mixed: MerklePath = [{ side: 'Left', sibling: s1 }, { side: 'Right', sibling: s2 }, { side: 'Left', sibling: s3 }]
  assert.equal(toHex(encode(operationsHashPathCodec, mixed)), 'f00f' + toHex(s2) + 'f000' + toHex(s3) + toHex(s1))
  assert.deepEqual(decodeExact(operationsHashPathCodec, encode(operationsHashPathCodec, mixed)), mixed)
  assert.equal(encode(operationsHashPathCodec, mixed).length, 100)
  assert.deepEqual(decodeExact(operationsHashPathCodec, fromHex('00')), [])
  // A fourth level would need 133 bytes: over the 100-byte bound, refused before reading hashes.
  assert.throws(() => decodeExact(operationsHashPathCodec, fromHex('f0f0f0f000')), DecodeError)
  assert.throws(() => encode(operationsHashPathCodec, [...mixed, mixed[0]]), EncodeError)
  assert.throws(() => decodeExact(operationsHashPathCodec, fromHex('01')), (e: unknown) => e instanceof DecodeError && /unknown tag/.test(e.message))
  assert.throws(() => decodeExact(operationsHashPathCodec, fromHex('f000' + '11'.repeat(31))), DecodeError)
  const wide = merklePathCodec(1 + 33 * 32)
  const deep = merklePath(Array.from({ length: 1000 }, (_, i) => H(String(i))), 777)
  assert.deepEqual(decodeExact(wide, encode(wide, deep)), deep)
})

test('fitness: list-of-bytes encoding and Octez ordering', () => {
  const f = (...hex: string[]): Uint8Array[] => hex.map(h => fromHex(h))
  assert.equal(toHex(encode(fitnessCodec, f('00', '00000000000c15ef'))), '00000011' + '0000000100' + '0000000800000000000c15ef')
  assert.deepEqual(decodeExact(fitnessCodec, fromHex('00000000')), [])
  assert.throws(() => decodeExact(fitnessCodec, fromHex('0000000500000002aa')), DecodeError)
  assert.equal(compareFitness(f(), f('00')), -1)
  assert.equal(compareFitness(f('ff'), f('00', '00')), -1) // fewer elements is smaller
  assert.equal(compareFitness(f('02', 'ff'), f('02', '0000')), -1) // shorter element is smaller
  assert.equal(compareFitness(f('02', '0001'), f('02', '0000')), 1)
  assert.equal(compareFitness(f('02', '0001'), f('02', '0001')), 0)
  const h: BlockHeader = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[0].hex))
  assert.equal(compareFitness(h.shell.fitness, [...h.shell.fitness]), 0)
})
