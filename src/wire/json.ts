/**
 * Octez-style JSON for the wire structures, as `octez-codec` prints them: base58check hashes
 * (`B…`, `o…`, `LLo…`, `Co…`, `P…`, `Net…`, `id…`), hex for raw bytes, RFC 3339 timestamps, fitness
 * as a list of hex strings, Octez's field names. Block headers and operations also carry their
 * `hash` (as Octez's RPCs show it); on input it is optional and, when given, must match.
 */
import { bytesEqual } from '../encoding/index.ts'
import { type AckMessage, NACK_MAX_POINTS, NACK_MOTIVE_CODES, nackMotiveOfCode, type KnownNackMotive } from './ack.ts'
import { blockHash, type BlockHeader, type ShellHeader } from './block-header.ts'
import type { ConnectionMessage, NetworkVersion } from './connection-message.ts'
import {
  JsonFields, WireJsonError, b58, hex, jsonArray, jsonB58, jsonBool, jsonHex, jsonInt, jsonString, jsonTimestamp,
  timestampToJson, type Json, type JsonObject
} from './json-values.ts'
import type { BlockLocator } from './locator.ts'
import { LOCATOR_MAX_HISTORY } from './locator.ts'
import type { Mempool } from './mempool.ts'
import { MERKLE_PATH_MAX_DEPTH, type MerklePath, type MerkleStep } from './merkle.ts'
import type { ConnectionMetadata } from './metadata.ts'
import { operationHash, type Operation } from './operation.ts'
import type { ProtocolComponent, ProtocolSources } from './protocol-sources.ts'
import { PUBLIC_KEY_BYTES, POW_STAMP_BYTES, MESSAGE_NONCE_BYTES } from './connection-message.ts'

export { WireJsonError, type Json, type JsonObject } from './json-values.ts'

/** Converts one structure to and from Octez-style JSON. `path` names the value in errors. */
export interface JsonConverter<T> {
  toJson: (value: T) => Json
  fromJson: (json: unknown, path?: string) => T
}

const UINT16 = 0xffff
const INT32_MIN = -0x80000000
const INT32_MAX = 0x7fffffff

export const networkVersionJson: JsonConverter<NetworkVersion> = {
  toJson: v => ({ chain_name: v.chainName, distributed_db_version: v.distributedDbVersion, p2p_version: v.p2pVersion }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const v = {
      chainName: jsonString(f.get('chain_name'), f.at('chain_name')),
      distributedDbVersion: jsonInt(f.get('distributed_db_version'), f.at('distributed_db_version'), 0, UINT16),
      p2pVersion: jsonInt(f.get('p2p_version'), f.at('p2p_version'), 0, UINT16)
    }
    f.done()
    return v
  }
}

export const connectionMessageJson: JsonConverter<ConnectionMessage> = {
  toJson: m => ({
    port: m.port,
    pubkey: hex(m.publicKey),
    proof_of_work_stamp: hex(m.proofOfWorkStamp),
    message_nonce: hex(m.messageNonce),
    version: networkVersionJson.toJson(m.version)
  }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const m = {
      port: jsonInt(f.get('port'), f.at('port'), 0, UINT16),
      publicKey: jsonHex(f.get('pubkey'), f.at('pubkey'), PUBLIC_KEY_BYTES),
      proofOfWorkStamp: jsonHex(f.get('proof_of_work_stamp'), f.at('proof_of_work_stamp'), POW_STAMP_BYTES),
      messageNonce: jsonHex(f.get('message_nonce'), f.at('message_nonce'), MESSAGE_NONCE_BYTES),
      version: networkVersionJson.fromJson(f.get('version'), f.at('version'))
    }
    f.done()
    return m
  }
}

export const connectionMetadataJson: JsonConverter<ConnectionMetadata> = {
  toJson: m => ({ disable_mempool: m.disableMempool, private_node: m.privateNode }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const m = {
      disableMempool: jsonBool(f.get('disable_mempool'), f.at('disable_mempool')),
      privateNode: jsonBool(f.get('private_node'), f.at('private_node'))
    }
    f.done()
    return m
  }
}

