import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodeError, EncodeError, decodeExact, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import { blake2b, b58Encode } from '../../src/crypto/index.ts'
import {
  connectionMessageCodec, decodeConnectionFrame, decodeConnectionMessage, encodeConnectionFrame,
  connectionFrameBodyLength, networkVersionCodec, type ConnectionMessage
} from '../../src/wire/connection-message.ts'
import { connectionMetadataCodec } from '../../src/wire/metadata.ts'
import { ackCodec, nackMotiveName, nackMotiveOfCode, type AckMessage } from '../../src/wire/ack.ts'
import { pointCodec, pointStringCodec } from '../../src/wire/point.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

test('connection messages: every vector frame decodes to its fields and re-encodes byte for byte', () => {
  for (const v of vectors.connection_messages) {
    const frame = fromHex(v.wire_hex)
    const m = decodeConnectionFrame(frame)
    assert.equal(m.port, v.decoded.port, v.name)
    assert.equal(toHex(m.publicKey), v.decoded.public_key)
    assert.equal(toHex(m.proofOfWorkStamp), v.decoded.proof_of_work_stamp)
    assert.equal(toHex(m.messageNonce), v.decoded.message_nonce)
    assert.deepEqual(m.version, {
      chainName: v.decoded.chain_name,
      distributedDbVersion: v.decoded.distributed_db_version,
      p2pVersion: v.decoded.p2p_version
    })
    assert.equal(b58Encode('peerId', blake2b(m.publicKey, 16)), v.decoded.peer_id)
    assert.equal(toHex(encodeConnectionFrame(m)), v.wire_hex)
    assert.equal(connectionFrameBodyLength(frame), frame.length - 2)
    if ('body_hex' in v) {
      assert.deepEqual(decodeConnectionMessage(fromHex(v.body_hex as string)), m)
      assert.equal(toHex(encode(connectionMessageCodec, m)), v.body_hex)
    }
  }
})

test('connection messages: the captured Carthagenet frames decode as recorded', () => {
  const s = vectors.session_carthagenet
  for (const [hex, d] of [[s.sent_conn_frame, s.sent_conn_decoded], [s.recv_conn_frame, s.recv_conn_decoded]] as const) {
    const m = decodeConnectionFrame(fromHex(hex))
    assert.equal(m.port, d.port)
    assert.equal(toHex(m.publicKey), d.public_key)
    assert.equal(m.version.chainName, d.chain_name)
    assert.equal(m.version.distributedDbVersion, d.distributed_db_version)
    assert.equal(m.version.p2pVersion, d.p2p_version)
    assert.equal(b58Encode('peerId', blake2b(m.publicKey, 16)), d.peer_id)
    assert.equal(toHex(encodeConnectionFrame(m)), hex)
  }
})

test('connection frames: wrong length prefix, trailing or missing bytes are DecodeErrors', () => {
  const frame = fromHex(vectors.connection_messages[0].wire_hex)
  const longer = new Uint8Array([...frame, 0])
  assert.throws(() => decodeConnectionFrame(longer), DecodeError) // prefix says 103, 104 follow
  longer[1] += 1 // prefix now matches, but the body has an extra byte
  assert.throws(() => decodeConnectionFrame(longer), (e: unknown) => e instanceof DecodeError && /trailing/.test(e.message))
  assert.throws(() => decodeConnectionFrame(frame.subarray(0, frame.length - 1)), DecodeError)
  assert.throws(() => decodeConnectionFrame(frame.subarray(0, 1)), DecodeError)
  const body = fromHex(vectors.connection_messages[0].body_hex as string)
  assert.throws(() => decodeConnectionMessage(body.subarray(0, 90)), DecodeError)
  // A chain name longer than what is left in the frame must be rejected, not allocated.
  const inflated = body.slice(); inflated.set([0x3f, 0xff, 0xff, 0xff], 82)
  assert.throws(() => decodeConnectionMessage(inflated), (e: unknown) => e instanceof DecodeError && e.offset === 82)
})

test('connection messages: encoding checks field sizes', () => {
  const m: ConnectionMessage = decodeConnectionFrame(fromHex(vectors.connection_messages[0].wire_hex))
  assert.throws(() => encodeConnectionFrame({ ...m, publicKey: new Uint8Array(31) }), EncodeError)
  assert.throws(() => encodeConnectionFrame({ ...m, port: 65536 }), EncodeError)
  assert.throws(() => encodeConnectionFrame({ ...m, version: { ...m.version, chainName: 'x'.repeat(70000) } }), EncodeError)
})

test('network_version matches the Octez regression sample', () => {
  const v = vectors.network_version[0]
  const nv = decodeExact(networkVersionCodec, fromHex(v.hex))
  assert.deepEqual(nv, { chainName: 'main', distributedDbVersion: 1, p2pVersion: 0 })
  assert.equal(toHex(encode(networkVersionCodec, nv)), v.hex)
})

