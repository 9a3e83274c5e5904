import { BoundedCache } from '../chain/cache.ts'
import { toHex } from '../encoding/index.ts'
import { blockHash } from '../wire/block-header.ts'
import { operationHash } from '../wire/operation.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import { protocolHash } from '../wire/protocol-sources.ts'

/** The key of the answer for one validation pass of a block (Operations_for_blocks). */
export function operationsAnswerKey (blockHash: Uint8Array, validationPass: number): string {
  return `Operations_for_blocks:${toHex(blockHash)}:${validationPass}`
}

/**
 * The key an answer is matched by, or undefined for a message that answers nothing. On Octez's
 * wire one connection carries everything and has no stream end (`src/lib_shell/p2p_reader.ml`
 * hands each answer to the requester of its table by key), so the key is all that ties an answer
 * to its request: block hash, (block hash, validation pass), (block hash, offset), operation
 * hash, protocol hash, or the chain for Current_branch / Current_head / Checkpoint.
 */
export function answerKey (m: P2pMessage): string | undefined {
  switch (m.tag) {
    case 'Block_header': return `Block_header:${toHex(blockHash(m.header))}`
    case 'Operation': return `Operation:${toHex(operationHash(m.operation))}`
    case 'Protocol': return `Protocol:${toHex(protocolHash(m.protocol))}`
    case 'Operations_for_blocks': return operationsAnswerKey(m.blockHash, m.validationPass)
    case 'Predecessor_header': return `Predecessor_header:${toHex(m.blockHash)}:${m.offset}`
    case 'Current_branch':
    case 'Current_head':
    case 'Checkpoint': return `${m.tag}:${toHex(m.chainId)}`
    case 'Protocol_branch': return `Protocol_branch:${toHex(m.chainId)}:${m.protoLevel}`
    default: return undefined
  }
}

/** The keys of the answers a request asks for (see `answerKey`). */
export function requestKeys (r: P2pMessage): string[] {
  switch (r.tag) {
    case 'Get_block_headers': return r.blockHashes.map(h => `Block_header:${toHex(h)}`)
    case 'Get_operations': return r.operationHashes.map(h => `Operation:${toHex(h)}`)
    case 'Get_protocols': return r.protocolHashes.map(h => `Protocol:${toHex(h)}`)
    case 'Get_operations_for_blocks': return r.keys.map(k => operationsAnswerKey(k.blockHash, k.validationPass))
    case 'Get_predecessor_header': return [`Predecessor_header:${toHex(r.blockHash)}:${r.offset}`]
    case 'Get_current_branch': return [`Current_branch:${toHex(r.chainId)}`]
    case 'Get_current_head': return [`Current_head:${toHex(r.chainId)}`]
    case 'Get_checkpoint': return [`Checkpoint:${toHex(r.chainId)}`]
    case 'Get_protocol_branch': return [`Protocol_branch:${toHex(r.chainId)}:${r.protoLevel}`]
    default: return []
  }
}

/** What became of an incoming answer. */
export type Delivery = 'delivered' | 'late' | 'unrequested'

interface Waiting {
  remaining: Set<string>
  answers: P2pMessage[]
  done: () => void
}

/** Keys whose request ended unanswered are remembered this many at a time: their late answers are no fault. */
const EXPIRED_KEYS = 4096

/**
 * Requests whose answers come back on a channel without a per-request end, matched by key as
 * Octez's requester matches them (`src/lib_shell/p2p_reader.ml` hands each answer to its table
 * by key): an Octez-wire connection, and the gossip streams of a libp2p connection
 * (`protocols/gossip.md` §4.5). Several
 * requests wait at once; an answer goes to every request waiting for its key.
 */
export class KeyedAnswers {
  private readonly waiting = new Map<string, Set<Waiting>>()
  /**
   * Made on first use, like `ended`: every connected peer has a `KeyedAnswers`, and a peer it
   * never asks anything costs the node no more than this object (docs/profiles.md, "bench:peers:
   * one listener table per event target").
   */
  private expired: BoundedCache<string, true> | undefined
  private ended: PromiseWithResolvers<void> | undefined
  private closed = false

  /** Requests waiting now (tests, metrics). */
  get pending (): number {
    const all = new Set<Waiting>()
    for (const set of this.waiting.values()) for (const w of set) all.add(w)
    return all.size
  }

  /**
   * Registers `requests`, runs `send` (which writes them), and resolves with the answers that
   * arrived before every key was answered, `signal` fired or the channel ended.
   */
  async request (requests: readonly P2pMessage[], send: () => Promise<void>, signal: AbortSignal): Promise<P2pMessage[]> {
    const keys = [...new Set(requests.flatMap(requestKeys))]
    const waiting: Waiting = { remaining: new Set(keys), answers: [], done: () => {} }
    const finished = new Promise<void>(resolve => { waiting.done = resolve })
    for (const key of keys) {
      let set = this.waiting.get(key)
      if (set === undefined) this.waiting.set(key, set = new Set())
      set.add(waiting)
    }
    const onAbort = (): void => { waiting.done() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await send()
      if (keys.length > 0 && !signal.aborted && !this.closed) await Promise.race([finished, (this.ended ??= Promise.withResolvers<void>()).promise])
    } finally {
      signal.removeEventListener('abort', onAbort)
      for (const key of waiting.remaining) {
        const set = this.waiting.get(key)
        set?.delete(waiting)
        if (set?.size === 0) {
          this.waiting.delete(key)
          this.expired ??= new BoundedCache<string, true>(EXPIRED_KEYS)
          this.expired.set(key, true)
        }
      }
    }
    return waiting.answers
  }

  /** Hands an incoming answer to the requests waiting for its key. */
  deliver (message: P2pMessage): Delivery {
    const key = answerKey(message)
    if (key === undefined) return 'unrequested'
    const set = this.waiting.get(key)
    if (set !== undefined && set.size > 0) {
      this.waiting.delete(key)
      for (const w of set) {
        w.answers.push(message)
        w.remaining.delete(key)
        if (w.remaining.size === 0) w.done()
      }
      return 'delivered'
    }
    if (this.expired?.get(key) !== undefined) {
      this.expired.delete(key)
      return 'late'
    }
    return 'unrequested'
  }

  /** Whether a request waits for this answer's key now. */
  awaits (message: P2pMessage): boolean {
    const key = answerKey(message)
    return key !== undefined && (this.waiting.get(key)?.size ?? 0) > 0
  }

  /** The channel is gone: every waiting request returns what it has. */
  close (): void {
    this.closed = true
    this.ended?.resolve()
  }
}
