import type { KnownHashes } from './known-hashes.ts'
import type { NetworkPeer } from '../peer/index.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'

/** Announcements queued beyond this per peer are dropped (newer ones supersede them anyway). */
export const MAX_QUEUED_WRITES = 64

/**
 * What goes on our gossip stream to a peer: a message, encoded envelopes (answers read from the
 * store), or envelopes still being read (pushed block operations with their announcement, §4.6),
 * which keep their place in the queue.
 */
export type OutgoingGossip = P2pMessage | Uint8Array | Promise<Uint8Array>

/** Per connected peer (`protocols/gossip.md`): our write queue to it and what it is known to have. */
export class PeerGossip {
  readonly peer: NetworkPeer
  readonly knownBlocks: KnownHashes
  readonly knownOperations: KnownHashes
  /** Writes queued and not yet handed to the wire. */
  queued = 0
  /** The peer sent Deactivate: no more announcements to it. */
  inactive = false
  lastHeard: number
  silenceTimer?: ReturnType<typeof setInterval>
  /** The peer asked us to push it block operations (§4.6). */
  pushTo = false
  /** We asked the peer to push; or when we asked it to stop (its pushes may still cross). */
  pushFrom = false
  pushStoppedAt = 0
  private writes: Promise<void> = Promise.resolve()

  constructor (peer: NetworkPeer, knownBlocks: KnownHashes, knownOperations: KnownHashes, now: number) {
    this.peer = peer
    this.knownBlocks = knownBlocks
    this.knownOperations = knownOperations
    this.lastHeard = now
  }

  /**
   * Queues a write, in order after the others; false (dropped) when `MAX_QUEUED_WRITES` are
   * queued already: a slow peer loses announcements, never blocks us.
   */
  enqueue (message: OutgoingGossip, on: { sent: () => void, failed: (err: Error) => void }): boolean {
    if (this.queued >= MAX_QUEUED_WRITES) return false
    this.queued++
    this.writes = this.writes.then(async () => {
      try {
        if (message instanceof Promise) await this.peer.sendEnvelope?.(await message)
        else if (message instanceof Uint8Array) await this.peer.sendEnvelope?.(message)
        else await this.peer.send(message)
        on.sent()
      } catch (err) {
        on.failed(err as Error)
      } finally {
        this.queued--
      }
    })
    return true
  }

  /** The peer is gone: its timer stops and its known-hash columns are released. */
  drop (): void {
    clearInterval(this.silenceTimer)
    this.knownBlocks.leave()
    this.knownOperations.leave()
  }
}