/** Ack `{"ack":{}}`, `{"nack_v_0":{}}`, Nack `{"nack_motive": name or code, "nack_list": [points]}`. */
export const ackJson: JsonConverter<AckMessage> = {
  toJson: (m): Json => {
    switch (m.tag) {
      case 'Ack': return { ack: {} }
      case 'Nack_v_0': return { nack_v_0: {} }
      case 'Nack': return { nack_motive: typeof m.motive === 'string' ? m.motive : m.motive.unknown, nack_list: m.points }
    }
  },
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    let m: AckMessage
    if (f.has('ack')) {
      new JsonFields(f.get('ack'), f.at('ack')).done()
      m = { tag: 'Ack' }
    } else if (f.has('nack_v_0')) {
      new JsonFields(f.get('nack_v_0'), f.at('nack_v_0')).done()
      m = { tag: 'Nack_v_0' }
    } else {
      const raw = f.get('nack_motive')
      const motive = typeof raw === 'string' && Object.hasOwn(NACK_MOTIVE_CODES, raw)
        ? raw as KnownNackMotive
        : nackMotiveOfCode(jsonInt(raw, f.at('nack_motive'), -0x8000, 0x7fff))
      const points = jsonArray(f.get('nack_list'), f.at('nack_list'), NACK_MAX_POINTS).map((p, i) => jsonString(p, `${f.at('nack_list')}[${i}]`))
      m = { tag: 'Nack', motive, points }
    }
    f.done()
    return m
  }
}

export const fitnessJson: JsonConverter<Uint8Array[]> = {
  toJson: f => f.map(hex),
  fromJson: (j, path = '$') => jsonArray(j, path).map((e, i) => jsonHex(e, `${path}[${i}]`))
}

function shellToJson (s: ShellHeader): JsonObject {
  return {
    level: s.level,
    proto: s.proto,
    predecessor: b58('blockHash', s.predecessor),
    timestamp: timestampToJson(s.timestamp),
    validation_pass: s.validationPass,
    operations_hash: b58('operationListListHash', s.operationsHash),
    fitness: fitnessJson.toJson(s.fitness),
    context: b58('contextHash', s.context)
  }
}

function shellFromFields (f: JsonFields): ShellHeader {
  return {
    level: jsonInt(f.get('level'), f.at('level'), INT32_MIN, INT32_MAX),
    proto: jsonInt(f.get('proto'), f.at('proto'), 0, 0xff),
    predecessor: jsonB58(f.get('predecessor'), f.at('predecessor'), 'blockHash'),
    timestamp: jsonTimestamp(f.get('timestamp'), f.at('timestamp')),
    validationPass: jsonInt(f.get('validation_pass'), f.at('validation_pass'), 0, 0xff),
    operationsHash: jsonB58(f.get('operations_hash'), f.at('operations_hash'), 'operationListListHash'),
    fitness: fitnessJson.fromJson(f.get('fitness'), f.at('fitness')),
    context: jsonB58(f.get('context'), f.at('context'), 'contextHash')
  }
}

export const shellHeaderJson: JsonConverter<ShellHeader> = {
  toJson: shellToJson,
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const s = shellFromFields(f)
    f.done()
    return s
  }
}

/** A derived `hash` field: optional on input, and it must be the hash of what was given. */
function checkHash (f: JsonFields, kind: 'blockHash' | 'operationHash', actual: Uint8Array): void {
  const given = f.opt('hash')
  if (given === undefined) return
  if (!bytesEqual(jsonB58(given, f.at('hash'), kind), actual)) {
    throw new WireJsonError(f.at('hash'), `does not match the content, whose hash is ${b58(kind, actual)} (the field is computed: fix it or leave it out)`)
  }
}

export const blockHeaderJson: JsonConverter<BlockHeader> = {
  toJson: h => ({ hash: b58('blockHash', blockHash(h)), ...shellToJson(h.shell), protocol_data: hex(h.protocolData) }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const h = { shell: shellFromFields(f), protocolData: jsonHex(f.get('protocol_data'), f.at('protocol_data')) }
    checkHash(f, 'blockHash', blockHash(h))
    f.done()
    return h
  }
}

