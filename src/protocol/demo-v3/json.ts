import type { Codec } from '../../encoding/index.ts'
import { blockHeaderJson, type JsonConverter } from '../../wire/json.ts'
import { b58, hex, jsonB58, jsonHex, jsonInt, jsonString, JsonFields, WireJsonError, type Json, type JsonObject } from '../../wire/json-values.ts'
import { decodeBlockData, encodeBlockData, type BlockData } from './block-data.ts'
import {
  ACTIVATION_SECRET_BYTES, NONCE_BYTES, decodeOperationData, encodeOperationData, isSigned,
  type Contents, type ContractId, type InlinedEndorsement, type ManagerFields, type OperationData
} from './encoding.ts'

/**
 * Octez-style JSON of demo v3 operation data and block protocol data (field names of the Tezos RPC
 * for protocols 005–011), for `tzp2p codec`, the RPC and logs. Amounts are decimal strings.
 */

const INT32_MAX = 0x7fffffff

function amountToJson (v: bigint): string {
  return v.toString()
}

function jsonAmount (v: unknown, path: string): bigint {
  const s = jsonString(v, path)
  if (!/^-?\d+$/.test(s)) throw new WireJsonError(path, `expected a decimal integer string, got ${JSON.stringify(s)}`)
  const n = BigInt(s)
  if (n < -(1n << 63n) || n >= 1n << 63n) throw new WireJsonError(path, `${s} is outside int64`)
  return n
}

export function contractToJson (c: ContractId): string {
  return c.kind === 'implicit' ? b58('ed25519PublicKeyHash', c.pkh) : b58('contractHash', c.hash)
}

function jsonContract (v: unknown, path: string): ContractId {
  const s = jsonString(v, path)
  if (s.startsWith('KT1')) return { kind: 'originated', hash: jsonB58(s, path, 'contractHash') }
  return { kind: 'implicit', pkh: jsonB58(s, path, 'ed25519PublicKeyHash') }
}

function inlinedToJson (e: InlinedEndorsement): JsonObject {
  return {
    branch: b58('blockHash', e.branch),
    operations: { kind: 'endorsement', level: e.endorsement.level, slot: e.endorsement.slot },
    signature: b58('ed25519Signature', e.signature)
  }
}

function jsonInlined (v: unknown, path: string): InlinedEndorsement {
  const f = new JsonFields(v, path)
  const branch = jsonB58(f.get('branch'), f.at('branch'), 'blockHash')
  const o = new JsonFields(f.get('operations'), f.at('operations'))
  if (o.get('kind') !== 'endorsement') throw new WireJsonError(o.at('kind'), 'evidence inlines an endorsement')
  const endorsement = { kind: 'endorsement' as const, level: jsonInt(o.get('level'), o.at('level'), 0, INT32_MAX), slot: jsonInt(o.get('slot'), o.at('slot'), 0, 0xffff) }
  o.done()
  const signature = jsonB58(f.get('signature'), f.at('signature'), 'ed25519Signature')
  f.done()
  return { branch, endorsement, signature }
}

function managerToJson (m: ManagerFields): JsonObject {
  return {
    source: b58('ed25519PublicKeyHash', m.source),
    fee: amountToJson(m.fee),
    counter: amountToJson(m.counter),
    gas_limit: amountToJson(m.gasLimit),
    storage_limit: amountToJson(m.storageLimit)
  }
}

function jsonManager (f: JsonFields): ManagerFields {
  return {
    source: jsonB58(f.get('source'), f.at('source'), 'ed25519PublicKeyHash'),
    fee: jsonAmount(f.get('fee'), f.at('fee')),
    counter: jsonAmount(f.get('counter'), f.at('counter')),
    gasLimit: jsonAmount(f.get('gas_limit'), f.at('gas_limit')),
    storageLimit: jsonAmount(f.get('storage_limit'), f.at('storage_limit'))
  }
}

export function contentsToJson (c: Contents): JsonObject {
  switch (c.kind) {
    case 'endorsement': return { kind: c.kind, level: c.level, slot: c.slot }
    case 'seed_nonce_revelation': return { kind: c.kind, level: c.level, nonce: hex(c.nonce) }
    case 'double_endorsement_evidence': return { kind: c.kind, op1: inlinedToJson(c.op1), op2: inlinedToJson(c.op2) }
    case 'double_baking_evidence': return { kind: c.kind, bh1: blockHeaderJson.toJson(c.bh1), bh2: blockHeaderJson.toJson(c.bh2) }
    case 'activate_account': return { kind: c.kind, pkh: b58('ed25519PublicKeyHash', c.pkh), secret: hex(c.secret) }
    case 'reveal': return { kind: c.kind, ...managerToJson(c), public_key: b58('ed25519PublicKey', c.publicKey) }
    case 'transaction': return { kind: c.kind, ...managerToJson(c), amount: amountToJson(c.amount), destination: contractToJson(c.destination) }
    case 'origination':
      return { kind: c.kind, ...managerToJson(c), balance: amountToJson(c.balance), ...(c.delegate === undefined ? {} : { delegate: b58('ed25519PublicKeyHash', c.delegate) }) }
    case 'delegation':
      return { kind: c.kind, ...managerToJson(c), ...(c.delegate === undefined ? {} : { delegate: b58('ed25519PublicKeyHash', c.delegate) }) }
  }
}

