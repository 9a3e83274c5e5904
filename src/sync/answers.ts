import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, toHex } from '../encoding/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import { currentBranchFor, peerIdBytes } from '../gossip/branch.ts'
import { MEMPOOL_MAX_OPERATIONS } from '../wire/mempool.ts'
import { merklePath, merklePathBytes, writeOperationsHashPath } from '../wire/merkle.ts'
import type { Operation } from '../wire/operation.ts'
import { encodeP2pMessage, p2pMessageCode, type P2pMessage } from '../wire/p2p-message.ts'
import type { SyncRequestTag } from './definitions.ts'

/**
 * The responder's side of `/tzp2p/sync/1.0.0`: the answer envelopes for one request, read from
 * the store. Headers and operation lists are sent as stored (they are kept in their wire
 * encodings), so answering costs a lookup and a copy, not a decode and re-encode.
 */
export interface AnswerSource {
  chain: ChainReader
  /** Our Tezos peer id (locator seeds). */
  tezosPeerId: string
  /** Mempool lookups for Get_operations and Current_head; absent: nothing to offer. */
  mempool?: { get: (hash: Uint8Array) => Operation | undefined, hashes: () => Uint8Array[] }
}

export type SyncRequest = Extract<P2pMessage, { tag: SyncRequestTag }>

const BLOCK_HEADER_TAG = p2pMessageCode('Block_header')
const PREDECESSOR_HEADER_TAG = p2pMessageCode('Predecessor_header')
const OPERATIONS_FOR_BLOCKS_TAG = p2pMessageCode('Operations_for_blocks')

/** How one peer is answered: `emptyMempool` for a peer that announced `disable_mempool`. */
export interface AnswerOptions {
  emptyMempool?: boolean
}

/** Answers for `requests` (all of one kind, from peer `to`); unknown keys yield nothing. */
export async function answersFor (source: AnswerSource, to: string, requests: readonly SyncRequest[], options: AnswerOptions = {}): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  const chainId = source.chain.genesis.chainId
  for (const request of requests) {
    switch (request.tag) {
      case 'Get_current_branch': {
        if (!bytesEqual(request.chainId, chainId)) break
        const locator = await currentBranchFor(source.chain, { senderId: peerIdBytes(source.tezosPeerId), receiverId: peerIdBytes(to) })
        out.push(encodeP2pMessage({ tag: 'Current_branch', chainId, locator }))
        break
      }
      case 'Get_current_head': {
        if (!bytesEqual(request.chainId, chainId)) break
        const knownValid = options.emptyMempool === true ? [] : (source.mempool?.hashes() ?? []).slice(0, MEMPOOL_MAX_OPERATIONS)
        out.push(encodeP2pMessage({ tag: 'Current_head', chainId, header: source.chain.head.header, mempool: { knownValid, pending: [] } }))
        break
      }
      case 'Get_checkpoint': {
        if (!bytesEqual(request.chainId, chainId)) break
        const checkpoint = await source.chain.getHeader(source.chain.checkpoint.hash)
        if (checkpoint !== undefined) out.push(encodeP2pMessage({ tag: 'Checkpoint', chainId, header: checkpoint.header }))
        break
      }
      case 'Get_block_headers':
      case 'Get_predecessor_header':
      case 'Get_operations_for_blocks':
        // Handled below, all of a batch's keys at once: one set of store reads per batch.
        break
      case 'Get_protocols': {
        // Installed protocols with a manifest, in the Octez `Protocol` encoding (others: no answer).
        for (const hash of request.protocolHashes) {
          const protocol = source.chain.registry.sourcesOf(b58Encode('protocolHash', hash))
          if (protocol !== undefined) out.push(encodeP2pMessage({ tag: 'Protocol', protocol }))
        }
        break
      }
      case 'Get_operations': {
        for (const hash of request.operationHashes) {
          const op = source.mempool?.get(hash)
          if (op !== undefined) out.push(encodeP2pMessage({ tag: 'Operation', operation: op }))
        }
        break
      }
    }
  }
  const kind = requests[0]?.tag
  if (kind === 'Get_block_headers') {
    const hashes = requests.flatMap(r => r.tag === 'Get_block_headers' ? r.blockHashes : [])
    for (const bytes of await source.chain.getHeaderBytes(hashes)) {
      if (bytes !== undefined) out.push(headerEnvelope(BLOCK_HEADER_TAG, undefined, 0, bytes))
    }
  } else if (kind === 'Get_operations_for_blocks') {
    const keys = requests.flatMap(r => r.tag === 'Get_operations_for_blocks' ? r.keys : [])
    const passes = await source.chain.getOperationPasses(keys.map(k => ({ hash: k.blockHash, pass: k.validationPass })))
    keys.forEach((key, i) => {
      const p = passes[i]
      if (p !== undefined) out.push(operationsForBlock(key.blockHash, key.validationPass, p.listHashes, p.encoded))
    })
  } else if (kind === 'Get_predecessor_header') {
    const ancestry = requests.filter((r): r is Extract<SyncRequest, { tag: 'Get_predecessor_header' }> => r.tag === 'Get_predecessor_header' && r.offset >= 0)
    out.push(...await predecessorHeaders(source.chain, ancestry))
  }
  return out
}

