import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import pino from 'pino'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { KnownInvalidBlockError, CheckpointConflictError, FutureBlockError } from '../../src/chain/errors.ts'
import { DecodeError } from '../../src/encoding/errors.ts'
import { MessageTooLargeError, UnexpectedMessageError } from '../../src/stream/envelope-stream.ts'
import { RateLimiter } from '../../src/stream/rate-limit.ts'
import { KnownInvalidAnnouncementError } from '../../src/gossip/announcement-checks.ts'
import {
  HandshakeClosedError, HandshakeDecipherError, HandshakeTimeoutError, MalformedHandshakeError, NotEnoughProofOfWorkError,
  PeerRejectedError
} from '../../src/handshake/errors.ts'
import { MISBEHAVIOURS, misbehaviourOf, type Misbehaviour, type PeerRef } from '../../src/misbehaviour/index.ts'
import { MalformedPeerMessageError, UnexpectedPeerMessageError } from '../../src/peers/exchange/protocol.ts'
import { Greylist } from '../../src/peers/greylist.ts'
import { InvalidPenaltyError, MISBEHAVIOUR_COSTS, PeerPolicy, UnknownMisbehaviourError, type ConnectedPeerRef, type PeerPenalized } from '../../src/peers/policy.ts'
import { PeerScores } from '../../src/peers/score.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { InvalidAnswerError } from '../../src/sync/checks.ts'
import { BadSyncRequestError } from '../../src/sync/service.ts'
import { InvalidLocatorError } from '../../src/sync/step-headers.ts'

const ID = vectors.identities[0].peer_id
const IP = '192.0.2.7'
const libp2pPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

/** A policy over a real score table and greylist, with one connected peer (ID, its PeerId, IP). */
function policyWith (options: { trusted?: boolean, connected?: ConnectedPeerRef[], penalties?: Partial<Record<Misbehaviour, number>> } = {}) {
  const greylist = new Greylist()
  // A frozen clock: no decay between a report and the check of its score.
  const scores = new PeerScores({ now: () => 0 })
  const disconnected: PeerRef[] = []
  const events: PeerPenalized[] = []
  const connected = options.connected ?? [{ tezosPeerId: ID, libp2pPeerId, ip: IP }]
  const policy = new PeerPolicy({
    scores,
    greylist,
    connected: ref => connected.filter(c => c.tezosPeerId === ref.tezosPeerId || (ref.libp2pPeerId !== undefined && c.libp2pPeerId?.equals(ref.libp2pPeerId) === true)),
    isTrusted: () => options.trusted ?? false,
    disconnect: ref => { disconnected.push(ref) },
    logger: pino({ level: 'silent' }),
    onPenalized: e => { events.push(e) },
    ...(options.penalties === undefined ? {} : { penalties: options.penalties })
  })
  return { policy, greylist, scores, disconnected, events }
}

/** What one report of each kind does to a peer with a clean record: [score, disconnected, IP greylisted, ids greylisted]. */
const EXPECTED: Record<Misbehaviour, [number, boolean, boolean, boolean]> = {
  'malformed-message': [-100, true, true, true],
  'invalid-data': [-100, true, true, true],
  'insufficient-pow': [-100, true, true, true],
  undecipherable: [-100, true, true, true],
  'identity-mismatch': [0, true, true, false],
  'invalid-message': [-20, false, false, false],
  flooding: [-10, false, false, false],
  'unrequested-data': [-5, false, false, false],
  'useless-answer': [-5, false, false, false]
}

