import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeExact, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import {
  WIRE_ENCODINGS, findEncoding, blockHeaderJson, blockHeaderCodec, decodeP2pMessage, encodeP2pMessage, p2pMessageJson,
  operationJson, operationCodec, connectionMessageJson, decodeConnectionFrame, merklePathJson, WireJsonError,
  timestampToJson, jsonTimestamp, ackJson, type P2pMessage
} from '../../src/wire/index.ts'
import type { Json } from '../../src/wire/index.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

test('block header JSON: Octez field names, b58 hashes, RFC 3339 timestamp, fitness hex, hash', () => {
  const v = vectors.block_headers[0]
  const h = decodeExact(blockHeaderCodec, fromHex(v.hex))
  const j = blockHeaderJson.toJson(h) as Record<string, unknown>
  assert.deepEqual(j, {
    hash: v.hash,
    level: v.decoded.level,
    proto: v.decoded.proto,
    predecessor: v.decoded.predecessor,
    timestamp: '2018-12-13T15:10:48Z',
    validation_pass: v.decoded.validation_pass,
    operations_hash: v.decoded.operations_hash,
    fitness: v.decoded.fitness,
    context: v.decoded.context,
    protocol_data: v.decoded.protocol_data
  })
  assert.deepEqual(blockHeaderJson.fromJson(JSON.parse(JSON.stringify(j))), h)
  const withoutHash: Record<string, unknown> = { ...j }
  delete withoutHash.hash
  assert.deepEqual(blockHeaderJson.fromJson(withoutHash), h)
  assert.throws(() => blockHeaderJson.fromJson({ ...j, hash: vectors.block_headers[0].decoded.predecessor }),
    (e: unknown) => e instanceof WireJsonError && e.path === '$.hash' && /does not match/.test(e.message))
  assert.throws(() => blockHeaderJson.fromJson({ ...j, extra: 1 }), (e: unknown) => e instanceof WireJsonError && e.path === '$.extra')
  assert.throws(() => blockHeaderJson.fromJson({ ...j, level: 2 ** 31 }), (e: unknown) => e instanceof WireJsonError && e.path === '$.level')
  assert.throws(() => blockHeaderJson.fromJson({ ...j, context: v.decoded.operations_hash }), (e: unknown) => e instanceof WireJsonError && e.path === '$.context')
  // Bad hex says which character is wrong.
  assert.throws(() => blockHeaderJson.fromJson({ ...j, protocol_data: 'ab0g' }),
    (e: unknown) => e instanceof WireJsonError && e.path === '$.protocol_data' && /: not hexadecimal: "g" at character 4 /.test(e.message))
  const genesis = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[1].hex))
  assert.equal((blockHeaderJson.toJson(genesis) as { timestamp: string }).timestamp, '2018-06-30T16:07:32Z')
})

test('timestamps: RFC 3339 within years 0000-9999, int64 strings outside; both accepted on input', () => {
  assert.equal(timestampToJson(0n), '1970-01-01T00:00:00Z')
  assert.equal(timestampToJson(-1n), '1969-12-31T23:59:59Z')
  assert.equal(timestampToJson(253402300799n), '9999-12-31T23:59:59Z')
  assert.equal(timestampToJson(253402300800n), '253402300800')
  assert.equal(timestampToJson(-(1n << 63n)), '-9223372036854775808')
  assert.equal(jsonTimestamp('2018-12-13T15:10:48Z', '$'), 1544713848n)
  assert.equal(jsonTimestamp('2018-12-13T16:10:48+01:00', '$'), 1544713848n)
  assert.equal(jsonTimestamp('1544713848', '$'), 1544713848n)
  assert.equal(jsonTimestamp(1544713848, '$'), 1544713848n)
  assert.equal(jsonTimestamp('-9223372036854775808', '$'), -(1n << 63n))
  for (const bad of ['9223372036854775808', '2018-13-45T00:00:00Z', 'yesterday', 1.5, null]) {
    assert.throws(() => jsonTimestamp(bad, '$.t'), WireJsonError, String(bad))
  }
})

test('operation and connection message JSON', () => {
  const v = vectors.operations[0]
  const op = decodeExact(operationCodec, fromHex(v.hex))
  assert.deepEqual(operationJson.toJson(op), { hash: v.hash, branch: v.branch, data: v.hex.slice(64) })
  assert.deepEqual(operationJson.fromJson(operationJson.toJson(op)), op)
  const c = vectors.connection_messages[0]
  const m = decodeConnectionFrame(fromHex(c.wire_hex))
  assert.deepEqual(connectionMessageJson.toJson(m), {
    port: 9732,
    pubkey: c.decoded.public_key,
    proof_of_work_stamp: c.decoded.proof_of_work_stamp,
    message_nonce: c.decoded.message_nonce,
    version: { chain_name: 'TEZOS_MAINNET', distributed_db_version: 0, p2p_version: 1 }
  })
  assert.deepEqual(connectionMessageJson.fromJson(connectionMessageJson.toJson(m)), m)
  assert.throws(() => connectionMessageJson.fromJson({ ...connectionMessageJson.toJson(m) as object, pubkey: 'abcd' }),
    (e: unknown) => e instanceof WireJsonError && e.path === '$.pubkey' && /32 bytes/.test(e.message))
})

