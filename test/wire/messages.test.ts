import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodeError, EncodeError, Reader, Writer, decodeExact, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import { blake2b256, b58Decode, b58Encode } from '../../src/crypto/index.ts'
import {
  decodeP2pMessage, encodeP2pMessage, p2pMessageBodyLength, p2pMessageCodec, p2pMessageCode, octezP2pMessageCodec,
  P2P_MESSAGE_MAX_BYTES, type P2pMessage
} from '../../src/wire/p2p-message.ts'
import { peerMessageCases } from '../../src/wire/peer-messages.ts'
import { mempoolCodec, MEMPOOL_MAX_OPERATIONS } from '../../src/wire/mempool.ts'
import { blockHash, blockHeaderCodec } from '../../src/wire/block-header.ts'
import { operationsHashPathCodec, checkMerklePath, merklePath, operationListHash, operationsHashOfPasses } from '../../src/wire/merkle.ts'
import { operationHash } from '../../src/wire/operation.ts'
import { pointStringCodec } from '../../src/wire/point.ts'
import { protocolCodec, protocolHash } from '../../src/wire/protocol-sources.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

const H = (s: string): Uint8Array => blake2b256(new TextEncoder().encode(s))
const byName = new Map(vectors.messages.map(m => [m.name, m]))
/** The named message vector, with the bytes every vector read by name has. */
function vec (name: string): { hex: string, decoded: typeof vectors.messages[number]['decoded'] } {
  const v = byName.get(name)
  assert.ok(v?.hex !== undefined, `no message vector named ${name} with its bytes`)
  return { hex: v.hex, decoded: v.decoded }
}

test('every full-message vector decodes and re-encodes byte for byte', () => {
  const full = vectors.messages.filter(m => m.scope === 'message')
  assert.equal(full.length, 9)
  for (const v of full) {
    const m = decodeP2pMessage(fromHex(v.hex as string))
    assert.equal(m.tag, v.name, v.name)
    assert.equal(toHex(encodeP2pMessage(m)), v.hex, v.name)
  }
  for (const v of vectors.operations_for_blocks) {
    assert.equal(toHex(encodeP2pMessage(decodeP2pMessage(fromHex(v.hex)))), v.hex)
  }
})

test('chain-id messages, Bootstrap and Disconnect', () => {
  assert.deepEqual(decodeP2pMessage(fromHex(vec('Bootstrap').hex)), { tag: 'Bootstrap' })
  assert.deepEqual(decodeP2pMessage(fromHex(vec('Disconnect').hex)), { tag: 'Disconnect' })
  for (const name of ['Get_current_head', 'Deactivate', 'Get_current_branch']) {
    const m = decodeP2pMessage(fromHex(vec(name).hex))
    assert.equal(toHex((m as { chainId: Uint8Array }).chainId), vec(name).decoded?.chain_id)
  }
  const body = vectors.messages.find(m => m.name.startsWith('Get_current_branch / Get_current_head'))!
  const viaBody = decodeP2pMessage(fromHex('00000006' + '0010' + body.hex))
  assert.equal(b58Encode('chainId', (viaBody as { chainId: Uint8Array }).chainId), 'NetXdQprcVkpaWU')
})

test('Current_head: header hash, fields and mempool as recorded', () => {
  const v = vec('Current_head')
  const m = decodeP2pMessage(fromHex(v.hex))
  assert.equal(m.tag, 'Current_head')
  if (m.tag !== 'Current_head') return
  const d = v.decoded
  assert.ok(d?.block_header !== undefined, 'the Current_head vector records its header')
  assert.equal(b58Encode('chainId', m.chainId), d.chain_id_b58)
  assert.equal(toHex(encode(blockHeaderCodec, m.header)), d.block_header.hex)
  assert.equal(b58Encode('blockHash', blockHash(m.header)), d.block_header.hash)
  assert.equal(m.header.shell.level, d.block_header.level)
  assert.equal(b58Encode('operationListListHash', m.header.shell.operationsHash), d.block_header.operations_hash)
  assert.deepEqual(m.mempool.knownValid.map(h => b58Encode('operationHash', h)), d.known_valid)
  assert.deepEqual(m.mempool.pending, [])
})

