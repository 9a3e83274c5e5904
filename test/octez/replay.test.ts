/**
 * The captured real session (`session_carthagenet` in test/fixtures/octez-public.json: a node talking
 * to a Carthagenet node) replayed through the Octez wire over a real socket: a scripted peer writes
 * the captured received bytes, and our side must write exactly the captured sent bytes — connection
 * message, metadata, Ack, Get_current_branch and the Current_branch answer, nonce for nonce.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import { makeIdentity } from '../../src/identity/identity.ts'
import { dialOctez, type OctezConnection } from '../../src/octez/index.ts'
import { decodeP2pMessage } from '../../src/wire/p2p-message.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { RawOctezPeer } from './raw-peer.ts'

const session = vectors.session_carthagenet
const local = vectors.identities.find(i => i.peer_id === session.local_identity)!
const identity = makeIdentity(fromHex(local.public_key), fromHex(local.secret_key), fromHex(local.proof_of_work_stamp))
const expectedSent = toHex(Buffer.concat([fromHex(session.sent_conn_frame), ...session.chunks.sent.map(c => fromHex(c.hex))]))
const recvBytes = Buffer.concat([fromHex(session.recv_conn_frame), ...session.chunks.recv.map(c => fromHex(c.hex))])

async function waitFor (condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setImmediate(resolve))
  }
}

async function replay (write: (peer: RawOctezPeer) => void | Promise<void>): Promise<void> {
  const listener = await RawOctezPeer.listen()
  let conn: OctezConnection | undefined
  try {
    const dialling = dialOctez({
      host: '127.0.0.1',
      port: listener.port,
      identity,
      chainName: session.sent_conn_decoded.chain_name,
      // The captured node announced distributed_db 0 and p2p 1.
      distributedDbVersions: [0],
      p2pVersions: [0, 1],
      expectedPow: 26,
      advertisedPort: session.sent_conn_decoded.port,
      messageNonce: fromHex(session.sent_conn_decoded.message_nonce)
    })
    const peer = await listener.accepted
    await write(peer)
    conn = await dialling
    assert.equal(conn.tezosPeerId, session.recv_conn_decoded.peer_id)
    assert.deepEqual(conn.version, { chainName: session.recv_conn_decoded.chain_name, distributedDbVersion: 0, p2pVersion: 1 })
    assert.deepEqual(conn.metadata, { disableMempool: false, privateNode: false })
    assert.equal(conn.connectionMessage.port, 9732)

    await conn.send(decodeP2pMessage(fromHex(session.chunks.sent[2].plaintext)))
    const first = await conn.messages().next()
    assert.equal(first.done, false)
    assert.deepEqual(first.value, decodeP2pMessage(fromHex(session.chunks.recv[2].plaintext)))
    await conn.send(decodeP2pMessage(fromHex(session.chunks.sent[3].plaintext)))
    await conn.flush()

    await waitFor(() => peer.receivedBytes().length >= expectedSent.length / 2, 'every captured sent byte')
    assert.equal(toHex(peer.receivedBytes()), expectedSent)
    peer.close()
  } finally {
    await conn?.close()
    listener.close()
  }
}

test('replay: the captured received bytes, written at once, make our side write the captured sent bytes exactly', async () => {
  await replay(peer => { peer.write(recvBytes) })
})

test('replay: the same, the received bytes dribbled one TCP write per byte', async () => {
  await replay(async peer => {
    for (const byte of recvBytes) {
      peer.write(Uint8Array.of(byte))
      await new Promise(resolve => setImmediate(resolve))
    }
  })
})
