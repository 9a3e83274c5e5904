/**
 * Octez-style JSON of the P2P envelope's messages. Data_encoding prints a union case as the case's
 * own object, without a tag, so each message is recognised on input by the field only it has
 * (`get_current_branch`, `current_block_header`, `kind`, …).
 */
import { ADVERTISE_MAX_POINTS, type PeerMessage } from './peer-messages.ts'
import type { DistributedDbMessage, OperationsKey } from './ddb-messages.ts'
import { DDB_MAX_KEYS_PER_REQUEST } from './ddb-messages.ts'
import type { P2pMessage } from './p2p-message.ts'
import {
  JsonFields, WireJsonError, b58, jsonArray, jsonB58, jsonInt, jsonString, type Json, type JsonObject
} from './json-values.ts'
import {
  blockHeaderJson, blockLocatorJson, chainIdFromJson, chainIdToJson, mempoolJson, merklePathJson, operationJson,
  protocolJson, type JsonConverter
} from './json.ts'

type Hashes = 'blockHash' | 'operationHash' | 'protocolHash'

function hashes (kind: Hashes, list: Uint8Array[]): Json {
  return list.map(h => b58(kind, h))
}

function hashesFrom (kind: Hashes, j: unknown, path: string, max: number): Uint8Array[] {
  return jsonArray(j, path, max).map((h, i) => jsonB58(h, `${path}[${i}]`, kind))
}

function keyToJson (k: OperationsKey): Json {
  return { hash: b58('blockHash', k.blockHash), validation_pass: k.validationPass }
}

function keyFromJson (j: unknown, path: string): OperationsKey {
  const f = new JsonFields(j, path)
  const k = {
    blockHash: jsonB58(f.get('hash'), f.at('hash'), 'blockHash'),
    validationPass: jsonInt(f.get('validation_pass'), f.at('validation_pass'), -128, 127)
  }
  f.done()
  return k
}

function peerToJson (m: PeerMessage): JsonObject {
  switch (m.tag) {
    case 'Disconnect':
    case 'Bootstrap':
      return { kind: m.tag }
    case 'Advertise':
      return { id: m.points, kind: 'Advertise' }
    case 'Swap_request':
    case 'Swap_ack':
      return { point: m.point, peer_id: b58('peerId', m.peerId), kind: m.tag }
  }
}

function ddbToJson (m: DistributedDbMessage): JsonObject {
  switch (m.tag) {
    case 'Get_current_branch': return { get_current_branch: chainIdToJson(m.chainId) }
    case 'Current_branch': return { chain_id: chainIdToJson(m.chainId), current_branch: blockLocatorJson.toJson(m.locator) }
    case 'Deactivate': return { deactivate: chainIdToJson(m.chainId) }
    case 'Get_current_head': return { get_current_head: chainIdToJson(m.chainId) }
    case 'Current_head':
      return { chain_id: chainIdToJson(m.chainId), current_block_header: blockHeaderJson.toJson(m.header), current_mempool: mempoolJson.toJson(m.mempool) }
    case 'Get_block_headers': return { get_block_headers: hashes('blockHash', m.blockHashes) }
    case 'Block_header': return { block_header: blockHeaderJson.toJson(m.header) }
    case 'Get_operations': return { get_operations: hashes('operationHash', m.operationHashes) }
    case 'Operation': return { operation: operationJson.toJson(m.operation) }
    case 'Get_protocols': return { get_protocols: hashes('protocolHash', m.protocolHashes) }
    case 'Protocol': return { protocol: protocolJson.toJson(m.protocol) }
    case 'Get_operations_for_blocks': return { get_operations_for_blocks: m.keys.map(keyToJson) }
    case 'Operations_for_blocks':
      return {
        operations_for_block: keyToJson(m),
        operation_hashes_path: merklePathJson.toJson(m.path),
        operations: m.operations.map(op => operationJson.toJson(op))
      }
    case 'Get_checkpoint': return { get_checkpoint: chainIdToJson(m.chainId) }
    case 'Checkpoint': return { checkpoint: { chain_id: chainIdToJson(m.chainId), header: blockHeaderJson.toJson(m.header) } }
    case 'Get_protocol_branch': return { get_protocol_branch: { chain: chainIdToJson(m.chainId), proto_level: m.protoLevel } }
    case 'Protocol_branch':
      return { protocol_branch: { chain: chainIdToJson(m.chainId), proto_level: m.protoLevel, locator: blockLocatorJson.toJson(m.locator) } }
    case 'Get_predecessor_header': return { get_predecessor_header: { block: b58('blockHash', m.blockHash), offset: m.offset } }
    case 'Predecessor_header':
      return { predecessor_header: { block: b58('blockHash', m.blockHash), offset: m.offset, header: blockHeaderJson.toJson(m.header) } }
  }
}