test('Current_branch and Get_current_branch from the captured Carthagenet session', () => {
  const sent = vectors.session_carthagenet.chunks.sent
  const get = decodeP2pMessage(fromHex(sent[2].plaintext))
  assert.deepEqual(get, { tag: 'Get_current_branch', chainId: fromHex('9caecab9') })
  const branch = decodeP2pMessage(fromHex(sent[3].plaintext))
  assert.equal(branch.tag, 'Current_branch')
  if (branch.tag !== 'Current_branch') return
  const d = vec('Current_branch').decoded
  assert.ok(d?.head_header !== undefined, 'the Current_branch vector records its head header')
  assert.equal(toHex(encode(blockHeaderCodec, branch.locator.headHeader)), d.head_header.hex)
  assert.equal(b58Encode('blockHash', branch.locator.headHeader.shell.predecessor), d.head_header.predecessor)
  assert.equal(branch.locator.headHeader.shell.timestamp, BigInt(d.head_header.timestamp))
  assert.deepEqual(branch.locator.history, [])
  assert.equal(toHex(encodeP2pMessage(branch)), sent[3].plaintext)
})

test('Get_block_headers and Get_operations_for_blocks vectors', () => {
  const gbh = decodeP2pMessage(fromHex(vec('Get_block_headers').hex))
  assert.deepEqual(gbh.tag === 'Get_block_headers' && gbh.blockHashes.map(h => b58Encode('blockHash', h)), vec('Get_block_headers').decoded?.block_hashes)
  const gofb = decodeP2pMessage(fromHex(vec('Get_operations_for_blocks').hex))
  assert.equal(gofb.tag, 'Get_operations_for_blocks')
  if (gofb.tag !== 'Get_operations_for_blocks') return
  assert.deepEqual(gofb.keys.map(k => [b58Encode('blockHash', k.blockHash), k.validationPass]), vec('Get_operations_for_blocks').decoded?.requests)
})

test('Operations_for_blocks vector: block, pass, path reaching position 3, no operations', () => {
  const v = vectors.operations_for_blocks[0]
  const m = decodeP2pMessage(fromHex(v.hex))
  assert.equal(m.tag, 'Operations_for_blocks')
  if (m.tag !== 'Operations_for_blocks') return
  assert.equal(b58Encode('blockHash', m.blockHash), v.block_hash)
  assert.equal(m.validationPass, v.validation_pass)
  assert.deepEqual(m.operations, [])
  assert.equal(checkMerklePath(m.path, operationListHash(m.operations.map(operationHash))).position, v.validation_pass)
})

test('Operations_for_blocks round trip with operations, checked against a header operations_hash', () => {
  const ops = Array.from({ length: 3 }, (_, i) => ({ branch: H('branch'), data: H(`op ${i}`) }))
  const passes = [[H('a')], ops.map(operationHash), [], [H('b'), H('c')]]
  const root = operationsHashOfPasses(passes)
  const path = merklePath(passes.map(operationListHash), 1)
  const msg: P2pMessage = { tag: 'Operations_for_blocks', blockHash: H('block'), validationPass: 1, path, operations: ops }
  const back = decodeP2pMessage(encodeP2pMessage(msg))
  assert.deepEqual(back, msg)
  if (back.tag !== 'Operations_for_blocks') return
  const checked = checkMerklePath(back.path, operationListHash(back.operations.map(operationHash)))
  assert.deepEqual(checked, { root, position: 1 })
})

test('body vectors: empty mempool, Advertise, Swap_request at maximum size', () => {
  const mempool = vectors.messages.find(m => m.name === 'Mempool (empty)')!
  assert.deepEqual(decodeExact(mempoolCodec, fromHex(mempool.hex as string)), { knownValid: [], pending: [] })
  assert.equal(toHex(encode(mempoolCodec, { knownValid: [], pending: [] })), mempool.hex)
  const cases = peerMessageCases()
  const adv = vectors.messages.find(m => m.name === 'Advertise')!
  const advertise = cases.Advertise.decode(new Reader(fromHex(adv.hex as string)))
  assert.deepEqual(advertise, { tag: 'Advertise', points: (adv.decoded as { points: string[] }).points })
  const full = decodeP2pMessage(fromHex(toHex(new Uint8Array([0, 0, 0, 2 + adv.hex!.length / 2, 0, 3])) + adv.hex))
  assert.deepEqual(full, advertise)
  const swap = vectors.messages.find(m => m.name === 'Swap_request (max size)')!
  for (const [tag, code] of [['Swap_request', '0004'], ['Swap_ack', '0005']] as const) {
    const hex = '00000045' + code + swap.hex
    const m = decodeP2pMessage(fromHex(hex))
    assert.equal(m.tag, tag)
    if (m.tag !== tag) return
    assert.equal(m.point, (swap.decoded as { point: string }).point)
    assert.equal(toHex(m.peerId), (swap.decoded as { peer_id_hex: string }).peer_id_hex)
    assert.equal(toHex(encodeP2pMessage(m)), hex)
  }
  // One more byte of point text is over Octez's 51-byte point bound.
  const over = '00000046' + '0004' + '00000030' + '78'.repeat(48) + '79'.repeat(16)
  assert.throws(() => decodeP2pMessage(fromHex(over)), DecodeError)
})