test('metadata chunk: exactly two booleans', () => {
  for (const v of vectors.messages.filter(m => m.scope === 'metadata_chunk')) {
    const m = decodeExact(connectionMetadataCodec, fromHex(v.hex as string))
    assert.deepEqual(m, { disableMempool: false, privateNode: false })
    assert.equal(toHex(encode(connectionMetadataCodec, m)), v.hex)
  }
  assert.equal(toHex(encode(connectionMetadataCodec, { disableMempool: true, privateNode: false })), 'ff00')
  // Data_encoding reads any non-zero byte as true.
  assert.deepEqual(decodeExact(connectionMetadataCodec, fromHex('0102')), { disableMempool: true, privateNode: true })
  assert.throws(() => decodeExact(connectionMetadataCodec, fromHex('00')), DecodeError)
  assert.throws(() => decodeExact(connectionMetadataCodec, fromHex('000000')), DecodeError)
})

test('ack chunk: Ack, Nack_v_0 and Nack vectors decode and re-encode', () => {
  const byName = new Map(vectors.messages.map(m => [m.name, m]))
  assert.deepEqual(decodeExact(ackCodec, fromHex('00')), { tag: 'Ack' })
  assert.deepEqual(decodeExact(ackCodec, fromHex('ff')), { tag: 'Nack_v_0' })
  const nack = byName.get('Nack')!
  const m = decodeExact(ackCodec, fromHex(nack.hex as string))
  assert.deepEqual(m, { tag: 'Nack', motive: 'Deprecated_p2p_version', points: ['127.0.0.1:9832'] })
  assert.equal(toHex(encode(ackCodec, m)), nack.hex)
  for (const a of [{ tag: 'Ack' }, { tag: 'Nack_v_0' }] as AckMessage[]) {
    assert.deepEqual(decodeExact(ackCodec, encode(ackCodec, a)), a)
  }
})

test('ack chunk: the mainnet Nack capture prefix reads motive and first points', () => {
  const v = vectors.messages.find(m => m.name.startsWith('Nack (mainnet'))!
  const prefix = fromHex(v.hex_prefix as string)
  // Only the start was recorded: the list announces 403 bytes, so the prefix alone is truncated.
  assert.throws(() => decodeExact(ackCodec, prefix), (e: unknown) => e instanceof DecodeError && /exceeds/.test(e.message))
  // Complete it with well-formed points up to the announced length and it decodes.
  const d = v.decoded as { points_list_byte_length: number, first_points: string[] }
  let rest = d.points_list_byte_length - (prefix.length - 7)
  const filler: number[] = []
  while (rest > 0) {
    const text = '10.0.0.1:9732'.slice(0, Math.min(13, rest - 4))
    filler.push(0, 0, 0, text.length, ...new TextEncoder().encode(text))
    rest -= 4 + text.length
  }
  const m = decodeExact(ackCodec, new Uint8Array([...prefix, ...filler]))
  assert.equal(m.tag, 'Nack')
  if (m.tag !== 'Nack') return
  assert.equal(m.motive, 'Too_many_connections')
  assert.deepEqual(m.points.slice(0, 1), d.first_points.slice(0, 1))
})

test('ack chunk: motives, bounds and bad tags', () => {
  assert.deepEqual(nackMotiveOfCode(5), 'Already_connected')
  assert.deepEqual(nackMotiveOfCode(7), { unknown: 7 })
  assert.equal(nackMotiveName({ unknown: -2 }), 'Unknown_motive(-2)')
  const unknown = decodeExact(ackCodec, fromHex('01fffe00000000'))
  assert.deepEqual(unknown, { tag: 'Nack', motive: { unknown: -2 }, points: [] })
  assert.equal(toHex(encode(ackCodec, unknown)), '01fffe00000000')
  const points = Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}:1`)
  assert.throws(() => encode(ackCodec, { tag: 'Nack', motive: 'No_motive', points }), EncodeError)
  const w = encode(ackCodec, { tag: 'Nack', motive: 'No_motive', points: points.slice(0, 100) })
  assert.equal(decodeExact(ackCodec, w).tag, 'Nack')
  // 101 points on the wire: rejected by the count bound.
  const body = points.map(p => encode(pointCodec, p))
  const len = body.reduce((n, b) => n + b.length, 0)
  const over = new Uint8Array([1, 0, 0, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, ...body.flatMap(b => [...b])])
  assert.throws(() => decodeExact(ackCodec, over), (e: unknown) => e instanceof DecodeError && /more than 100/.test(e.message))
  assert.throws(() => decodeExact(ackCodec, fromHex('02')), (e: unknown) => e instanceof DecodeError && e.what === 'ack.tag')
  assert.throws(() => decodeExact(ackCodec, fromHex('0000')), DecodeError)
  assert.throws(() => decodeExact(ackCodec, fromHex('0100')), DecodeError)
})

test('points: the codec bounds the text at 47 bytes (parsing is test/net/point.test.ts)', () => {
  const longest = '[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535'
  assert.equal(longest.length, 47)
  assert.equal(decodeExact(pointCodec, encode(pointCodec, longest)), longest)
  assert.throws(() => encode(pointCodec, longest + '0'), EncodeError)
  assert.throws(() => decodeExact(pointCodec, fromHex('00000030' + '61'.repeat(48))), DecodeError)
  const multiaddr = pointStringCodec(256, 'multiaddr')
  const ma = '/ip4/127.0.0.1/tcp/9732/p2p/' + 'Q'.repeat(100)
  assert.equal(decodeExact(multiaddr, encode(multiaddr, ma)), ma)

})