/** The value at `path` (object keys) inside a JSON value; `undefined` where the path leads nowhere. */
function jsonAt (json: Json, ...path: string[]): Json | undefined {
  let at: Json | undefined = json
  for (const key of path) at = typeof at === 'object' && at !== null && !Array.isArray(at) ? at[key] : undefined
  return at
}

test('P2P message JSON follows Octez case objects and round-trips for vectors', () => {
  const currentHead = decodeP2pMessage(fromHex(vectors.messages.find(m => m.name === 'Current_head')!.hex as string))
  const j = p2pMessageJson.toJson(currentHead)
  assert.equal(jsonAt(j, 'chain_id'), 'NetXgtSLGNJvNye')
  assert.equal(jsonAt(j, 'current_block_header', 'hash'), 'BMQ7YKpUfFZsDm9EizMyxHPpcE41YmWNCaTc7eSjj5xDKVYPTEG')
  assert.deepEqual(jsonAt(j, 'current_mempool'), { known_valid: ['op94YRm1eaKKdYTXHmw2wA1mQAJgQQCK1GYq6UQYDvfVJ8DttzW'], pending: [] })
  const ofb = decodeP2pMessage(fromHex(vectors.operations_for_blocks[0].hex))
  const oj = p2pMessageJson.toJson(ofb)
  assert.deepEqual(jsonAt(oj, 'operations_for_block'), { hash: vectors.operations_for_blocks[0].block_hash, validation_pass: 3 })
  // The vector's path in Octez's JSON: Right (hash, Right (hash, Op)).
  const [left, right] = vectors.operations_for_blocks[0].path.Right
  assert.ok(typeof right === 'object', 'the vector path goes right twice')
  assert.deepEqual(jsonAt(oj, 'operation_hashes_path'), { left, path: { left: right.Right[0], path: {} } })
  for (const v of [...vectors.messages.filter(m => m.scope === 'message'), ...vectors.operations_for_blocks]) {
    const m = decodeP2pMessage(fromHex(v.hex as string))
    const back = p2pMessageJson.fromJson(JSON.parse(JSON.stringify(p2pMessageJson.toJson(m))))
    assert.equal(toHex(encodeP2pMessage(back)), v.hex, v.name)
  }
  assert.deepEqual(p2pMessageJson.toJson({ tag: 'Bootstrap' }), { kind: 'Bootstrap' })
  assert.deepEqual(p2pMessageJson.toJson({ tag: 'Get_current_branch', chainId: fromHex('7a06a770') }), { get_current_branch: 'NetXdQprcVkpaWU' })
  assert.throws(() => p2pMessageJson.fromJson({ nothing: 1 }), (e: unknown) => e instanceof WireJsonError && /not a P2P message/.test(e.message))
  assert.throws(() => p2pMessageJson.fromJson({ kind: 'Hello' }), (e: unknown) => e instanceof WireJsonError && e.path === '$.kind')
  assert.throws(() => p2pMessageJson.fromJson({ get_current_branch: 'NetXdQprcVkpaWU', deactivate: 'NetXdQprcVkpaWU' }),
    (e: unknown) => e instanceof WireJsonError && e.path === '$.deactivate')
})