test('tzp2p peer exchange: the same envelope with multiaddr strings up to 256 bytes', () => {
  const codec = p2pMessageCodec({ points: pointStringCodec(256, 'multiaddr'), name: 'tzp2p_peers' })
  const points = Array.from({ length: 50 }, (_, i) => `/ip4/10.0.${i}.1/tcp/9732/p2p/12D3KooW${'x'.repeat(44)}`)
  const msg: P2pMessage = { tag: 'Advertise', points }
  assert.deepEqual(decodeP2pMessage(encodeP2pMessage(msg, codec), codec), msg)
  assert.throws(() => encodeP2pMessage(msg), EncodeError) // too long for Octez points
  assert.throws(() => encodeP2pMessage({ tag: 'Advertise', points: [...points, ...points, '1.1.1.1:1'] }, codec), EncodeError)
})

test('Protocol message: components with and without interface, hash, bound', () => {
  const protocol = {
    expectedEnvVersion: 3,
    components: [{ name: 'Main', interface: 'val x : int', implementation: 'let x = 1' }, { name: 'Misc', implementation: '' }]
  }
  const msg: P2pMessage = { tag: 'Protocol', protocol }
  assert.deepEqual(decodeP2pMessage(encodeP2pMessage(msg)), msg)
  const bytes = encode(protocolCodec, protocol)
  assert.equal(toHex(bytes.subarray(0, 6)), '0003' + toHex(new Uint8Array([0, 0, 0, bytes.length - 6])))
  assert.deepEqual(protocolHash(protocol), blake2b256(bytes))
  assert.throws(() => encode(protocolCodec, { expectedEnvVersion: 0, components: [{ name: 'Big', implementation: 'x'.repeat(2 * 1024 * 1024) }] }), EncodeError)
})

test('every message kind round-trips through the envelope', () => {
  const header = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[0].hex))
  const chainId = fromHex('7a06a770')
  const locator = { headHeader: header, history: [H('1'), H('2')] }
  const all: P2pMessage[] = [
    { tag: 'Disconnect' }, { tag: 'Bootstrap' }, { tag: 'Advertise', points: [] },
    { tag: 'Swap_request', point: '[::1]:1', peerId: new Uint8Array(16) }, { tag: 'Swap_ack', point: '1.2.3.4:5', peerId: new Uint8Array(16).fill(7) },
    { tag: 'Get_current_branch', chainId }, { tag: 'Current_branch', chainId, locator }, { tag: 'Deactivate', chainId },
    { tag: 'Get_current_head', chainId }, { tag: 'Current_head', chainId, header, mempool: { knownValid: [H('k')], pending: [H('p'), H('q')] } },
    { tag: 'Get_block_headers', blockHashes: [H('x')] }, { tag: 'Block_header', header },
    { tag: 'Get_operations', operationHashes: [] }, { tag: 'Operation', operation: { branch: H('b'), data: new Uint8Array([1, 2]) } },
    { tag: 'Get_protocols', protocolHashes: [H('p')] }, { tag: 'Protocol', protocol: { expectedEnvVersion: 0, components: [] } },
    { tag: 'Get_operations_for_blocks', keys: [{ blockHash: H('b'), validationPass: -1 }] },
    { tag: 'Operations_for_blocks', blockHash: H('b'), validationPass: 0, path: [], operations: [] },
    { tag: 'Get_checkpoint', chainId }, { tag: 'Checkpoint', chainId, header },
    { tag: 'Get_protocol_branch', chainId, protoLevel: 255 }, { tag: 'Protocol_branch', chainId, protoLevel: 2, locator },
    { tag: 'Get_predecessor_header', blockHash: H('b'), offset: -5 }, { tag: 'Predecessor_header', blockHash: H('b'), offset: 1 << 30, header },
    // tzp2p's own (gossip 1.1.0 only, protocols/gossip.md §4.6).
    { tag: 'Block_push', chainId, enabled: true }, { tag: 'Block_push', chainId, enabled: false }
  ]
  const codes = new Set<number>()
  for (const m of all) {
    const bytes = encodeP2pMessage(m)
    assert.deepEqual(decodeP2pMessage(bytes), m, m.tag)
    assert.equal((bytes[4] << 8) | bytes[5], p2pMessageCode(m.tag))
    assert.equal(p2pMessageBodyLength(bytes), bytes.length - 4)
    codes.add(p2pMessageCode(m.tag))
  }
  assert.equal(codes.size, 25)
  assert.deepEqual([...codes].sort((a, b) => a - b).map(c => c.toString(16)),
    ['1', '2', '3', '4', '5', '10', '11', '12', '13', '14', '20', '21', '30', '31', '40', '41', '60', '61', '70', '71', '80', '81', '90', '91', 'f0'])
  // Block_push's payload: the chain id, then Data_encoding's bool.
  assert.equal(toHex(encodeP2pMessage({ tag: 'Block_push', chainId, enabled: true })).slice(-2), 'ff')
})

