import { bytesEqual, toHex } from '../encoding/index.ts'
import { Requester, type FetchOptions } from '../gossip/requester.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import { operationsHashOfPasses } from '../wire/merkle.ts'
import type { Operation } from '../wire/operation.ts'
import type { HashedHeader, OperationsKeyCheck } from './checks.ts'
import { operationsKeyId, type SyncClient } from './client.ts'
import { DATA_REQUESTS_PER_STREAM } from './definitions.ts'
import { DDB_MAX_KEYS_PER_REQUEST } from '../wire/ddb-messages.ts'
import { ancestorChunkId, checkAncestorChunk, type AncestorChunk } from './step-headers.ts'

/**
 * The node's requesters over the sync client, one per kind of object (Octez keeps one per
 * table): headers by hash, chunks of ancestors, operations per validation pass, mempool
 * operations. Answers are checked in the request functions, so a requester only ever resolves
 * with verified data; a peer whose answer fails a check is reported to the peer policy (`report`).
 */
export interface FetchersInit {
  client: SyncClient
  peers: () => string[]
  /**
   * Peers asked for ranges of ancestors (Get_predecessor_header); default `peers`. Octez-wire peers
   * are left out: Octez answers one Get_predecessor_header per 10 s (`src/lib_shell/p2p_reader.ml`).
   */
  rangePeers?: () => string[]
  report: ReportPeer
  /** A request that failed through nobody's fault (a timeout, a closed stream). */
  onError?: (peer: string, error: Error) => void
  /** Per-key deadline of block data (headers, operations), ms (default 60 s). */
  blockDataTimeoutMs?: number
  /** Per-key deadline of mempool operations, ms (default 10 s). */
  mempoolTimeoutMs?: number
}

export class Fetchers {
  readonly headers: Requester<Uint8Array, HashedHeader>
  readonly ancestors: Requester<AncestorChunk, HashedHeader[]>
  readonly blockOperations: Requester<OperationsKeyCheck, Operation[]>
  readonly mempoolOperations: Requester<Uint8Array, Operation>
  /** Accepted answers (keys) per peer: who the node actually fetched from. */
  readonly acceptedFrom = new Map<string, number>()

  constructor (init: FetchersInit) {
    const counted = <V>(peer: string, answers: Map<string, V>): Map<string, V> => {
      if (answers.size > 0) this.acceptedFrom.set(peer, (this.acceptedFrom.get(peer) ?? 0) + answers.size)
      return answers
    }
    const onRequestError = (peer: string, error: Error): void => {
      const kind = misbehaviourOf(error)
      if (kind !== undefined) init.report({ tezosPeerId: peer }, kind, `wrong answer: ${error.message}`)
      else init.onError?.(peer, error)
    }
    const blockTimeout = init.blockDataTimeoutMs ?? 60_000
    const common = { peers: init.peers, onRequestError, timeoutMs: blockTimeout }
    this.headers = new Requester({
      ...common,
      name: 'block header',
      keyId: toHex,
      request: async (peer, hashes, signal) => counted(peer, await init.client.blockHeaders(peer, hashes, signal))
    })
    this.ancestors = new Requester({
      ...common,
      peers: init.rangePeers ?? init.peers,
      name: 'ancestor headers',
      keyId: ancestorChunkId,
      // One chunk is already 10 keys on the wire (10 Get_predecessor_header envelopes).
      maxKeysPerRequest: 1,
      maxInFlightPerPeer: 8,
      request: async (peer, [chunk], signal) => {
        const offsets = Array.from({ length: chunk.count }, (_, i) => chunk.first + i)
        const got = await init.client.predecessorHeaders(peer, chunk.top, offsets, signal)
        if (got.size < chunk.count) return new Map<string, HashedHeader[]>()
        const headers = offsets.map(o => got.get(o) as HashedHeader)
        checkAncestorChunk(peer, chunk, headers)
        return counted(peer, new Map([[ancestorChunkId(chunk), headers]]))
      }
    })
    this.blockOperations = new Requester({
      ...common,
      name: 'block operations',
      keyId: k => operationsKeyId(k.blockHash, k.validationPass),
      maxInFlightPerPeer: 8,
      // Octez waits 1 s before re-asking for operations_for_blocks.
      initialDelayMs: 1000,
      request: async (peer, keys, signal) => counted(peer, await init.client.operationsForBlocks(peer, keys, signal))
    })
    this.mempoolOperations = new Requester({
      ...common,
      timeoutMs: init.mempoolTimeoutMs ?? 10_000,
      name: 'operation',
      // The unknown hashes of one announcement go to its peer in one request (several
      // Get_operations of 10 in one write), as Octez's requester gathers the keys it asks a peer.
      maxKeysPerRequest: DDB_MAX_KEYS_PER_REQUEST * DATA_REQUESTS_PER_STREAM,
      keyId: toHex,
      request: async (peer, hashes, signal) => counted(peer, await init.client.operations(peer, hashes, signal))
    })
  }

  /**
   * A block's operations, every pass in parallel. A block whose operations_hash is that of empty
   * passes has nothing to fetch: its (empty) operations are checked here against the header, as
   * an answer would be, and the request round trips are saved.
   */
  async operationsOf (header: HashedHeader, options: FetchOptions = {}): Promise<Operation[][]> {
    const passes = header.header.shell.validationPass
    if (isEmptyOperationsHash(header.header.shell.operationsHash, passes)) return Array.from({ length: passes }, () => [])
    const operationsHash = header.header.shell.operationsHash
    // One pass (the demo chains, and any single-pass protocol): no array of promises to gather.
    if (passes === 1) return [(await this.blockOperations.fetch({ blockHash: header.hash, validationPass: 0, operationsHash }, options)).value]
    const fetches: Array<Promise<Operation[]>> = []
    for (let pass = 0; pass < passes; pass++) {
      fetches.push(this.blockOperations.fetch({ blockHash: header.hash, validationPass: pass, operationsHash }, options).then(r => r.value))
    }
    return await Promise.all(fetches)
  }

  /**
   * A peer that pushed a block's operations announced it while they were being fetched from
   * another: it is asked too, and answers from what it pushed (`protocols/gossip.md` §4.6).
   */
  hedgeOperationsOf (header: HashedHeader, peer: string): void {
    const passes = header.header.shell.validationPass
    for (let pass = 0; pass < passes; pass++) {
      this.blockOperations.hedge({ blockHash: header.hash, validationPass: pass, operationsHash: header.header.shell.operationsHash }, peer)
    }
  }

  peersChanged (): void {
    for (const r of this.all()) r.peersChanged()
  }

  stop (): void {
    for (const r of this.all()) r.stop()
  }

  private all (): Array<{ peersChanged: () => void, stop: () => void }> {
    return [this.headers, this.ancestors, this.blockOperations, this.mempoolOperations]
  }
}

/** operations_hash of a block with `passes` empty validation passes, by pass count (at most 256 entries). */
const emptyOperationsHashes = new Map<number, Uint8Array>()

/** Whether `operationsHash` is the Merkle root of `passes` empty operation lists. */
export function isEmptyOperationsHash (operationsHash: Uint8Array, passes: number): boolean {
  let empty = emptyOperationsHashes.get(passes)
  if (empty === undefined) {
    empty = operationsHashOfPasses(Array.from({ length: passes }, () => []))
    emptyOperationsHashes.set(passes, empty)
  }
  return bytesEqual(operationsHash, empty)
}