export const operationJson: JsonConverter<Operation> = {
  toJson: op => ({ hash: b58('operationHash', operationHash(op)), branch: b58('blockHash', op.branch), data: hex(op.data) }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const op = { branch: jsonB58(f.get('branch'), f.at('branch'), 'blockHash'), data: jsonHex(f.get('data'), f.at('data')) }
    checkHash(f, 'operationHash', operationHash(op))
    f.done()
    return op
  }
}

function hashListFromJson (j: unknown, path: string, kind: 'blockHash' | 'operationHash' | 'protocolHash', max?: number): Uint8Array[] {
  return jsonArray(j, path, max).map((h, i) => jsonB58(h, `${path}[${i}]`, kind))
}

export const mempoolJson: JsonConverter<Mempool> = {
  toJson: m => ({ known_valid: m.knownValid.map(h => b58('operationHash', h)), pending: m.pending.map(h => b58('operationHash', h)) }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const m = {
      knownValid: hashListFromJson(f.get('known_valid'), f.at('known_valid'), 'operationHash'),
      pending: hashListFromJson(f.get('pending'), f.at('pending'), 'operationHash')
    }
    f.done()
    return m
  }
}

/** Octez's nested form: Left `{"path": …, "right": "LLo…"}`, Right `{"left": "LLo…", "path": …}`, Op `{}`. */
export const merklePathJson: JsonConverter<MerklePath> = {
  toJson: path => {
    let j: JsonObject = {}
    for (let i = path.length - 1; i >= 0; i--) {
      const s = b58('operationListListHash', path[i].sibling)
      j = path[i].side === 'Left' ? { path: j, right: s } : { left: s, path: j }
    }
    return j
  },
  fromJson: (j, path = '$') => {
    const steps: MerkleStep[] = []
    let at = path
    let f = new JsonFields(j, at)
    while (f.has('path')) {
      if (steps.length >= MERKLE_PATH_MAX_DEPTH) throw new WireJsonError(at, `deeper than ${MERKLE_PATH_MAX_DEPTH} levels`)
      if (f.has('right')) {
        steps.push({ side: 'Left', sibling: jsonB58(f.get('right'), f.at('right'), 'operationListListHash') })
      } else {
        steps.push({ side: 'Right', sibling: jsonB58(f.get('left'), f.at('left'), 'operationListListHash') })
      }
      const inner = f.get('path')
      f.done()
      at = `${at}.path`
      f = new JsonFields(inner, at)
    }
    f.done()
    return steps
  }
}

export const blockLocatorJson: JsonConverter<BlockLocator> = {
  toJson: l => ({ current_head: blockHeaderJson.toJson(l.headHeader), history: l.history.map(h => b58('blockHash', h)) }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const l = {
      headHeader: blockHeaderJson.fromJson(f.get('current_head'), f.at('current_head')),
      history: hashListFromJson(f.get('history'), f.at('history'), 'blockHash', LOCATOR_MAX_HISTORY)
    }
    f.done()
    return l
  }
}

export const protocolJson: JsonConverter<ProtocolSources> = {
  toJson: p => ({
    expected_env_version: p.expectedEnvVersion,
    components: p.components.map((c): Json => c.interface === undefined
      ? { name: c.name, implementation: c.implementation }
      : { name: c.name, interface: c.interface, implementation: c.implementation })
  }),
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const expectedEnvVersion = jsonInt(f.get('expected_env_version'), f.at('expected_env_version'), 0, UINT16)
    const components = jsonArray(f.get('components'), f.at('components')).map((c, i): ProtocolComponent => {
      const cf = new JsonFields(c, `${f.at('components')}[${i}]`)
      const name = jsonString(cf.get('name'), cf.at('name'))
      const iface = cf.opt('interface')
      const implementation = jsonString(cf.get('implementation'), cf.at('implementation'))
      cf.done()
      return iface === undefined ? { name, implementation } : { name, interface: jsonString(iface, cf.at('interface')), implementation }
    })
    f.done()
    return { expectedEnvVersion, components }
  }
}

export function chainIdToJson (id: Uint8Array): string {
  return b58('chainId', id)
}

export function chainIdFromJson (j: unknown, path: string): Uint8Array {
  return jsonB58(j, path, 'chainId')
}