/** Predecessor_header answers, the offsets of all the blocks named looked up together. */
async function predecessorHeaders (chain: ChainReader, requests: ReadonlyArray<{ blockHash: Uint8Array, offset: number }>): Promise<Uint8Array[]> {
  const byBlock = new Map<string, { hash: Uint8Array, offsets: number[], requests: Array<{ blockHash: Uint8Array, offset: number }> }>()
  // A batch's requests come in runs naming one block: its hex is computed once per run.
  let group: { hash: Uint8Array, offsets: number[], requests: Array<{ blockHash: Uint8Array, offset: number }> } | undefined
  for (const r of requests) {
    if (group === undefined || !bytesEqual(group.hash, r.blockHash)) {
      const hex = toHex(r.blockHash)
      group = byBlock.get(hex)
      if (group === undefined) byBlock.set(hex, group = { hash: r.blockHash, offsets: [], requests: [] })
    }
    group.offsets.push(r.offset)
    group.requests.push(r)
  }
  const groups = [...byBlock.values()]
  const found = await chain.getAncestorBytesOfMany(groups.map(g => ({ hash: g.hash, distances: g.offsets })))
  const out: Uint8Array[] = []
  groups.forEach((g, i) => {
    g.requests.forEach((r, j) => {
      const bytes = found[i][j]
      if (bytes !== undefined) out.push(headerEnvelope(PREDECESSOR_HEADER_TAG, r.blockHash, r.offset, bytes))
    })
  })
  return out
}

/**
 * A buffer for one answer envelope, every byte of which the caller writes. Taken from Node's
 * buffer pool when small (answers are copied into the stream's writes and dropped): a
 * `new Uint8Array` of that size would get a backing store of its own, allocated and freed per
 * answer.
 */
function envelopeBuffer (size: number): { out: Uint8Array, view: DataView } {
  const out = Buffer.allocUnsafe(size)
  return { out, view: new DataView(out.buffer, out.byteOffset, out.byteLength) }
}

/**
 * A Block_header (no `block`) or Predecessor_header (block hash ‖ offset) envelope around stored
 * header bytes, written in place: one copy of the header.
 */
function headerEnvelope (tag: number, block: Uint8Array | undefined, offset: number, header: Uint8Array): Uint8Array {
  const key = block === undefined ? 0 : 36
  const { out, view } = envelopeBuffer(4 + 2 + key + header.length)
  view.setUint32(0, 2 + key + header.length)
  view.setUint16(4, tag)
  if (block !== undefined) {
    out.set(block, 6)
    view.setInt32(38, offset)
  }
  out.set(header, 6 + key)
  return out
}

/** Operations_for_blocks for one pass: hash ‖ pass ‖ Merkle path ‖ the pass's stored operation list. */
function operationsForBlock (hash: Uint8Array, pass: number, listHashes: Uint8Array[], list: Uint8Array): Uint8Array {
  const path = merklePath(listHashes, pass)
  // Written in place, length prefix and Merkle path included: the list copied once.
  const { out, view } = envelopeBuffer(4 + 2 + 33 + merklePathBytes(path) + list.length)
  view.setUint32(0, out.length - 4)
  view.setUint16(4, OPERATIONS_FOR_BLOCKS_TAG)
  out.set(hash, 6)
  view.setInt8(38, pass)
  out.set(list, writeOperationsHashPath(out, 39, path))
  return out
}
