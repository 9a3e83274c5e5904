import { bytesEqual, toHex } from '../encoding/index.ts'
import type { NetworkPeer } from '../peer/index.ts'
import type { BlockLocator } from '../wire/locator.ts'
import type { Mempool as WireMempool } from '../wire/mempool.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import { operationCodec, operationHashOfBytes, type Operation } from '../wire/operation.ts'
import { encode } from '../encoding/index.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import { protocolHash, type ProtocolSources } from '../wire/protocol-sources.ts'
import type { SyncRequest } from './answers.ts'
import { checkOperationsAnswer, hashHeader, InvalidAnswerError, type HashedHeader, type OperationsKeyCheck } from './checks.ts'
import { SYNC_ANSWER_TIMEOUT_MS, SYNC_REQUESTS } from './definitions.ts'
import { StreamBatcher } from './stream-batcher.ts'
import { DDB_MAX_KEYS_PER_REQUEST } from '../wire/ddb-messages.ts'

/**
 * The requesting side of the Distributed-DB requests, over any wire (`NetworkPeer.request`: on
 * libp2p a batch on the peer's sync channel or a stream per exchange, answers matched by key on
 * Octez's wire), every answer checked.
 * Methods return what was answered and correct; missing keys are simply absent (the requester
 * asks someone else), a wrong answer throws `InvalidAnswerError` naming the peer.
 */
export interface SyncClientInit {
  chainId: Uint8Array
  /** A connected peer by Tezos peer id. */
  peer: (tezosPeerId: string) => NetworkPeer | undefined
  answerTimeoutMs?: number
}

/** A request to a peer that is not connected (any more). */
export class PeerNotConnectedError extends Error {
  override readonly name = 'PeerNotConnectedError'
}

export class SyncClient {
  private readonly init: SyncClientInit
  private readonly batcher: StreamBatcher
  /** `exchanges`: one per `request` sent on the peer's wire (on libp2p a sync stream, a batch on the sync channel, or a request on the gossip stream); `requests`: request messages sent. */
  readonly stats = { exchanges: 0, requests: 0, answers: 0 }

  constructor (init: SyncClientInit) {
    this.init = init
    this.batcher = new StreamBatcher({
      exchange: async (peer, requests) => await this.exchange(peer, requests),
      maxPerStream: tag => SYNC_REQUESTS[tag].maxRequestMessages
    })
  }

  /**
   * Sends `requests` (of one kind) and returns their answers. Data requests sent to the same peer
   * in the same event-loop turn share a stream (`StreamBatcher`); the others get a stream each.
   */
  async request (peer: string, requests: readonly SyncRequest[], signal?: AbortSignal): Promise<P2pMessage[]> {
    if (BATCHED.has(requests[0].tag)) return await this.batcher.request(peer, requests)
    return await this.exchange(peer, requests, signal)
  }

  /**
   * Sends request messages to the peer on its wire and collects the answers until the peer is done
   * or `signal` fires (what arrived by then is kept).
   */
  private async exchange (peer: string, requests: readonly SyncRequest[], signal?: AbortSignal): Promise<P2pMessage[]> {
    const kind = SYNC_REQUESTS[requests[0].tag]
    const deadline = signal ?? AbortSignal.timeout(this.init.answerTimeoutMs ?? SYNC_ANSWER_TIMEOUT_MS)
    const target = this.init.peer(peer)
    if (target === undefined) throw new PeerNotConnectedError(`peer ${peer} is not connected`)
    this.stats.exchanges++
    this.stats.requests += requests.length
    const answers = await target.request(requests, kind, deadline)
    this.stats.answers += answers.length
    return answers
  }

  /** Block headers by hash; each must hash to a requested block. Keyed by hex hash. */
  async blockHeaders (peer: string, hashes: readonly Uint8Array[], signal?: AbortSignal): Promise<Map<string, HashedHeader>> {
    const wanted = new Set(hashes.map(toHex))
    const out = new Map<string, HashedHeader>()
    for (const m of await this.request(peer, [{ tag: 'Get_block_headers', blockHashes: [...hashes] }], signal)) {
      const h = hashHeader((m as Extract<P2pMessage, { tag: 'Block_header' }>).header)
      if (!wanted.has(h.hex) || out.has(h.hex)) throw new InvalidAnswerError(peer, `answered block header ${h.hex}, which was not requested`, 'unrequested-data')
      out.set(h.hex, h)
    }
    return out
  }

  /**
   * Ancestors of `block` at `offsets` (Get_predecessor_header, one envelope per offset). Keyed by
   * offset; each answer must name the requested block and offset. Their chaining is checked by
   * the caller, which knows the levels.
   */
  async predecessorHeaders (peer: string, block: Uint8Array, offsets: readonly number[], signal?: AbortSignal): Promise<Map<number, HashedHeader>> {
    const wanted = new Set(offsets)
    const out = new Map<number, HashedHeader>()
    const requests: SyncRequest[] = offsets.map(offset => ({ tag: 'Get_predecessor_header', blockHash: block, offset }))
    for (const m of await this.request(peer, requests, signal)) {
      const a = m as Extract<P2pMessage, { tag: 'Predecessor_header' }>
      if (!bytesEqual(a.blockHash, block) || !wanted.has(a.offset) || out.has(a.offset)) {
        throw new InvalidAnswerError(peer, `answered predecessor header (${toHex(a.blockHash)}, ${a.offset}), which was not requested`, 'unrequested-data')
      }
      out.set(a.offset, hashHeader(a.header))
    }
    return out
  }

