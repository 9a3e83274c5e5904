import type { Logger } from 'pino'
import { b58Encode } from '../crypto/index.ts'
import { bytesEqual } from '../encoding/index.ts'
import type { Chain } from '../chain/chain.ts'
import { CheckpointStartError } from '../chain/checkpoint-start.ts'
import type { StoredHeader } from '../chain/store.ts'
import type { Fetchers } from './fetchers.ts'

/**
 * `--checkpoint <block hash>`: a fresh shell-only node asks its peers for that block's header
 * (Get_block_headers, one peer after another through the requester, until one answers with a
 * header that hashes to it), then for its operations (checked against its operations_hash), and
 * starts its chain there (`Chain.startFromCheckpoint`). Until then, what peers announce is held
 * back: the chain validator would otherwise bootstrap from genesis. Announcements received in the
 * meantime (the latest per peer) are handed over once the chain has started.
 */

/** A different checkpoint is configured than the one the store started from, or a protocol that cannot start from one. */
export class CheckpointMismatchError extends Error {
  override readonly name = 'CheckpointMismatchError'
}

export type CheckpointNeed = 'fetch' | 'resume'

/**
 * Whether a chain must fetch `hash` to start, or already started from it; throws
 * `CheckpointMismatchError` when its store follows another checkpoint or another chain.
 */
export function checkpointNeed (chain: Chain, hash: Uint8Array): CheckpointNeed {
  const wanted = b58Encode('blockHash', hash)
  if (chain.protocol.shellOnly !== true) {
    throw new CheckpointMismatchError(`--checkpoint ${wanted}: the ${chain.protocol.name} protocol needs the state below the checkpoint (only --protocol shell starts from one)`)
  }
  const stored = chain.checkpoint
  if (bytesEqual(stored.hash, hash)) return 'resume'
  if (stored.level === 0 && chain.head.header.shell.level === 0) return 'fetch'
  const what = chain.caboose.level > 0 ? 'started from checkpoint' : 'holds a chain from genesis with checkpoint'
  throw new CheckpointMismatchError(`--checkpoint ${wanted} differs from the store, which ${what} ${b58Encode('blockHash', stored.hash)} at level ${stored.level}: use another data directory, or that checkpoint`)
}

export interface CheckpointFetchInit {
  chain: Chain
  hash: Uint8Array
  fetchers: Fetchers
  logger: Logger
  /** Deadline of one round of asking every peer, after which it starts again (default 60 s). */
  roundTimeoutMs?: number
}

export class CheckpointFetch {
  private readonly init: CheckpointFetchInit
  private readonly log: Logger
  private readonly held = new Map<string, () => void>()
  private started = false
  private stopped = false
  /** Resolves with the checkpoint block once the chain starts from it. */
  readonly ready: Promise<StoredHeader>
  private resolveReady!: (h: StoredHeader) => void

  constructor (init: CheckpointFetchInit) {
    this.init = init
    this.log = init.logger.child({ module: 'checkpoint' })
    this.ready = new Promise(resolve => { this.resolveReady = resolve })
  }

  get done (): boolean {
    return this.started
  }

  /**
   * Wraps an announcement handler: while the chain has not started, the latest announcement of
   * each peer (per handler) is kept and delivered once it has.
   */
  gate<A> (kind: string, peerOf: (a: A) => string, deliver: (a: A) => void): (a: A) => void {
    return a => {
      if (this.started) { deliver(a); return }
      this.held.set(`${kind}:${peerOf(a)}`, () => { deliver(a) })
    }
  }

  /** Asks peers until the checkpoint is fetched and the chain started (or `stop`). Never throws. */
  async run (): Promise<void> {
    const { chain, hash, fetchers } = this.init
    const b58 = b58Encode('blockHash', hash)
    this.log.info({ checkpoint: b58 }, 'fetching the checkpoint block from peers')
    while (!this.stopped) {
      try {
        const timeoutMs = this.init.roundTimeoutMs ?? 60_000
        const { value: header, peer } = await fetchers.headers.fetch(hash, { timeoutMs })
        const operations = await fetchers.operationsOf(header, { preferred: [peer], timeoutMs })
        if (this.stopped) return
        const stored = await chain.startFromCheckpoint(header.header, operations)
        this.log.info({ checkpoint: b58, level: stored.header.shell.level, from: peer }, 'chain started from the checkpoint')
        this.started = true
        this.resolveReady(stored)
        const held = [...this.held.values()]
        this.held.clear()
        for (const deliver of held) deliver()
        return
      } catch (err) {
        if (this.stopped) return
        if (err instanceof CheckpointStartError) {
          this.log.error({ checkpoint: b58, err: err.message }, 'cannot start from the checkpoint')
          return
        }
        this.log.warn({ checkpoint: b58, err: (err as Error).message }, 'checkpoint block not fetched yet; asking again')
      }
    }
  }

  stop (): void {
    this.stopped = true
    this.held.clear()
  }
}