describe('peer policy', () => {
  it('the table covers every kind, and each kind has its effect', () => {
    assert.deepEqual(Object.keys(MISBEHAVIOUR_COSTS).sort(), [...MISBEHAVIOURS].sort())
    for (const kind of MISBEHAVIOURS) {
      const { policy, greylist, scores, disconnected, events } = policyWith()
      const outcome = policy.report({ tezosPeerId: ID }, kind, 'test')
      const [score, disconnect, ip, ids] = EXPECTED[kind]
      assert.deepEqual(
        [scores.score(ID), outcome.disconnected, disconnected.length > 0, greylist.isGreylisted(IP), greylist.isGreylisted(ID), greylist.isGreylisted(libp2pPeerId)],
        [score, disconnect, disconnect, ip, ids, ids],
        kind
      )
      assert.equal(outcome.greylisted, ip || ids, kind)
      assert.deepEqual(events.map(e => [e.peerId, e.kind, e.action]), [[ID, kind, disconnect ? 'disconnect-and-greylist' : 'none']], kind)
      if (ip) assert.match(greylist.list()[0].reason, new RegExp(`^${kind}: test$`))
    }
  })

  it('faults that are sometimes honest add up: at the threshold the peer is disconnected and greylisted', () => {
    const { policy, greylist, disconnected } = policyWith()
    const outcomes = [1, 2, 3].map(() => policy.report({ tezosPeerId: ID }, 'invalid-message', 'an unexpected message'))
    assert.deepEqual(outcomes.map(o => [o.score, o.disconnected, o.greylisted]), [[-20, false, false], [-40, false, false], [-60, true, true]])
    assert.equal(disconnected.length, 1)
    assert.ok(greylist.isGreylisted(IP) && greylist.isGreylisted(ID) && greylist.isGreylisted(libp2pPeerId))
  })

  it('a trusted peer is scored, never disconnected or greylisted', () => {
    const { policy, greylist, disconnected } = policyWith({ trusted: true })
    const outcome = policy.report({ tezosPeerId: ID }, 'malformed-message', 'garbage')
    assert.deepEqual([outcome.score, outcome.trusted, outcome.disconnected, outcome.greylisted], [-100, true, false, false])
    assert.equal(greylist.size, 0)
    assert.equal(disconnected.length, 0)
  })

  it('a peer known only by its libp2p PeerId and IP (a failed handshake) is greylisted by them, not scored', () => {
    const { policy, greylist, scores } = policyWith({ connected: [] })
    const outcome = policy.report({ libp2pPeerId, ip: IP }, 'insufficient-pow', 'handshake: weak stamp')
    assert.deepEqual([outcome.score, outcome.greylisted], [undefined, true])
    assert.ok(greylist.isGreylisted(IP) && greylist.isGreylisted(libp2pPeerId))
    assert.equal(greylist.isGreylisted(ID), false)
    assert.equal(scores.size, 0)
  })

  it('a report by one id reaches the others of the same connected peer', () => {
    const { policy, greylist, scores } = policyWith()
    policy.report({ libp2pPeerId }, 'invalid-data', 'an invalid block')
    assert.equal(scores.score(ID), -100)
    assert.ok(greylist.isGreylisted(ID) && greylist.isGreylisted(IP))
  })

  it('penalties can be tuned, never negative', () => {
    const { policy, scores } = policyWith({ penalties: { flooding: 50 } })
    assert.equal(policy.report({ tezosPeerId: ID }, 'flooding', 'test').disconnected, true)
    assert.equal(scores.score(ID), -50)
    assert.throws(() => policyWith({ penalties: { flooding: -1 } }), InvalidPenaltyError)
    assert.throws(() => policy.report({ tezosPeerId: ID }, 'late-answer' as Misbehaviour, 'test'), UnknownMisbehaviourError)
  })

  it('every error that is a peer\'s fault carries its kind; the others none', () => {
    const cases: Array<[unknown, Misbehaviour | undefined]> = [
      [new DecodeError('block_header', 3, 'truncated'), 'malformed-message'],
      [new MessageTooLargeError('/tzp2p/gossip/1.0.0', 1 << 30, 1 << 20), 'malformed-message'],
      [new UnexpectedMessageError('/tzp2p/sync/1.0.0', 'Current_head'), 'invalid-message'],
      [new BadSyncRequestError('two kinds on one stream'), 'invalid-message'],
      [new InvalidAnswerError(ID, 'bad Merkle path'), 'invalid-data'],
      [new InvalidAnswerError(ID, 'not requested', 'unrequested-data'), 'unrequested-data'],
      [new KnownInvalidAnnouncementError('known invalid'), 'invalid-data'],
      [new InvalidLocatorError('lies'), 'invalid-data'],
      [new InvalidBlockError('bad_level', 'forged'), 'invalid-data'],
      [new KnownInvalidBlockError('B…', { code: 'x', message: 'y', level: 1, at: 0 }), 'invalid-data'],
      [new CheckpointConflictError('B…', 'another block'), 'invalid-data'],
      [new MalformedPeerMessageError('garbage'), 'malformed-message'],
      [new UnexpectedPeerMessageError('Swap_ack', 'opening a stream'), 'invalid-message'],
      [new MalformedHandshakeError('short chunk'), 'malformed-message'],
      [new HandshakeDecipherError('chunk #0'), 'undecipherable'],
      [new NotEnoughProofOfWorkError(ID, 26), 'insufficient-pow'],
      [new HandshakeTimeoutError(5000), undefined],
      [new HandshakeClosedError('gone'), undefined],
      [new PeerRejectedError('Too_many_connections'), undefined],
      [new FutureBlockError('B…', 10n, 0), undefined],
      [new Error('a bug of ours'), undefined],
      [{ misbehaviour: 'nonsense' }, undefined],
      ['a string', undefined]
    ]
    for (const [error, kind] of cases) assert.equal(misbehaviourOf(error), kind, String(error))
  })
})

describe('throttle admission', () => {
  it('drops requests over the rate; flooding once per run of refusals, at twice the burst', () => {
    let now = 0
    const limiter = new RateLimiter({ Get_current_head: { rate: 0.25, burst: 4 } }, () => now)
    const run = (n: number): string[] => Array.from({ length: n }, () => limiter.admit('p', 'Get_current_head'))
    assert.deepEqual(run(4), ['granted', 'granted', 'granted', 'granted'])
    const refused = run(20)
    assert.deepEqual(refused.filter(a => a === 'flooding').length, 1)
    assert.equal(refused.indexOf('flooding'), 7)
    assert.ok(refused.every(a => a !== 'granted'))
    // A token back ends the run; the next flood is reported again.
    now += 4000
    assert.equal(limiter.admit('p', 'Get_current_head'), 'granted')
    assert.equal(run(8).filter(a => a === 'flooding').length, 1)
    // An honest peer that overshoots once is only dropped.
    now += 4000
    assert.deepEqual(run(2), ['granted', 'dropped'])
  })
})
