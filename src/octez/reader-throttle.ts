import type { P2pMessageTag } from '../wire/p2p-message.ts'

/**
 * Octez's per-connection throttle of incoming messages (`make_throttle_state` in
 * `src/lib_shell/p2p_reader.ml`): per message kind, at most `threshold` messages in a window of
 * `windowMs`; one beyond makes the reader sleep `cooldownMs` before handling it (so a flooding peer
 * slows only its own connection), and Get_protocols beyond its rate is dropped after the sleep.
 * Kinds absent from the table (headers, operations and their requests, Current_head) are not
 * throttled: they come in bursts during a bootstrap.
 */
export interface WindowThrottle {
  threshold: number
  windowMs: number
  cooldownMs: number
}

const EVERY_4_S: WindowThrottle = { threshold: 1, windowMs: 4000, cooldownMs: 4000 }
/** Octez's `unused_entry`: messages its shell no longer sends, one per 10 s. */
const UNUSED: WindowThrottle = { threshold: 1, windowMs: 10_000, cooldownMs: 10_000 }

export const OCTEZ_READER_THROTTLES: Readonly<Partial<Record<P2pMessageTag, WindowThrottle>>> = {
  Get_current_branch: EVERY_4_S,
  Current_branch: EVERY_4_S,
  Get_current_head: EVERY_4_S,
  Deactivate: EVERY_4_S,
  Get_protocols: { threshold: 1, windowMs: 10_000, cooldownMs: 10_000 },
  Protocol: { threshold: 1, windowMs: 1000, cooldownMs: 1000 },
  Get_checkpoint: UNUSED,
  Checkpoint: UNUSED,
  Get_predecessor_header: UNUSED,
  Predecessor_header: UNUSED,
  Get_protocol_branch: UNUSED,
  Protocol_branch: UNUSED
}

interface Window {
  count: number
  start: number
}

/** One connection's throttle state. */
export class ReaderThrottle {
  private readonly table: Readonly<Partial<Record<P2pMessageTag, WindowThrottle>>>
  private readonly windows = new Map<P2pMessageTag, Window>()

  constructor (table: Readonly<Partial<Record<P2pMessageTag, WindowThrottle>>> = OCTEZ_READER_THROTTLES) {
    this.table = table
  }

  /**
   * Counts a message of kind `tag` received at `now` (ms) and returns how long the reader sleeps
   * before handling it: 0 within the rate, the kind's cooldown beyond it. A message outside the
   * current window opens a new one.
   */
  delayFor (tag: P2pMessageTag, now: number): number {
    const spec = this.table[tag]
    if (spec === undefined) return 0
    const w = this.windows.get(tag)
    if (w === undefined || now - w.start >= spec.windowMs) {
      this.windows.set(tag, { count: 1, start: now })
      return 0
    }
    w.count++
    return w.count > spec.threshold ? spec.cooldownMs : 0
  }
}
