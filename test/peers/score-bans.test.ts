import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { DEFAULT_SCORE_HALF_LIFE_MS, PeerScores } from '../../src/peers/score.ts'
import { MISBEHAVIOUR_COSTS } from '../../src/peers/policy.ts'
import { BanList, InvalidBanTargetError, banTargetOf, type BanChange } from '../../src/peers/bans.ts'

const ID_A = vectors.identities[0].peer_id
const ID_B = vectors.identities[1].peer_id
const penalty = (kind: keyof typeof MISBEHAVIOUR_COSTS): number => MISBEHAVIOUR_COSTS[kind].penalty
/** A minor fault, sometimes honest (the weight of a slow answer). */
const MINOR = 2

test('score: faults lower it, the threshold gives the disconnect-and-greylist verdict', () => {
  let now = 1_000_000
  const scores = new PeerScores({ now: () => now })
  assert.equal(scores.score(ID_A), 0)
  const verdicts = []
  for (let i = 0; i < 3; i++) verdicts.push(scores.penalise(ID_A, penalty('invalid-message')))
  assert.deepEqual(verdicts.map(v => [v.score, v.action]), [[-20, 'none'], [-40, 'none'], [-60, 'disconnect-and-greylist']])
  assert.equal(scores.isBelowThreshold(ID_A), true)
  assert.equal(scores.score(ID_B), 0, 'scores are per peer')
  // A fault Octez greylists for at once weighs the whole threshold by itself.
  assert.equal(scores.penalise(ID_B, penalty('malformed-message')).action, 'disconnect-and-greylist')
  // The score never goes below -100.
  for (let i = 0; i < 5; i++) scores.penalise(ID_B, penalty('invalid-data'))
  assert.equal(scores.score(ID_B), -100)
  now += 1
  assert.throws(() => scores.penalise(ID_A, -1), RangeError)
})

test('score: occasional honest faults decay away; a burst does not', () => {
  let now = 0
  const scores = new PeerScores({ now: () => now })
  // One minor fault every 5 minutes, for a day: never near the threshold.
  let worst = 0
  for (let i = 0; i < 288; i++) {
    worst = Math.min(worst, scores.penalise(ID_A, MINOR).score)
    now += 5 * 60 * 1000
  }
  assert.ok(worst > -10, `worst ${worst}`)
  // 25 in a row reach it.
  let last = scores.penalise(ID_B, MINOR)
  for (let i = 1; i < 25; i++) last = scores.penalise(ID_B, MINOR)
  assert.equal(last.action, 'disconnect-and-greylist')
  // Half-life: after 10 minutes the score is halved.
  const before = scores.score(ID_B)
  now += DEFAULT_SCORE_HALF_LIFE_MS
  assert.ok(Math.abs(scores.score(ID_B) - before / 2) < 1e-9)
  assert.equal(scores.isBelowThreshold(ID_B), false)
})

test('score: snapshot/restore resumes decay; negligible scores are dropped; the table is bounded', () => {
  let now = 0
  const scores = new PeerScores({ now: () => now, maxPeers: 3 })
  scores.penalise(ID_A, penalty('invalid-message'))
  scores.penalise(ID_B, penalty('useless-answer'))
  const records = scores.snapshot()
  assert.deepEqual(records.map(r => [r.peerId, r.score]).sort(), [[ID_A, -20], [ID_B, -5]].sort())
  now += DEFAULT_SCORE_HALF_LIFE_MS
  const restored = new PeerScores({ now: () => now })
  restored.restore(records)
  assert.ok(Math.abs(restored.score(ID_A) + 10) < 1e-9)
  now += 100 * DEFAULT_SCORE_HALF_LIFE_MS
  assert.deepEqual(restored.snapshot(), [])
  assert.equal(restored.size, 0)
  // Bounded: the most penalised peers are kept, the ones closest to 0 forgotten.
  const ids = vectors.identities.slice(0, 5).map(i => i.peer_id)
  ids.forEach((id, i) => { for (let k = 0; k <= i; k++) scores.penalise(id, penalty('useless-answer')) })
  assert.equal(scores.size, 3)
  assert.deepEqual(ids.map(id => scores.score(id) < 0), [false, false, true, true, true])
  assert.throws(() => new PeerScores({ threshold: 5 }), RangeError)
})

test('bans: IPs (normalised) and Tezos/libp2p peer ids; set and cleared; isBanned never throws', async () => {
  const libp2pId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const changes: BanChange[] = []
  const bans = new BanList({ now: () => 42, onChange: c => changes.push(c) })
  bans.ban('::ffff:10.1.2.3', 'operator')
  bans.ban('2001:DB8::1')
  bans.ban(ID_A)
  bans.ban(libp2pId)
  assert.equal(bans.isBanned('10.1.2.3'), true)
  assert.equal(bans.isBanned('[2001:db8:0::1]'), true)
  assert.equal(bans.isBanned(ID_A), true)
  assert.equal(bans.isBanned(ID_B), false)
  assert.equal(bans.isBanned(libp2pId), true)
  assert.equal(bans.isBanned(libp2pId.toString()), true)
  assert.equal(bans.isBanned('garbage'), false)
  assert.equal(bans.isBanned(undefined), false)
  assert.deepEqual(bans.list().find(r => r.kind === 'ip' && r.key === '10.1.2.3'), { kind: 'ip', key: '10.1.2.3', since: 42, reason: 'operator' })
  assert.equal(bans.size, 4)
  assert.equal(bans.unban('10.1.2.3'), true)
  assert.equal(bans.unban('10.1.2.3'), false)
  assert.equal(bans.isBanned('10.1.2.3'), false)
  assert.throws(() => bans.ban('not-an-address'), InvalidBanTargetError)
  assert.throws(() => bans.banIp(ID_A), InvalidBanTargetError)
  assert.throws(() => bans.banPeer('1.2.3.4'), InvalidBanTargetError)
  assert.deepEqual(changes.map(c => c.type), ['ban', 'ban', 'ban', 'ban', 'unban'])

  const restored = new BanList()
  restored.restore(bans.list())
  assert.deepEqual(restored.list(), bans.list())
  assert.throws(() => restored.restore([{ kind: 'ip', key: ID_A, since: 0 }]), InvalidBanTargetError)
  restored.clear()
  assert.equal(restored.size, 0)
  assert.deepEqual(banTargetOf('1.2.3.4'), { kind: 'ip', key: '1.2.3.4' })
  assert.equal(banTargetOf(ID_A.slice(0, -2) + 'xx'), undefined)
})
