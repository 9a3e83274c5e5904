import type { ChainEvents } from './chain-reader.ts'
import { PROTO_KEY_PREFIX as SHELL_PROTO_KEY_PREFIX } from './protocol-levels.ts'
import type { ChainStore, StoredHeader } from './store.ts'
import type { Transition } from './transition.ts'

/** Emits one of the chain's events; a listener's exception does not reach the caller (`ChainReader.emitSafely`). */
export type EmitChainEvent = <K extends keyof ChainEvents>(name: K, ...args: ChainEvents[K]) => void

/**
 * The chain's commits of applied transitions, and when each new head is reported: one write at a
 * time, left in flight while the next blocks are prepared or applied, with the head announced
 * before its write (one block given to `Chain.addBlock`) or once it is done (a run). Kept apart
 * from the fork choice in chain.ts, which decides what to commit; this decides when it is written
 * and what the `head:validated` and `head` events say, including when a write fails.
 */
export class ChainWrites {
  private readonly store: ChainStore
  private readonly emit: EmitChainEvent
  private readonly refreshProtocolLevels: () => Promise<void>
  /** The last commit's write while the next blocks are prepared (see `start`). */
  private pending: Promise<void> | undefined
  /** Set while `Chain.addBlock` runs: its new head is announced before its write is done. */
  headBeforeWrite = false

  constructor (store: ChainStore, emit: EmitChainEvent, refreshProtocolLevels: () => Promise<void>) {
    this.store = store
    this.emit = emit
    this.refreshProtocolLevels = refreshProtocolLevels
  }

  /**
   * Starts committing `t` without waiting for the write: the next blocks are prepared, or applied
   * on `t.successor()`, meanwhile. One write at a time: `written()` comes before the next commit,
   * before anything that reads the head, and before `addBlocks` returns.
   */
  start (t: Transition): void {
    const write = this.commit(t)
    write.catch(() => {})
    this.pending = write
  }

  /** Waits for the write in flight, if any; throws if it failed. */
  async written (): Promise<void> {
    const write = this.pending
    this.pending = undefined
    await write
  }

  /**
   * Commits `t`: the store shows its tip as the head at once (`head:validated`). For one block
   * added with `addBlock`, `head` follows in the same turn, while the batch is written, as Octez's
   * block validator hands a new head on before its store write is durable
   * (`src/lib_shell/block_validator.ml`); a crash then loses at most this head, which peers give
   * back. For a run, `head` waits for the write, so a bootstrap never reports a head a crash takes
   * back. Settles when the write is done; if it fails, the store goes back to the disk (and a
   * `head` event says so when the head was reported) and the error is thrown.
   */
  private async commit (t: Transition): Promise<void> {
    const previous = this.store.head
    const tip = t.tip
    const batch = t.finish()
    const early = this.headBeforeWrite
    let shown = false
    let headEmitted = false
    const tableMayChange = protocolTableMayChange(t, previous)
    const write = this.store.commit(batch, () => {
      shown = true
      this.emit('head:validated', tip)
      if (tableMayChange || !early) return
      // In the same turn: the head's events and announcements go before the write is queued.
      headEmitted = true
      this.emit('head', { head: this.store.head, previous, applied: t.applied, removed: t.removed })
    })
    write.catch(() => {})
    // Shown at once unless another write was in flight (the chain commits one at a time).
    if (!shown || !early) await write
    if (!headEmitted) {
      if (tableMayChange) await this.refreshProtocolLevels()
      this.emit('head', { head: this.store.head, previous, applied: t.applied, removed: t.removed })
    }
    try {
      await write
    } catch (e) {
      // The store shows the disk again: the head is `previous` once more.
      await this.refreshProtocolLevels().catch(() => {})
      this.emit('head', { head: this.store.head, previous: tip, applied: [...t.removed].reverse(), removed: [...t.applied].reverse() })
      throw e
    }
  }
}

/**
 * Whether the protocol table or the next block's protocol level may differ after `t`: only when
 * `t` wrote a table entry (an activation applied or undone) or the head's protocol level changed.
 * Otherwise the table read after each new head is skipped (a state read per protocol level).
 */
function protocolTableMayChange (t: Transition, previous: StoredHeader): boolean {
  if (t.applied.length === 0 || t.tip.header.shell.proto !== previous.header.shell.proto || t.tip.header.shell.level === 0) return true
  return t.batch.state.some(w => w.key.startsWith(SHELL_PROTO_KEY_PREFIX))
}