test('envelope errors: unknown tag, bad lengths, over-long requests, trailing bytes', () => {
  const isDecode = (what: RegExp) => (e: unknown) => e instanceof DecodeError && what.test(e.message)
  assert.throws(() => decodeP2pMessage(fromHex('000000020050')), isDecode(/unknown message tag 0x0050/))
  assert.throws(() => decodeP2pMessage(fromHex('000000020006')), isDecode(/unknown message tag/))
  assert.throws(() => decodeP2pMessage(fromHex('00000003000201')), isDecode(/trailing/))
  assert.throws(() => decodeP2pMessage(fromHex('000000020002ff')), isDecode(/trailing/))
  assert.throws(() => decodeP2pMessage(fromHex('3fffffff0002')), isDecode(/exceeds/))
  assert.throws(() => decodeP2pMessage(fromHex('0000000100')), DecodeError)
  assert.throws(() => p2pMessageBodyLength(fromHex('06400001')), isDecode(/bound/))
  assert.throws(() => p2pMessageBodyLength(fromHex('000000')), DecodeError)
  assert.equal(p2pMessageBodyLength(fromHex('063ffffc')), P2P_MESSAGE_MAX_BYTES - 4)
  const eleven = Array.from({ length: 11 }, (_, i) => H(String(i)))
  assert.throws(() => encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: eleven }), EncodeError)
  const w = new Writer(); w.dynamic(w => { w.uint16(0x20); w.dynamic(w => { for (const h of eleven) w.raw(h) }) })
  assert.throws(() => decodeP2pMessage(w.finish()), isDecode(/exceeds the bound 320/))
  // Exactly ten keys pass.
  assert.equal(decodeP2pMessage(encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: eleven.slice(0, 10) })).tag, 'Get_block_headers')
  // A 1001-entry locator history is refused.
  const header = fromHex(vectors.block_headers[1].hex)
  const lw = new Writer(); lw.dynamic(w => { w.uint16(0x11).raw(fromHex('7a06a770')).bytes(header); for (let i = 0; i < 1001; i++) w.raw(H(String(i))) })
  assert.throws(() => decodeP2pMessage(lw.finish()), isDecode(/more than 1000/))
  // Mempool larger than 4000 hashes in total is over its check_size.
  const many = Array.from({ length: 2001 }, (_, i) => H(`m${i}`))
  assert.throws(() => encode(mempoolCodec, { knownValid: many, pending: many }), EncodeError)
  const mw = new Writer(); mw.dynamic(w => { for (const h of many) w.raw(h) }); mw.dynamic(w => w.dynamic(w => { for (const h of many) w.raw(h) }))
  assert.throws(() => decodeExact(mempoolCodec, mw.finish()), DecodeError)
  assert.equal(MEMPOOL_MAX_OPERATIONS, 4000)
  assert.equal(octezP2pMessageCodec.maxSize, P2P_MESSAGE_MAX_BYTES)
  // The header inside Current_head is length-prefixed; a prefix longer than the message is refused early.
  const ch = fromHex(vec('Current_head').hex); ch.set([0x00, 0x7f, 0xff, 0xff], 10)
  assert.throws(() => decodeP2pMessage(ch), (e: unknown) => e instanceof DecodeError && e.offset === 10)
  assert.equal(operationsHashPathCodec.maxSize, 100)
  assert.equal(b58Decode('chainId', 'NetXdQprcVkpaWU').length, 4)
})
