import type { PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { MISBEHAVIOURS, type Misbehaviour, type PeerRef, type ReportOutcome } from '../misbehaviour/index.ts'
import type { Greylist } from './greylist.ts'
import type { PeerScores, ScoreVerdict } from './score.ts'

/**
 * The peer policy: the one place that decides what a misbehaving peer costs, whatever its wire and
 * whatever the fault. Every layer reports through `report(peer, misbehaviour, detail)` (the shape
 * of Lodestar's `reportPeer`); a table maps each kind to a score penalty and to what happens at
 * once: disconnect, greylist the IP, greylist the peer's ids. Below the score threshold a peer is
 * disconnected and greylisted (IP and ids) whatever the kind, so faults that are sometimes honest
 * only cost something when they add up.
 *
 * Octez greylists at once for a message that does not decode or an invalid block or operation
 * (`src/lib_p2p/p2p_socket.ml`, `src/lib_shell/peer_validator.ml`), and greylists the address of a
 * point whose peer is not the one expected (`Identity_check_failure`, `src/lib_p2p/p2p_connect_handler.ml`);
 * it counts bad Merkle paths and unrequested answers (`src/lib_requester/requester.ml`) without
 * greylisting. tzp2p is stricter on the first two (an answer that fails its check is invalid data)
 * and scores the rest. See `protocols/peers.md` for the table.
 */
export interface MisbehaviourCost {
  /** Subtracted from the peer's score (only a peer with a Tezos peer id is scored). */
  penalty: number
  /** Its connections are closed at once, whatever its score. */
  disconnect: boolean
  /** Its IP is greylisted at once. */
  greylistIp: boolean
  /** Its Tezos peer id and libp2p PeerId are greylisted at once. */
  greylistPeer: boolean
}

const AT_ONCE: MisbehaviourCost = { penalty: 100, disconnect: true, greylistIp: true, greylistPeer: true }
const SCORED = (penalty: number): MisbehaviourCost => ({ penalty, disconnect: false, greylistIp: false, greylistPeer: false })

/** The table (default penalties; `PeerPolicyOptions.penalties` overrides them). */
export const MISBEHAVIOUR_COSTS: Readonly<Record<Misbehaviour, Readonly<MisbehaviourCost>>> = Object.freeze({
  'malformed-message': AT_ONCE,
  'invalid-data': AT_ONCE,
  'insufficient-pow': AT_ONCE,
  undecipherable: AT_ONCE,
  // The address is greylisted, not the peer: it may be honest, only not the one pinned for the point.
  'identity-mismatch': { penalty: 0, disconnect: true, greylistIp: true, greylistPeer: false },
  'invalid-message': SCORED(20),
  flooding: SCORED(10),
  'unrequested-data': SCORED(5),
  'useless-answer': SCORED(5)
})

export interface PeerPolicyOptions {
  /** Penalty per kind, replacing the table's (non-negative). */
  penalties?: Partial<Record<Misbehaviour, number>>
}

/** Told of every report (the node's `peer:penalized` event). */
export interface PeerPenalized {
  /** The Tezos peer id, or the libp2p PeerId of a peer whose Tezos id is not proven. */
  peerId: string
  kind: Misbehaviour
  detail: string
  /** The score after the report; undefined for a peer without a Tezos peer id. */
  score?: number
  action: ScoreVerdict['action']
}

/** A peer the node is connected to, as the policy needs it (any wire). */
export interface ConnectedPeerRef {
  tezosPeerId: string
  libp2pPeerId?: PeerId
  ip?: string
}

export interface PeerPolicyInit extends PeerPolicyOptions {
  scores: PeerScores
  greylist: Greylist
  /** Connected peers sharing an id with `peer`: they complete its ids and IP. */
  connected: (peer: PeerRef) => ConnectedPeerRef[]
  /** Trusted peers are never disconnected or greylisted by the policy (the operator's to ban). */
  isTrusted: (peer: PeerRef) => boolean
  /** Closes every connection of the peer (by its Tezos id or libp2p PeerId). */
  disconnect: (peer: PeerRef, detail: string) => void
  logger: Logger
  /** Metrics and persistence hooks. */
  onPenalized?: (event: PeerPenalized) => void
  onScoreChanged?: () => void
  onGreylisted?: () => void
}

export class InvalidPenaltyError extends RangeError {
  override readonly name = 'InvalidPenaltyError'
}

/** A report of a kind the table does not have (a caller outside the type checker). */
export class UnknownMisbehaviourError extends TypeError {
  override readonly name = 'UnknownMisbehaviourError'
  constructor (kind: unknown) {
    super(`unknown misbehaviour ${JSON.stringify(kind)}: expected one of ${MISBEHAVIOURS.join(', ')}`)
  }
}

export class PeerPolicy {
  private readonly init: PeerPolicyInit
  private readonly costs: Record<Misbehaviour, MisbehaviourCost>
  private readonly log: Logger

  constructor (init: PeerPolicyInit) {
    this.init = init
    this.log = init.logger.child({ module: 'peer-policy' })
    this.costs = Object.fromEntries(MISBEHAVIOURS.map(kind => {
      const penalty = init.penalties?.[kind] ?? MISBEHAVIOUR_COSTS[kind].penalty
      if (!(Number.isFinite(penalty) && penalty >= 0)) throw new InvalidPenaltyError(`penalty for ${kind} must be a non-negative number, got ${penalty}`)
      return [kind, { ...MISBEHAVIOUR_COSTS[kind], penalty }]
    })) as Record<Misbehaviour, MisbehaviourCost>
  }

  /** What a kind costs (the table, with the configured penalties). */
  cost (kind: Misbehaviour): Readonly<MisbehaviourCost> {
    return this.costs[kind]
  }

  /** Records a peer's misbehaviour and applies what it costs. */
  readonly report = (peer: PeerRef, misbehaviour: Misbehaviour, detail: string): ReportOutcome => {
    const cost = this.costs[misbehaviour]
    if (cost === undefined) throw new UnknownMisbehaviourError(misbehaviour)
    const ref = this.complete(peer)
    let verdict: ScoreVerdict | undefined
    if (ref.tezosPeerId !== undefined) {
      verdict = this.init.scores.penalise(ref.tezosPeerId, cost.penalty)
      this.init.onScoreChanged?.()
    }
    const belowThreshold = verdict?.action === 'disconnect-and-greylist'
    const trusted = this.init.isTrusted(ref)
    const greylistIp = !trusted && (cost.greylistIp || belowThreshold) && ref.ip !== undefined
    const ids: Array<string | PeerId> = []
    if (!trusted && (cost.greylistPeer || belowThreshold)) {
      if (ref.tezosPeerId !== undefined) ids.push(ref.tezosPeerId)
      ids.push(...ref.libp2pPeerIds)
    }
    const greylisted = greylistIp || ids.length > 0
    const disconnected = !trusted && (cost.disconnect || belowThreshold)
    const reason = `${misbehaviour}: ${detail}`
    if (greylisted) {
      this.init.greylist.greylist({ ...(greylistIp ? { ip: ref.ip } : {}), peers: ids }, reason)
      this.init.onGreylisted?.()
    }
    const peerId = ref.tezosPeerId ?? ref.libp2pPeerIds[0]?.toString() ?? ref.ip ?? 'unknown'
    this.log[greylisted || disconnected ? 'warn' : 'info']({
      peer: peerId, kind: misbehaviour, detail, score: verdict?.score, greylisted, disconnected, trusted
    }, trusted && (cost.disconnect || belowThreshold) ? 'trusted peer misbehaved: kept (ban it to refuse it)' : 'peer misbehaved')
    if (disconnected) this.init.disconnect({ ...peer, ...(ref.tezosPeerId === undefined ? {} : { tezosPeerId: ref.tezosPeerId }) }, reason)
    this.init.onPenalized?.({
      peerId,
      kind: misbehaviour,
      detail,
      ...(verdict === undefined ? {} : { score: verdict.score }),
      action: greylisted || disconnected ? 'disconnect-and-greylist' : 'none'
    })
    return { misbehaviour, ...(verdict === undefined ? {} : { score: verdict.score }), disconnected, greylisted, trusted }
  }

  /** The reported ids and IP, completed from the connections of the same peer. */
  private complete (peer: PeerRef): { tezosPeerId?: string, libp2pPeerIds: PeerId[], ip?: string } {
    const connected = this.init.connected(peer)
    const tezosPeerId = peer.tezosPeerId ?? connected[0]?.tezosPeerId
    const libp2pPeerIds: PeerId[] = []
    for (const id of [peer.libp2pPeerId, ...connected.map(c => c.libp2pPeerId)]) {
      if (id !== undefined && !libp2pPeerIds.some(known => known.equals(id))) libp2pPeerIds.push(id)
    }
    const ip = peer.ip ?? connected.find(c => c.ip !== undefined)?.ip
    return { ...(tezosPeerId === undefined ? {} : { tezosPeerId }), libp2pPeerIds, ...(ip === undefined ? {} : { ip }) }
  }
}
