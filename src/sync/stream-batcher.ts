import { bytesEqual, toHex } from '../encoding/index.ts'
import { blockHash } from '../wire/block-header.ts'
import { operationHash } from '../wire/operation.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import type { SyncRequest } from './answers.ts'
import { InvalidAnswerError } from './checks.ts'

/**
 * Shares one sync stream (or one batch on the sync channel, protocols/sync.md §2.1) among the
 * requests sent to the same peer in the same event-loop turn.
 *
 * Every request keeps Octez's bounds (≤ 10 keys); what is shared is the stream: opening one costs
 * a protocol negotiation round trip, a peer-store update and half a dozen muxer frames on each
 * side, which dominated a bootstrap's cost when every 10 keys had a stream of their own. A stream
 * carries at most `SYNC_MAX_REQUESTS_PER_STREAM` request messages of one kind; the answers, which
 * name their keys, are handed back to the request that asked for them.
 */
export interface StreamBatcherInit {
  /** Sends request messages on one new stream and returns the answers (checked for kind and count). */
  exchange: (peer: string, requests: SyncRequest[]) => Promise<P2pMessage[]>
  /** Most request messages of this kind on one stream. */
  maxPerStream: (tag: SyncRequest['tag']) => number
}

interface Waiting {
  requests: readonly SyncRequest[]
  result: PromiseWithResolvers<P2pMessage[]>
}

interface Batch {
  peer: string
  waiting: Waiting[]
  messages: number
}

/**
 * `toHex` for the block hashes of one batch's Get_predecessor_header requests and answers: they name
 * a few blocks (one per chunk of 10 offsets) over and over, so each run of the same hash is
 * converted once.
 */
export function blockHexOfRuns (): (hash: Uint8Array) => string {
  let last: Uint8Array | undefined
  let lastHex = ''
  return hash => {
    if (last === undefined || (last !== hash && !bytesEqual(last, hash))) {
      last = hash
      lastHex = toHex(hash)
    }
    return lastHex
  }
}

/** The keys a request names, in the form `answerKey` gives its answers. */
export function requestKeys (r: SyncRequest, blockHex: (hash: Uint8Array) => string = toHex): string[] {
  switch (r.tag) {
    case 'Get_block_headers': return r.blockHashes.map(toHex)
    case 'Get_operations': return r.operationHashes.map(toHex)
    case 'Get_operations_for_blocks': return r.keys.map(k => `${toHex(k.blockHash)}:${k.validationPass}`)
    case 'Get_predecessor_header': return [`${blockHex(r.blockHash)}:${r.offset}`]
    default: return [r.tag]
  }
}

export function answerKey (m: P2pMessage, blockHex: (hash: Uint8Array) => string = toHex): string {
  switch (m.tag) {
    case 'Block_header': return toHex(blockHash(m.header))
    case 'Operation': return toHex(operationHash(m.operation))
    case 'Operations_for_blocks': return `${toHex(m.blockHash)}:${m.validationPass}`
    case 'Predecessor_header': return `${blockHex(m.blockHash)}:${m.offset}`
    case 'Current_branch': return 'Get_current_branch'
    case 'Current_head': return 'Get_current_head'
    case 'Checkpoint': return 'Get_checkpoint'
    default: return m.tag
  }
}

export class StreamBatcher {
  private readonly init: StreamBatcherInit
  private readonly open = new Map<string, Batch>()

  constructor (init: StreamBatcherInit) {
    this.init = init
  }

  async request (peer: string, requests: readonly SyncRequest[]): Promise<P2pMessage[]> {
    const tag = requests[0].tag
    const max = this.init.maxPerStream(tag)
    const id = `${peer}\u0000${tag}`
    let batch = this.open.get(id)
    if (batch !== undefined && batch.messages + requests.length > max) {
      this.flush(id, batch)
      batch = undefined
    }
    if (batch === undefined) {
      const fresh: Batch = { peer, waiting: [], messages: 0 }
      this.open.set(id, fresh)
      // Flushed after the turn's I/O callbacks, not after the current one: answers read together
      // (one socket read carries frames of several streams) each free a request slot, and the
      // requests refilling those slots then share one stream instead of opening one each.
      setImmediate(() => { if (this.open.get(id) === fresh) this.flush(id, fresh) })
      batch = fresh
    }
    const waiting: Waiting = { requests, result: Promise.withResolvers() }
    batch.waiting.push(waiting)
    batch.messages += requests.length
    return await waiting.result.promise
  }

  private flush (id: string, batch: Batch): void {
    this.open.delete(id)
    const owner = new Map<string, Waiting>()
    const blockHex = blockHexOfRuns()
    for (const w of batch.waiting) for (const r of w.requests) for (const k of requestKeys(r, blockHex)) owner.set(k, w)
    const answers = new Map<Waiting, P2pMessage[]>(batch.waiting.map(w => [w, []]))
    this.init.exchange(batch.peer, batch.waiting.flatMap(w => [...w.requests])).then(messages => {
      for (const m of messages) {
        const key = answerKey(m, blockHex)
        const w = owner.get(key)
        if (w === undefined) throw new InvalidAnswerError(batch.peer, `answered ${m.tag} for ${key}, which was not requested`)
        answers.get(w)?.push(m)
      }
      for (const w of batch.waiting) w.result.resolve(answers.get(w) ?? [])
    }).catch((err: unknown) => {
      for (const w of batch.waiting) w.result.reject(err)
    })
  }
}
