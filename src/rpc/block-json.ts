import { b58Encode } from '../crypto/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { StoredHeader } from '../chain/store.ts'
import { blockHeaderJson, chainIdToJson, type JsonObject } from '../wire/json.ts'
import { operationHash, type Operation } from '../wire/operation.ts'
import { toHex } from '../encoding/index.ts'

/**
 * Blocks and operations as the chain RPCs show them: Octez's layout (`protocol`, `chain_id`,
 * `hash`, the shell header fields, `operations` per validation pass) with tzp2p's pluggable
 * protocol described by the protocol itself (`describeProtocolData`, `describeOperation`).
 */

export function headerJson (chain: ChainReader, h: StoredHeader): JsonObject {
  const shellAndData = blockHeaderJson.toJson(h.header) as JsonObject
  return {
    // The protocol this block runs (by its protocol level), as Octez's `protocol` field.
    protocol: (chain.protocolOfHeader(h.header) ?? chain.protocol).hash,
    chain_id: chainIdToJson(chain.genesis.chainId),
    ...shellAndData,
    // The stored hash: genesis is a configured constant, not the hash of its synthetic header.
    hash: b58Encode('blockHash', h.hash)
  }
}

/** `/monitor/heads` lines: the header without `protocol`/`chain_id`, as Octez streams them. */
export function monitorHeadJson (h: StoredHeader): JsonObject {
  return { ...(blockHeaderJson.toJson(h.header) as JsonObject), hash: b58Encode('blockHash', h.hash) }
}

export function operationJson (chain: ChainReader, op: Operation, hash = operationHash(op)): JsonObject {
  return {
    protocol: chain.protocol.hash,
    chain_id: chainIdToJson(chain.genesis.chainId),
    hash: b58Encode('operationHash', hash),
    branch: b58Encode('blockHash', op.branch),
    data: toHex(op.data),
    contents: chain.protocol.describeOperation(op) as JsonObject
  }
}

export async function blockOperations (chain: ChainReader, h: StoredHeader): Promise<Operation[][]> {
  // Genesis carries no operations; every other block has one (possibly empty) list per pass.
  const passes = h.header.shell.level === 0 ? 0 : h.header.shell.validationPass
  const lists: Operation[][] = []
  for (let pass = 0; pass < passes; pass++) lists.push(await chain.getOperations(h.hash, pass) ?? [])
  return lists
}

export async function blockJson (chain: ChainReader, h: StoredHeader): Promise<JsonObject> {
  const header = headerJson(chain, h)
  const { protocol, chain_id: chainId, hash, ...shell } = header
  const operations = await blockOperations(chain, h)
  return {
    protocol,
    chain_id: chainId,
    hash,
    header: shell,
    metadata: h.header.shell.level === 0
      ? genesisMetadataJson(chain)
      : { protocol_data: (chain.protocolOfHeader(h.header) ?? chain.protocol).describeProtocolData(h.header) as JsonObject },
    operations: operations.map(pass => pass.map(op => operationJson(chain, op)))
  }
}

/**
 * The genesis block's metadata. Genesis is a configured constant with no protocol data for a
 * protocol to describe; Octez shows only the shell's part of a block's metadata for it
 * (`genesis_block_metadata_encoding`, src/lib_shell_services/block_services.ml): the protocol,
 * the one that validates the next block, and an operations TTL of 0. Octez's test-chain status
 * and size quotas have no counterpart here.
 */
function genesisMetadataJson (chain: ChainReader): JsonObject {
  return {
    protocol: chain.genesis.protocol,
    // Level 1 runs the first protocol level's protocol; with only genesis stored, the next one.
    next_protocol: (chain.protocolLevels[0] ?? chain.nextProtocolLevel).protocol,
    max_operations_ttl: 0
  }
}
