import type { Connection } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { AuthenticatedPeer } from '../../handshake/authenticated-peers.ts'
import type { PointInfo } from '../point-book.ts'
import type { PointAddress } from '../../net/point.ts'
import type { PeerExchangeService, SwapProposal } from './service.ts'

/**
 * Octez's swap: a node within its bounds proposes to a random peer A "connect to my peer B";
 * A answers "then connect to my peer C", connects to B and, on success, drops C; the proposer
 * connects to C and, on success, drops B. Both keep their connection count while the network's
 * links are reshuffled, so long-lived nodes do not stay clustered around whoever they met first.
 * A node swaps at most once per `swap-linger` (30 s), never in private mode, and never moves a
 * trusted or private peer.
 */

/** A connection as the swap sees it: the peer, and its point if that may be shared (known public). */
export interface SwapConnection {
  peer: AuthenticatedPeer
  point: PointAddress | undefined
}

export interface SwapDeps {
  /** `swap-linger`; null disables swapping (Octez `--disable-p2p-swap`). */
  swapLingerMs: number | null
  /** False in private mode and with peer discovery disabled. */
  enabled: boolean
  connections: () => SwapConnection[]
  connectionOf: (connectionId: string) => Connection | undefined
  exchange: () => PeerExchangeService
  isConnected: (tezosPeerId: string) => boolean
  isTrusted: (peer: AuthenticatedPeer) => boolean
  /** Registers a point heard in a swap (or returns the known one); undefined if it may not be (ours, private mode). */
  acceptPoint: (point: PointAddress, source: 'swap') => PointInfo | undefined
  connect: (point: PointInfo, signal: AbortSignal) => Promise<boolean>
  disconnect: (connectionId: string) => Promise<void>
  logger: Logger
  random?: () => number
  now?: () => number
}

export class SwapCoordinator {
  private readonly deps: SwapDeps
  private readonly random: () => number
  private readonly now: () => number
  /** When our last swap (either role) went through. */
  private lastSwap = -Infinity

  constructor (deps: SwapDeps) {
    this.deps = deps
    this.random = deps.random ?? Math.random
    this.now = deps.now ?? Date.now
  }

  private get allowed (): boolean {
    const linger = this.deps.swapLingerMs
    return this.deps.enabled && linger !== null && this.now() - this.lastSwap >= linger
  }

  /** The proposing side (after a maintenance pass within bounds). Returns whether a proposal was sent. */
  async propose (signal: AbortSignal): Promise<boolean> {
    if (!this.allowed) return false
    const conns = this.deps.connections().filter(c => !c.peer.metadata.privateNode)
    if (conns.length < 2) return false
    const a = this.pick(conns)
    const b = this.pick(conns.filter(c => c !== a && c.point !== undefined && !this.deps.isTrusted(c.peer)))
    const connection = a === undefined ? undefined : this.deps.connectionOf(a.peer.connectionId)
    if (b?.point === undefined || connection === undefined) return false
    let ack: SwapProposal | undefined
    try {
      ack = await this.deps.exchange().requestSwap(connection, { point: b.point, tezosPeerId: b.peer.tezosPeerId })
    } catch (err) {
      this.deps.logger.debug({ err: (err as Error).message }, 'swap request failed')
      return true
    }
    if (ack === undefined || signal.aborted || this.deps.isConnected(ack.tezosPeerId)) return true
    const c = this.deps.acceptPoint(ack.point, 'swap')
    if (c === undefined || c.state !== 'disconnected') return true
    if (await this.deps.connect(c, signal)) {
      this.lastSwap = this.now()
      this.deps.logger.info({ dropped: b.peer.tezosPeerId, joined: ack.tezosPeerId }, 'swap done')
      if (this.deps.isConnected(b.peer.tezosPeerId)) await this.deps.disconnect(b.peer.connectionId)
    }
    return true
  }

  /** The answering side: a counter-proposal, or undefined to ignore the request. */
  answer (connection: Connection, proposal: SwapProposal): SwapProposal | undefined {
    if (!this.allowed || this.deps.isConnected(proposal.tezosPeerId)) return undefined
    const b = this.deps.acceptPoint(proposal.point, 'swap')
    if (b === undefined || b.state !== 'disconnected') return undefined
    const c = this.pick(this.deps.connections().filter(x =>
      x.peer.connectionId !== connection.id && x.point !== undefined && !x.peer.metadata.privateNode &&
      !this.deps.isTrusted(x.peer) && x.peer.tezosPeerId !== proposal.tezosPeerId))
    if (c?.point === undefined) return undefined
    this.lastSwap = this.now()
    void this.deps.connect(b, AbortSignal.timeout(60_000)).then(async ok => {
      if (ok && this.deps.isConnected(c.peer.tezosPeerId)) await this.deps.disconnect(c.peer.connectionId)
    }).catch(() => {})
    return { point: c.point, tezosPeerId: c.peer.tezosPeerId }
  }

  private pick<T> (items: T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)]
  }
}