  /** Operations per validation pass, checked against each block's operations_hash. Keyed by `operationsKeyId`. */
  async operationsForBlocks (peer: string, keys: readonly OperationsKeyCheck[], signal?: AbortSignal): Promise<Map<string, Operation[]>> {
    const byId = new Map(keys.map(k => [operationsKeyId(k.blockHash, k.validationPass), k]))
    const out = new Map<string, Operation[]>()
    const request: SyncRequest = { tag: 'Get_operations_for_blocks', keys: keys.map(k => ({ blockHash: k.blockHash, validationPass: k.validationPass })) }
    for (const m of await this.request(peer, [request], signal)) {
      const a = m as Extract<P2pMessage, { tag: 'Operations_for_blocks' }>
      const id = operationsKeyId(a.blockHash, a.validationPass)
      const key = byId.get(id)
      if (key === undefined || out.has(id)) throw new InvalidAnswerError(peer, `answered operations ${id}, which were not requested`, 'unrequested-data')
      checkOperationsAnswer(peer, key, a.path, a.operations)
      out.set(id, a.operations)
    }
    return out
  }

  /**
   * Mempool operations by hash; each must hash to a requested one. Keyed by hex hash. More hashes
   * than one message holds go as several Get_operations of at most 10 (Octez's bound) in one
   * request, as Octez's requester splits the keys it asks one peer for.
   */
  async operations (peer: string, hashes: readonly Uint8Array[], signal?: AbortSignal): Promise<Map<string, Operation>> {
    const wanted = new Set(hashes.map(toHex))
    const out = new Map<string, Operation>()
    const requests: SyncRequest[] = []
    for (let i = 0; i < hashes.length; i += DDB_MAX_KEYS_PER_REQUEST) requests.push({ tag: 'Get_operations', operationHashes: hashes.slice(i, i + DDB_MAX_KEYS_PER_REQUEST) })
    for (const m of await this.request(peer, requests, signal)) {
      const op = (m as Extract<P2pMessage, { tag: 'Operation' }>).operation
      const hex = toHex(operationHashOfBytes(encode(operationCodec, op)))
      if (!wanted.has(hex) || out.has(hex)) throw new InvalidAnswerError(peer, `answered operation ${hex}, which was not requested`, 'unrequested-data')
      out.set(hex, op)
    }
    return out
  }

  /** Protocols by hash (Get_protocols); each must hash to a requested one. Keyed by hex hash. */
  async protocols (peer: string, hashes: readonly Uint8Array[], signal?: AbortSignal): Promise<Map<string, ProtocolSources>> {
    const wanted = new Set(hashes.map(toHex))
    const out = new Map<string, ProtocolSources>()
    for (const m of await this.request(peer, [{ tag: 'Get_protocols', protocolHashes: [...hashes] }], signal)) {
      const sources = (m as Extract<P2pMessage, { tag: 'Protocol' }>).protocol
      const hex = toHex(protocolHash(sources))
      if (!wanted.has(hex) || out.has(hex)) throw new InvalidAnswerError(peer, `answered protocol ${hex}, which was not requested`, 'unrequested-data')
      out.set(hex, sources)
    }
    return out
  }

  async currentBranch (peer: string, signal?: AbortSignal): Promise<BlockLocator | undefined> {
    const [a] = await this.request(peer, [{ tag: 'Get_current_branch', chainId: this.init.chainId }], signal)
    if (a === undefined) return undefined
    const m = a as Extract<P2pMessage, { tag: 'Current_branch' }>
    if (!bytesEqual(m.chainId, this.init.chainId)) throw new InvalidAnswerError(peer, 'answered Current_branch for another chain', 'useless-answer')
    return m.locator
  }

  async currentHead (peer: string, signal?: AbortSignal): Promise<{ header: BlockHeader, mempool: WireMempool } | undefined> {
    const [a] = await this.request(peer, [{ tag: 'Get_current_head', chainId: this.init.chainId }], signal)
    if (a === undefined) return undefined
    const m = a as Extract<P2pMessage, { tag: 'Current_head' }>
    if (!bytesEqual(m.chainId, this.init.chainId)) throw new InvalidAnswerError(peer, 'answered Current_head for another chain', 'useless-answer')
    return { header: m.header, mempool: m.mempool }
  }

  async checkpoint (peer: string, signal?: AbortSignal): Promise<BlockHeader | undefined> {
    const [a] = await this.request(peer, [{ tag: 'Get_checkpoint', chainId: this.init.chainId }], signal)
    if (a === undefined) return undefined
    const m = a as Extract<P2pMessage, { tag: 'Checkpoint' }>
    if (!bytesEqual(m.chainId, this.init.chainId)) throw new InvalidAnswerError(peer, 'answered Checkpoint for another chain', 'useless-answer')
    return m.header
  }
}

const BATCHED = new Set<SyncRequest['tag']>(['Get_block_headers', 'Get_operations', 'Get_operations_for_blocks', 'Get_predecessor_header'])

/** `<hex block hash>:<pass>`: the identity of one Get_operations_for_blocks key. */
export function operationsKeyId (blockHash: Uint8Array, pass: number): string {
  return `${toHex(blockHash)}:${pass}`
}
