import { BoundedCache } from '../chain/cache.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import { octezAnswerKey, octezRequestKeys, type Delivery } from './octez-peer.ts'

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
 * by key): the gossip streams of a libp2p connection (`protocols/gossip.md` §4.5). Several
 * requests wait at once; an answer goes to every request waiting for its key.
 */
export class KeyedAnswers {
  private readonly waiting = new Map<string, Set<Waiting>>()
  private readonly expired = new BoundedCache<string, true>(EXPIRED_KEYS)
  private readonly ended = Promise.withResolvers<void>()
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
    const keys = [...new Set(requests.flatMap(octezRequestKeys))]
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
      if (keys.length > 0 && !signal.aborted && !this.closed) await Promise.race([finished, this.ended.promise])
    } finally {
      signal.removeEventListener('abort', onAbort)
      for (const key of waiting.remaining) {
        const set = this.waiting.get(key)
        set?.delete(waiting)
        if (set?.size === 0) {
          this.waiting.delete(key)
          this.expired.set(key, true)
        }
      }
    }
    return waiting.answers
  }

  /** Hands an incoming answer to the requests waiting for its key. */
  deliver (message: P2pMessage): Delivery {
    const key = octezAnswerKey(message)
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
    if (this.expired.get(key) !== undefined) {
      this.expired.delete(key)
      return 'late'
    }
    return 'unrequested'
  }

  /** The channel is gone: every waiting request returns what it has. */
  close (): void {
    this.closed = true
    this.ended.resolve()
  }
}
