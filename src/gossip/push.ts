import type { Logger } from 'pino'
import { BoundedCache } from '../chain/cache.ts'
import type { StoredHeader } from '../chain/store.ts'
import type { NetworkPeer } from '../peer/index.ts'
import { PUSH_CHOICE_WINDOW, PUSH_MAX_BYTES, type GossipChannelRequest } from './definitions.ts'

/** Answers requests as the sync responder does (`GossipInit.answer`). */
export type GossipAnswer = (peer: NetworkPeer, requests: readonly GossipChannelRequest[], options?: { throttle?: boolean }) => Promise<Uint8Array[]>

/** A change of the peer asked to push: stop the old one, start the new one (either may be absent). */
export interface PushSwitch {
  stop?: string
  start?: string
}

/**
 * Which peer a node asks to push it block operations (`protocols/gossip.md` §4.6): the peer that
 * announced the most of the latest `PUSH_CHOICE_WINDOW` new blocks first, among those that can
 * push. Its pushes then arrive with the announcement the node acts on, and spare the round trip of
 * a fetch; asking one peer only keeps the bytes of a block's operations to one copy per node, as a
 * fetch does. The choice moves when another peer has been first clearly more often (by 2), so two
 * peers that are about as fast do not make it flip at every block.
 */
export class PushChoice {
  private readonly seen = new BoundedCache<string, true>(1024)
  private readonly firsts: string[] = []
  private current: string | undefined

  /**
   * A block announced by `peer`: counted if no other peer announced it before. `capable` says
   * whether a peer can push now (connected, on gossip 1.1.0). Returns the switch to make, if any.
   */
  announced (blockHex: string, peer: string, capable: (peer: string) => boolean): PushSwitch | undefined {
    if (this.seen.has(blockHex)) return undefined
    this.seen.set(blockHex, true)
    this.firsts.push(peer)
    if (this.firsts.length > PUSH_CHOICE_WINDOW) this.firsts.shift()
    const counts = new Map<string, number>()
    for (const p of this.firsts) if (capable(p)) counts.set(p, (counts.get(p) ?? 0) + 1)
    let best: string | undefined
    let bestCount = 0
    for (const [p, n] of counts) if (n > bestCount) { best = p; bestCount = n }
    const current = this.current !== undefined && capable(this.current) ? this.current : undefined
    if (best === undefined || best === current) return undefined
    if (current !== undefined && bestCount < (counts.get(current) ?? 0) + 2) return undefined
    this.current = best
    return current === undefined ? { start: best } : { stop: current, start: best }
  }

  /** The pusher is gone: the next announcement picks another. */
  peerGone (peer: string): void {
    if (this.current === peer) this.current = undefined
  }
}

/**
 * The answers to Get_operations_for_blocks for every pass of `head`, to push (§4.6): none if the
 * block has more passes than one request holds, or its answers exceed `PUSH_MAX_BYTES`.
 */
export async function blockPushEnvelopes (answer: GossipAnswer | undefined, peer: NetworkPeer, head: StoredHeader, log: Logger): Promise<Uint8Array[]> {
  const passes = head.header.shell.validationPass
  if (answer === undefined || passes === 0 || passes > 10) return []
  const keys = Array.from({ length: passes }, (_, validationPass) => ({ blockHash: head.hash, validationPass }))
  try {
    // Not charged to the peer's request rate: it asked for nothing.
    const answers = await answer(peer, [{ tag: 'Get_operations_for_blocks', keys }], { throttle: false })
    let bytes = 0
    for (const a of answers) bytes += a.length
    return answers.length === passes && bytes <= PUSH_MAX_BYTES ? answers : []
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'block operations to push could not be read')
    return []
  }
}

/**
 * When a new block's first Current_head came from a peer other than the one asked to push (§4.6),
 * how long after it the pusher's push and the operations fetched on the gossip stream arrived
 * (benchmarks, metrics): the time a node spends waiting on a fetch its push might have spared.
 */
export class PushTiming {
  private readonly firsts = new BoundedCache<string, { at: number, pushedAt?: number, answered: boolean }>(256)
  readonly stats = {
    firstFromPusher: 0,
    firstFromOther: 0,
    pushAfterOther: 0,
    pushAfterOtherMs: 0,
    answerAfterOther: 0,
    answerAfterOtherMs: 0,
    pushBeforeAnswer: 0
  }

  /** A Current_head naming a new block: `fromPusher` if its sender is the peer asked to push (or its push is in hand). */
  announced (blockHex: string, fromPusher: boolean): void {
    const at = performance.now()
    if (this.firsts.has(blockHex)) return
    if (fromPusher) this.stats.firstFromPusher++
    else this.stats.firstFromOther++
    this.firsts.set(blockHex, { at, answered: fromPusher })
  }

  /** Pushed operations of `blockHex` arrived from the pusher. */
  pushed (blockHex: string): void {
    const at = performance.now()
    const f = this.firsts.get(blockHex)
    if (f === undefined || f.answered || f.pushedAt !== undefined) return
    f.pushedAt = at
    this.stats.pushAfterOther++
    this.stats.pushAfterOtherMs += at - f.at
  }

  /** Operations of `blockHex` fetched on a gossip stream arrived. */
  answered (blockHex: string): void {
    const at = performance.now()
    const f = this.firsts.get(blockHex)
    if (f === undefined || f.answered) return
    f.answered = true
    this.stats.answerAfterOther++
    this.stats.answerAfterOtherMs += at - f.at
    if (f.pushedAt !== undefined) this.stats.pushBeforeAnswer++
  }
}