function optionalDelegate (f: JsonFields): { delegate?: Uint8Array } {
  const d = f.opt('delegate')
  return d === undefined ? {} : { delegate: jsonB58(d, f.at('delegate'), 'ed25519PublicKeyHash') }
}

export function contentsFromJson (v: unknown, path: string): Contents {
  const f = new JsonFields(v, path)
  const kind = jsonString(f.get('kind'), f.at('kind'))
  let c: Contents
  switch (kind) {
    case 'endorsement':
      c = { kind, level: jsonInt(f.get('level'), f.at('level'), 0, INT32_MAX), slot: jsonInt(f.get('slot'), f.at('slot'), 0, 0xffff) }
      break
    case 'seed_nonce_revelation':
      c = { kind, level: jsonInt(f.get('level'), f.at('level'), 0, INT32_MAX), nonce: jsonHex(f.get('nonce'), f.at('nonce'), NONCE_BYTES) }
      break
    case 'double_endorsement_evidence':
      c = { kind, op1: jsonInlined(f.get('op1'), f.at('op1')), op2: jsonInlined(f.get('op2'), f.at('op2')) }
      break
    case 'double_baking_evidence':
      c = { kind, bh1: blockHeaderJson.fromJson(f.get('bh1'), f.at('bh1')), bh2: blockHeaderJson.fromJson(f.get('bh2'), f.at('bh2')) }
      break
    case 'activate_account':
      c = { kind, pkh: jsonB58(f.get('pkh'), f.at('pkh'), 'ed25519PublicKeyHash'), secret: jsonHex(f.get('secret'), f.at('secret'), ACTIVATION_SECRET_BYTES) }
      break
    case 'reveal':
      c = { kind, ...jsonManager(f), publicKey: jsonB58(f.get('public_key'), f.at('public_key'), 'ed25519PublicKey') }
      break
    case 'transaction':
      c = { kind, ...jsonManager(f), amount: jsonAmount(f.get('amount'), f.at('amount')), destination: jsonContract(f.get('destination'), f.at('destination')) }
      break
    case 'origination':
      c = { kind, ...jsonManager(f), balance: jsonAmount(f.get('balance'), f.at('balance')), ...optionalDelegate(f) }
      break
    case 'delegation':
      c = { kind, ...jsonManager(f), ...optionalDelegate(f) }
      break
    default:
      throw new WireJsonError(f.at('kind'), `unknown demo v3 operation kind ${JSON.stringify(kind)}`)
  }
  f.done()
  return c
}

export function operationDataToJson (d: OperationData): Json {
  return { contents: contentsToJson(d.contents), ...(d.signature === undefined ? {} : { signature: b58('ed25519Signature', d.signature) }) }
}

export const operationDataJson: JsonConverter<OperationData> = {
  toJson: operationDataToJson,
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const contents = contentsFromJson(f.get('contents'), f.at('contents'))
    const sig = isSigned(contents) ? f.get('signature') : undefined
    f.done()
    return { contents, ...(sig === undefined ? {} : { signature: jsonB58(sig, f.at('signature'), 'ed25519Signature') }) }
  }
}

/** `demo_v3.operation_data` as a whole-buffer codec (the data of an Octez operation after its branch). */
export const operationDataCodec: Codec<OperationData> = {
  name: 'demo_v3.operation_data',
  encode: (w, d) => { w.raw(encodeOperationData(d)) },
  decode: r => decodeOperationData(r.rest('demo_v3.operation_data'))
}

export function blockDataToJson (d: BlockData): JsonObject {
  return {
    priority: d.priority,
    proof_of_work_nonce: hex(d.powNonce),
    ...(d.seedNonceHash === undefined ? {} : { seed_nonce_hash: hex(d.seedNonceHash) }),
    ...(d.nextProtocol === undefined ? {} : { next_protocol: b58('protocolHash', d.nextProtocol) }),
    signature: b58('ed25519Signature', d.signature)
  }
}

export const blockDataJson: JsonConverter<BlockData> = {
  toJson: blockDataToJson,
  fromJson: (j, path = '$') => {
    const f = new JsonFields(j, path)
    const seed = f.opt('seed_nonce_hash')
    const next = f.opt('next_protocol')
    const d: BlockData = {
      priority: jsonInt(f.get('priority'), f.at('priority'), 0, 0xffff),
      powNonce: jsonHex(f.get('proof_of_work_nonce'), f.at('proof_of_work_nonce'), 8),
      ...(seed === undefined ? {} : { seedNonceHash: jsonHex(seed, f.at('seed_nonce_hash'), 32) }),
      ...(next === undefined ? {} : { nextProtocol: jsonB58(next, f.at('next_protocol'), 'protocolHash') }),
      signature: jsonB58(f.get('signature'), f.at('signature'), 'ed25519Signature')
    }
    f.done()
    return d
  }
}

/** `demo_v3.block_header.protocol_data` as a whole-buffer codec. */
export const blockDataCodec: Codec<BlockData> = {
  name: 'demo_v3.block_header.protocol_data',
  encode: (w, d) => { w.raw(encodeBlockData(d)) },
  decode: r => decodeBlockData(r.rest('demo_v3.block_header.protocol_data'))
}
