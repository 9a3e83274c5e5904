import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { octezNonces, precomputeChannelKey } from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import { ChunkCipher } from '../../src/handshake/channel.ts'
import { HandshakeDecipherError } from '../../src/handshake/errors.ts'
import { announcedVersion, selectVersion, SUPPORTED_DISTRIBUTED_DB_VERSIONS, SUPPORTED_P2P_VERSIONS } from '../../src/handshake/versions.ts'

const session = vectors.session_carthagenet
const localIdentity = vectors.identities.find(i => i.peer_id === session.local_identity)

describe('handshake chunks, byte for byte against a real Octez session', () => {
  it('derives the key and nonces with the unbound derivation, seals chunks #0-#3 exactly as captured, and opens every captured chunk both ways', () => {
    assert.ok(localIdentity !== undefined)
    const sent = fromHex(session.sent_conn_frame)
    const recv = fromHex(session.recv_conn_frame)
    const key = precomputeChannelKey(fromHex(session.recv_conn_decoded.public_key), fromHex(localIdentity.secret_key))
    assert.equal(toHex(key), session.channel_key)
    const nonces = octezNonces(sent, recv, session.incoming)
    assert.equal(toHex(nonces.local), session.local_nonce0)
    assert.equal(toHex(nonces.remote), session.remote_nonce0)

    const cipher = new ChunkCipher(key, nonces.local, nonces.remote)
    assert.equal(session.chunks.sent.length, 4)
    assert.equal(session.chunks.recv.length, 3)
    for (const chunk of session.chunks.sent) {
      assert.equal(toHex(cipher.seal(fromHex(chunk.plaintext))), chunk.hex, `sent chunk #${chunk.index}`)
    }
    // The sender's view: each captured sent chunk opens with the local nonce sequence.
    const peerView = new ChunkCipher(key, nonces.remote, nonces.local)
    for (const chunk of session.chunks.sent) {
      const framed = fromHex(chunk.hex)
      assert.equal(toHex(peerView.open(framed.subarray(2), `sent chunk #${chunk.index}`)), chunk.plaintext)
    }
    for (const chunk of session.chunks.recv) {
      const framed = fromHex(chunk.hex)
      assert.equal((framed[0] << 8) | framed[1], framed.length - 2)
      assert.equal(toHex(cipher.open(framed.subarray(2), `received chunk #${chunk.index}`)), chunk.plaintext)
    }
  })

  it('refuses a chunk sealed under another nonce with HandshakeDecipherError', () => {
    const key = fromHex(session.channel_key)
    // Opening the first received chunk with our own sending nonce: the wrong direction.
    const cipher = new ChunkCipher(key, fromHex(session.remote_nonce0), fromHex(session.local_nonce0))
    const framed = fromHex(session.chunks.recv[0].hex)
    assert.throws(() => cipher.open(framed.subarray(2), 'chunk #0'), HandshakeDecipherError)
  })
})

describe('version selection (Octez rules)', () => {
  const local = { chainName: 'TZP2P_TEST', distributedDbVersions: SUPPORTED_DISTRIBUTED_DB_VERSIONS, p2pVersions: SUPPORTED_P2P_VERSIONS }

  it('announces the greatest supported versions', () => {
    assert.deepEqual(announcedVersion(local), { chainName: 'TZP2P_TEST', distributedDbVersion: 2, p2pVersion: 1 })
  })

  it('takes our best when the peer announces at least that, else the peer\'s if supported', () => {
    assert.deepEqual(selectVersion(local, { chainName: 'TZP2P_TEST', distributedDbVersion: 7, p2pVersion: 9 }),
      { ok: true, version: { chainName: 'TZP2P_TEST', distributedDbVersion: 2, p2pVersion: 1 } })
    assert.deepEqual(selectVersion(local, { chainName: 'TZP2P_TEST', distributedDbVersion: 0, p2pVersion: 0 }),
      { ok: true, version: { chainName: 'TZP2P_TEST', distributedDbVersion: 0, p2pVersion: 0 } })
  })

  it('names the Nack motive of each mismatch, chain name first', () => {
    assert.deepEqual(selectVersion(local, { chainName: 'TEZOS_MAINNET', distributedDbVersion: 2, p2pVersion: 1 }),
      { ok: false, motive: 'Unknown_chain_name' })
    const newOnly = { ...local, distributedDbVersions: [2], p2pVersions: [1] }
    assert.deepEqual(selectVersion(newOnly, { chainName: 'TZP2P_TEST', distributedDbVersion: 1, p2pVersion: 0 }),
      { ok: false, motive: 'Deprecated_distributed_db_version' })
    assert.deepEqual(selectVersion(newOnly, { chainName: 'TZP2P_TEST', distributedDbVersion: 2, p2pVersion: 0 }),
      { ok: false, motive: 'Deprecated_p2p_version' })
    // Gaps in what we support count: 1 is below our best and not supported.
    assert.deepEqual(selectVersion({ ...local, distributedDbVersions: [0, 2] }, { chainName: 'TZP2P_TEST', distributedDbVersion: 1, p2pVersion: 1 }),
      { ok: false, motive: 'Deprecated_distributed_db_version' })
  })
})
