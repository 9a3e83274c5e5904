import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import {
  InsufficientProofOfWorkError, Libp2pKeyFileError, checkIdentity, identityFromJson, loadLibp2pKey,
  loadOrCreateNodeKeys, resolveDataDir, saveIdentity, saveLibp2pKey, createLibp2pKey, formatIdentityJson
} from '../../src/identity/index.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { withTempDir } from '../helpers/temp-dir.ts'

test('first run creates identity.json and libp2p-key (0600); the next run loads the same keys', async () => {
  await withTempDir('keys', async (root) => {
    const dataDir = join(root, 'node')
    const first = await loadOrCreateNodeKeys(dataDir, { expectedPow: 6, workers: 2 })
    assert.deepEqual(first.created, { identity: true, libp2pKey: true })
    checkIdentity(first.identity, { expectedPow: 6 })
    assert.equal(first.libp2pKey.type, 'Ed25519')
    for (const name of ['identity.json', 'libp2p-key']) {
      assert.equal((await stat(join(dataDir, name))).mode & 0o777, 0o600, name)
    }
    assert.equal(await readFile(join(dataDir, 'identity.json'), 'utf8'), formatIdentityJson(first.identity))

    const again = await loadOrCreateNodeKeys(dataDir, { expectedPow: 6 })
    assert.deepEqual(again.created, { identity: false, libp2pKey: false })
    assert.equal(again.identity.peerId, first.identity.peerId)
    assert.ok(peerIdFromPrivateKey(again.libp2pKey).equals(peerIdFromPrivateKey(first.libp2pKey)))
  })
})

test('an existing identity below the expected PoW is refused, as Octez does', async () => {
  await withTempDir('keys', async (dataDir) => {
    const v = vectors.identities[0] // reaches 26.27
    await saveIdentity(dataDir, identityFromJson({ public_key: v.public_key, secret_key: v.secret_key, proof_of_work_stamp: v.proof_of_work_stamp }))
    await assert.rejects(loadOrCreateNodeKeys(dataDir, { expectedPow: 30 }), (e: unknown) =>
      e instanceof InsufficientProofOfWorkError && e.expected === 30 && e.actual === 26.26)
    const keys = await loadOrCreateNodeKeys(dataDir, { expectedPow: 26 })
    assert.equal(keys.identity.peerId, v.peer_id)
    assert.deepEqual(keys.created, { identity: false, libp2pKey: true })
  })
})

test('the libp2p key round-trips through its protobuf file; bad files are Libp2pKeyFileError', async () => {
  await withTempDir('keys', async (dataDir) => {
    assert.equal(await loadLibp2pKey(dataDir), undefined)
    const key = await createLibp2pKey()
    await saveLibp2pKey(dataDir, key)
    const loaded = await loadLibp2pKey(dataDir)
    assert.ok(loaded !== undefined && loaded.equals(key))
    await assert.rejects(saveLibp2pKey(dataDir, await createLibp2pKey()), (e: unknown) =>
      e instanceof Libp2pKeyFileError && /already exists/.test(e.message))
    assert.ok((await loadLibp2pKey(dataDir))?.equals(key))

    const file = join(dataDir, 'libp2p-key')
    await writeFile(file, 'not a key')
    await assert.rejects(loadLibp2pKey(dataDir), (e: unknown) => e instanceof Libp2pKeyFileError && /not a libp2p private key/.test(e.message))
    await assert.rejects(loadOrCreateNodeKeys(dataDir, { expectedPow: 0 }), Libp2pKeyFileError)
    await writeFile(file, privateKeyToProtobuf(await generateKeyPair('secp256k1')))
    await assert.rejects(loadLibp2pKey(dataDir), (e: unknown) => e instanceof Libp2pKeyFileError && /secp256k1/.test(e.message))
  })
})

test('data dir: --data-dir, then $TZP2P_DATA_DIR, then ~/.tzp2p', () => {
  assert.equal(resolveDataDir('rel/dir', { TZP2P_DATA_DIR: '/env' }), resolve('rel/dir'))
  assert.equal(resolveDataDir(undefined, { TZP2P_DATA_DIR: '/env/dir' }), '/env/dir')
  assert.equal(resolveDataDir(undefined, {}), join(homedir(), '.tzp2p'))
  assert.equal(resolveDataDir('', { TZP2P_DATA_DIR: '' }), join(homedir(), '.tzp2p'))
})
