import assert from 'node:assert/strict'
import type { ProtocolManifest } from '../../src/protocol/manifest.ts'

/**
 * The RPC's JSON answers as the tests read them, and fetch helpers that give a parsed body its
 * type. Only the fields tests read are named. The server builds these answers in
 * src/rpc/block-json.ts, src/rpc/chain-routes.ts and src/rpc/protocol-routes.ts; the `/network/*`
 * and `/health` shapes are the server's own types (src/rpc/network-json.ts,
 * src/rpc/metrics-routes.ts), and error answers are `RpcErrorBody` (src/rpc/errors.ts).
 */

/** The shell fields of a block header, in Octez's `block_header` JSON (src/wire/json.ts). */
export interface ShellHeaderJson {
  level: number
  proto: number
  predecessor: string
  timestamp: string
  validation_pass: number
}

/** `/chains/main/blocks/<id>/header`: the header with its hash, chain and protocol. */
export interface HeaderJson extends ShellHeaderJson {
  protocol: string
  chain_id: string
  hash: string
}

/** One line of `/monitor/heads`: the header without `protocol` and `chain_id`, as Octez streams it. */
export type MonitorHeadJson = Omit<HeaderJson, 'protocol' | 'chain_id'>

/** An operation as the chain RPCs show it; `contents` is what the protocol says of it. */
export interface OperationJson {
  protocol: string
  hash: string
  branch: string
  data: string
  contents: Record<string, unknown>
}

/** The demo protocol's description of a block's protocol data (src/protocol/demo/index.ts). */
export interface DemoProtocolDataJson {
  baker: string
  signature: string
  /** The protocol the block activates, when it activates one. */
  next_protocol?: string
}

/** `/chains/main/blocks/<id>` for a block above genesis, run by the demo protocol. */
export interface BlockJson {
  protocol: string
  chain_id: string
  hash: string
  header: ShellHeaderJson
  metadata: { protocol_data: DemoProtocolDataJson }
  operations: OperationJson[][]
}

/** `/chains/main/blocks/genesis`: the shell's part of the metadata only, as Octez shows genesis. */
export interface GenesisBlockJson extends Omit<BlockJson, 'metadata'> {
  metadata: { protocol: string, next_protocol: string, max_operations_ttl: number }
}

/** `/chains/main/mempool/pending_operations`; `unprocessed` only for the shell protocol. */
export interface PendingOperationsJson {
  validated: OperationJson[]
  unprocessed?: Array<OperationJson & { validated: boolean }>
}

/** One protocol level of `/chains/main/protocols`. */
export interface ProtocolLevelJson {
  protocol: string
  proto_level: number
  /** The activating block: its hash (null when not stored) and level. */
  activation_block: [string | null, number]
  first_level: number
  installed: boolean
  name?: string
  state: string
}

/** The record of a protocol blocks need and this node does not have. */
export interface MissingProtocolJson {
  protocol: string
  proto_level: number
  first_level: number
  state: string
  since: string
  manifest?: ProtocolManifest
  reason?: string
}

/** `/protocols/<hash>`. */
export interface ProtocolJson {
  hash: string
  installed: boolean
  name?: string
  expected_env_version?: number
  manifest?: ProtocolManifest
  proto_level?: number
  first_level?: number
  missing?: MissingProtocolJson
}

/** An answer of any status: the status and the parsed body. */
export interface JsonAnswer<T> {
  status: number
  body: T
}

/**
 * Sends a request and parses the answer whatever its status; an empty body gives `undefined`
 * (name `T` accordingly). `T` is what the caller expects the RPC to answer: not checked here.
 */
export async function requestJson<T> (url: string, init?: RequestInit): Promise<JsonAnswer<T>> {
  const response = await fetch(url, init)
  const text = await response.text()
  const body: unknown = text === '' ? undefined : JSON.parse(text)
  return { status: response.status, body: body as T }
}

/** GETs `url`, asserting a 200 answer (the message names the URL, the status and the body), and parses it. */
export async function getJson<T> (url: string): Promise<T> {
  const response = await fetch(url)
  const text = await response.text()
  assert.equal(response.status, 200, `${url}: ${response.status} ${text}`)
  return JSON.parse(text) as T
}