test('every message kind survives binary → JSON → binary', () => {
  const header = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[0].hex))
  const chainId = fromHex('8eceda2f'); const h = new Uint8Array(32).fill(3)
  const locator = { headHeader: header, history: [h] }
  const all: P2pMessage[] = [
    { tag: 'Disconnect' }, { tag: 'Bootstrap' }, { tag: 'Advertise', points: ['1.2.3.4:5'] },
    { tag: 'Swap_request', point: '[::1]:2', peerId: new Uint8Array(16).fill(1) }, { tag: 'Swap_ack', point: '1.1.1.1:1', peerId: new Uint8Array(16) },
    { tag: 'Get_current_branch', chainId }, { tag: 'Current_branch', chainId, locator }, { tag: 'Deactivate', chainId },
    { tag: 'Get_current_head', chainId }, { tag: 'Current_head', chainId, header, mempool: { knownValid: [h], pending: [h] } },
    { tag: 'Get_block_headers', blockHashes: [h, h] }, { tag: 'Block_header', header }, { tag: 'Get_operations', operationHashes: [h] },
    { tag: 'Operation', operation: { branch: h, data: new Uint8Array([9]) } }, { tag: 'Get_protocols', protocolHashes: [h] },
    { tag: 'Protocol', protocol: { expectedEnvVersion: 2, components: [{ name: 'A', interface: 'i', implementation: 'm' }, { name: 'B', implementation: '' }] } },
    { tag: 'Get_operations_for_blocks', keys: [{ blockHash: h, validationPass: 2 }] },
    { tag: 'Operations_for_blocks', blockHash: h, validationPass: 1, path: [{ side: 'Left', sibling: h }, { side: 'Right', sibling: h }], operations: [{ branch: h, data: new Uint8Array(0) }] },
    { tag: 'Get_checkpoint', chainId }, { tag: 'Checkpoint', chainId, header },
    { tag: 'Get_protocol_branch', chainId, protoLevel: 3 }, { tag: 'Protocol_branch', chainId, protoLevel: 3, locator },
    { tag: 'Get_predecessor_header', blockHash: h, offset: 12 }, { tag: 'Predecessor_header', blockHash: h, offset: -1, header },
    { tag: 'Block_push', chainId, enabled: true }
  ]
  for (const m of all) {
    const text = JSON.stringify(p2pMessageJson.toJson(m))
    assert.deepEqual(p2pMessageJson.fromJson(JSON.parse(text)), m, m.tag)
  }
})

test('ack and Merkle path JSON', () => {
  assert.deepEqual(ackJson.toJson({ tag: 'Ack' }), { ack: {} })
  assert.deepEqual(ackJson.fromJson({ nack_v_0: {} }), { tag: 'Nack_v_0' })
  assert.deepEqual(ackJson.toJson({ tag: 'Nack', motive: 'Already_connected', points: ['1.2.3.4:1'] }), { nack_motive: 'Already_connected', nack_list: ['1.2.3.4:1'] })
  assert.deepEqual(ackJson.fromJson({ nack_motive: 9, nack_list: [] }), { tag: 'Nack', motive: { unknown: 9 }, points: [] })
  assert.deepEqual(ackJson.fromJson({ nack_motive: 1, nack_list: [] }), { tag: 'Nack', motive: 'Too_many_connections', points: [] })
  assert.throws(() => ackJson.fromJson({ nack_motive: 'Bored', nack_list: [] }), WireJsonError)
  assert.deepEqual(merklePathJson.toJson([]), {})
  assert.throws(() => merklePathJson.fromJson({ path: {}, right: 'nope' }), (e: unknown) => e instanceof WireJsonError && e.path === '$.right')
  assert.throws(() => merklePathJson.fromJson({ path: { x: 1 }, left: 'LLoaGLRPRx3Zf8kB4ACtgku8F4feeBiskeb41J1ciwfcXB3KzHKXc' }),
    (e: unknown) => e instanceof WireJsonError && e.path === '$.path.x')
})

test('the named encodings: unique names, each JSON converter inverts its codec on a sample', () => {
  const names = WIRE_ENCODINGS.map(e => e.name)
  assert.equal(new Set(names).size, names.length)
  const samples: Record<string, string> = {
    p2p_message: vectors.messages.find(m => m.name === 'Current_head')!.hex as string,
    connection_message: vectors.connection_messages[0].body_hex as string,
    'connection_message.frame': vectors.connection_messages[0].wire_hex,
    network_version: vectors.network_version[0].hex,
    connection_metadata: '00ff',
    ack: vectors.messages.find(m => m.name === 'Nack')!.hex as string,
    block_header: vectors.block_headers[0].hex,
    'block_header.shell': vectors.block_headers[1].hex,
    operation: vectors.operations[0].hex,
    mempool: vectors.messages.find(m => m.name === 'Mempool (empty)')!.hex as string,
    block_locator: vectors.session_carthagenet.chunks.sent[3].plaintext.slice(20),
    'operation_list_list_hash.path': vectors.operations_for_blocks[0].hex.slice(78),
    fitness: '0000000e' + '0000000100' + '00000005' + '0000000000',
    protocol: '0001' + '00000010' + '0000000141' + 'ff0000000162' + '0000000163',
    'p2p_point.id': '0000000e3132372e302e302e313a39383332'
  }
  for (const e of WIRE_ENCODINGS) {
    const hex = samples[e.name]
    assert.ok(hex !== undefined, `sample for ${e.name}`)
    const value: unknown = decodeExact(e.codec, fromHex(hex))
    const back: unknown = e.json.fromJson(JSON.parse(JSON.stringify(e.json.toJson(value))))
    assert.equal(toHex(encode(e.codec, back)), hex, e.name)
  }
  assert.equal(findEncoding('nope'), undefined)
})
