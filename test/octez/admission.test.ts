/**
 * The libp2p handshake's admission policy plugged into the Octez wire (`decideWithPolicy`), on real
 * sockets: Octez's order (banned peer closed without a Nack, then versions, then the policy's
 * capacity rules), with the policy's points in every Nack.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AdmissionPolicy, RemoteCandidate } from '../../src/handshake/authenticate.ts'
import { PeerRefusedError, PeerRejectedError } from '../../src/handshake/errors.ts'
import { decideWithPolicy, listenOctez, type OctezConnection, type OctezIncomingFailure } from '../../src/octez/index.ts'
import { identityWithPow } from '../helpers/node.ts'
import { RawOctezPeer, TEST_CHAIN } from './raw-peer.ts'

const POINTS = ['192.0.2.1:9732', '192.0.2.2:9732']

test('decideWithPolicy: refused peers are closed without a Nack, version mismatches and full slots are Nacked with points, others Acked', async () => {
  const banned = identityWithPow(0)
  const duplicate = identityWithPow(0)
  const admitted: RemoteCandidate[] = []
  const policy: AdmissionPolicy = {
    isRefused: id => id === banned.peerId,
    admit: remote => {
      if (remote.tezosPeerId === duplicate.peerId) return 'Already_connected'
      admitted.push(remote)
      return undefined
    },
    knownPoints: () => POINTS
  }
  const failures: OctezIncomingFailure[] = []
  const failureWaiters: Array<() => void> = []
  const connections: OctezConnection[] = []
  let onFirst!: (c: OctezConnection) => void
  const first = new Promise<OctezConnection>(resolve => { onFirst = resolve })
  const listener = await listenOctez({
    host: '127.0.0.1',
    port: 0,
    identity: identityWithPow(0),
    chainName: TEST_CHAIN,
    expectedPow: 0,
    decide: decideWithPolicy(policy),
    onConnection: c => { connections.push(c); onFirst(c) },
    onFailure: f => { failures.push(f); failureWaiters.shift()?.() }
  })
  const nextFailure = async (): Promise<OctezIncomingFailure> => {
    if (failures.length === 0) await new Promise<void>(resolve => { failureWaiters.push(resolve) })
    return failures.shift()!
  }
  try {
    // Banned, even with a wrong chain: closed before the version check, no Nack.
    const b = await RawOctezPeer.dial(listener.port)
    await b.handshake(banned, false, { version: { chainName: 'OTHER' }, readAck: false })
    await b.ended
    assert.ok((await nextFailure()).error instanceof PeerRefusedError)
    b.close()

    const wrongChain = await RawOctezPeer.dial(listener.port)
    const w = await wrongChain.handshake(identityWithPow(0), false, { version: { chainName: 'OTHER' } })
    assert.deepEqual(w.ack, { tag: 'Nack', motive: 'Unknown_chain_name', points: POINTS })
    assert.equal(((await nextFailure()).error as PeerRejectedError).motive, 'Unknown_chain_name')
    wrongChain.close()

    const oldDdb = await RawOctezPeer.dial(listener.port)
    // We support distributed_db 0–2: a peer announcing 7 gets our best, 2; p2p 9 gets 1.
    const o = await oldDdb.handshake(identityWithPow(0), false, { version: { distributedDbVersion: 7, p2pVersion: 9 } })
    assert.deepEqual(o.ack, { tag: 'Ack' })
    const accepted = await first
    assert.deepEqual(accepted.version, { chainName: TEST_CHAIN, distributedDbVersion: 2, p2pVersion: 1 })
    oldDdb.close()

    const dup = await RawOctezPeer.dial(listener.port)
    const d = await dup.handshake(duplicate, false)
    assert.deepEqual(d.ack, { tag: 'Nack', motive: 'Already_connected', points: POINTS })
    dup.close()

    assert.equal(admitted.length, 1, 'only the compatible, non-duplicate peer reached admit')
    assert.equal(connections.length, 1)
    await accepted.close()
  } finally {
    await listener.close()
  }
})