type Reader = (f: JsonFields) => P2pMessage

function inner (f: JsonFields, key: string): JsonFields {
  return new JsonFields(f.get(key), f.at(key))
}

/** Readers keyed by the field that identifies each case, tried in this order. */
const READERS: Array<[string, Reader]> = [
  ['kind', f => {
    const kind = jsonString(f.get('kind'), f.at('kind'))
    switch (kind) {
      case 'Disconnect':
      case 'Bootstrap':
        return { tag: kind }
      case 'Advertise':
        return { tag: 'Advertise', points: jsonArray(f.get('id'), f.at('id'), ADVERTISE_MAX_POINTS).map((p, i) => jsonString(p, `${f.at('id')}[${i}]`)) }
      case 'Swap_request':
      case 'Swap_ack':
        return { tag: kind, point: jsonString(f.get('point'), f.at('point')), peerId: jsonB58(f.get('peer_id'), f.at('peer_id'), 'peerId') }
      default:
        throw new WireJsonError(f.at('kind'), `unknown kind ${JSON.stringify(kind)} (Disconnect, Bootstrap, Advertise, Swap_request, Swap_ack)`)
    }
  }],
  ['get_current_branch', f => ({ tag: 'Get_current_branch', chainId: chainIdFromJson(f.get('get_current_branch'), f.at('get_current_branch')) })],
  ['current_branch', f => ({
    tag: 'Current_branch',
    chainId: chainIdFromJson(f.get('chain_id'), f.at('chain_id')),
    locator: blockLocatorJson.fromJson(f.get('current_branch'), f.at('current_branch'))
  })],
  ['deactivate', f => ({ tag: 'Deactivate', chainId: chainIdFromJson(f.get('deactivate'), f.at('deactivate')) })],
  ['get_current_head', f => ({ tag: 'Get_current_head', chainId: chainIdFromJson(f.get('get_current_head'), f.at('get_current_head')) })],
  ['current_block_header', f => ({
    tag: 'Current_head',
    chainId: chainIdFromJson(f.get('chain_id'), f.at('chain_id')),
    header: blockHeaderJson.fromJson(f.get('current_block_header'), f.at('current_block_header')),
    mempool: mempoolJson.fromJson(f.get('current_mempool'), f.at('current_mempool'))
  })],
  ['get_block_headers', f => ({ tag: 'Get_block_headers', blockHashes: hashesFrom('blockHash', f.get('get_block_headers'), f.at('get_block_headers'), DDB_MAX_KEYS_PER_REQUEST) })],
  ['block_header', f => ({ tag: 'Block_header', header: blockHeaderJson.fromJson(f.get('block_header'), f.at('block_header')) })],
  ['get_operations', f => ({ tag: 'Get_operations', operationHashes: hashesFrom('operationHash', f.get('get_operations'), f.at('get_operations'), DDB_MAX_KEYS_PER_REQUEST) })],
  ['operation', f => ({ tag: 'Operation', operation: operationJson.fromJson(f.get('operation'), f.at('operation')) })],
  ['get_protocols', f => ({ tag: 'Get_protocols', protocolHashes: hashesFrom('protocolHash', f.get('get_protocols'), f.at('get_protocols'), DDB_MAX_KEYS_PER_REQUEST) })],
  ['protocol', f => ({ tag: 'Protocol', protocol: protocolJson.fromJson(f.get('protocol'), f.at('protocol')) })],
  ['get_operations_for_blocks', f => ({
    tag: 'Get_operations_for_blocks',
    keys: jsonArray(f.get('get_operations_for_blocks'), f.at('get_operations_for_blocks'), DDB_MAX_KEYS_PER_REQUEST)
      .map((k, i) => keyFromJson(k, `${f.at('get_operations_for_blocks')}[${i}]`))
  })],
  ['operations_for_block', f => {
    const key = keyFromJson(f.get('operations_for_block'), f.at('operations_for_block'))
    return {
      tag: 'Operations_for_blocks',
      ...key,
      path: merklePathJson.fromJson(f.get('operation_hashes_path'), f.at('operation_hashes_path')),
      operations: jsonArray(f.get('operations'), f.at('operations')).map((op, i) => operationJson.fromJson(op, `${f.at('operations')}[${i}]`))
    }
  }],
  ['get_checkpoint', f => ({ tag: 'Get_checkpoint', chainId: chainIdFromJson(f.get('get_checkpoint'), f.at('get_checkpoint')) })],
  ['checkpoint', f => {
    const c = inner(f, 'checkpoint')
    const m: P2pMessage = { tag: 'Checkpoint', chainId: chainIdFromJson(c.get('chain_id'), c.at('chain_id')), header: blockHeaderJson.fromJson(c.get('header'), c.at('header')) }
    c.done()
    return m
  }],
  ['get_protocol_branch', f => {
    const g = inner(f, 'get_protocol_branch')
    const m: P2pMessage = { tag: 'Get_protocol_branch', chainId: chainIdFromJson(g.get('chain'), g.at('chain')), protoLevel: jsonInt(g.get('proto_level'), g.at('proto_level'), 0, 0xff) }
    g.done()
    return m
  }],
  ['protocol_branch', f => {
    const p = inner(f, 'protocol_branch')
    const m: P2pMessage = {
      tag: 'Protocol_branch',
      chainId: chainIdFromJson(p.get('chain'), p.at('chain')),
      protoLevel: jsonInt(p.get('proto_level'), p.at('proto_level'), 0, 0xff),
      locator: blockLocatorJson.fromJson(p.get('locator'), p.at('locator'))
    }
    p.done()
    return m
  }],
  ['get_predecessor_header', f => {
    const g = inner(f, 'get_predecessor_header')
    const m: P2pMessage = {
      tag: 'Get_predecessor_header',
      blockHash: jsonB58(g.get('block'), g.at('block'), 'blockHash'),
      offset: jsonInt(g.get('offset'), g.at('offset'), -0x80000000, 0x7fffffff)
    }
    g.done()
    return m
  }],
  ['predecessor_header', f => {
    const p = inner(f, 'predecessor_header')
    const m: P2pMessage = {
      tag: 'Predecessor_header',
      blockHash: jsonB58(p.get('block'), p.at('block'), 'blockHash'),
      offset: jsonInt(p.get('offset'), p.at('offset'), -0x80000000, 0x7fffffff),
      header: blockHeaderJson.fromJson(p.get('header'), p.at('header'))
    }
    p.done()
    return m
  }],
  ['block_push', f => {
    const b = inner(f, 'block_push')
    const enabled = b.get('enabled')
    if (typeof enabled !== 'boolean') throw new WireJsonError(b.at('enabled'), 'expected a boolean')
    const m: P2pMessage = { tag: 'Block_push', chainId: chainIdFromJson(b.get('chain_id'), b.at('chain_id')), enabled }
    b.done()
    return m
  }]
]

export const p2pMessageJson: JsonConverter<P2pMessage> = {
  toJson: m => {
    switch (m.tag) {
      case 'Disconnect': case 'Bootstrap': case 'Advertise': case 'Swap_request': case 'Swap_ack':
        return peerToJson(m)
      case 'Block_push':
        return { block_push: { chain_id: chainIdToJson(m.chainId), enabled: m.enabled } }
      default:
        return ddbToJson(m)
    }
  },
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const entry = READERS.find(([key]) => f.has(key))
    if (entry === undefined) {
      throw new WireJsonError(path, `not a P2P message: expected one of the fields ${READERS.map(([k]) => k).join(', ')}`)
    }
    const m = entry[1](f)
    f.done()
    return m
  }
}
