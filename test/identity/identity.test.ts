import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  IdentityFileError, IdentityKeysMismatchError, IdentityMismatchError, InsufficientProofOfWorkError,
  checkIdentity, formatIdentityJson, identityCodec, identityEncoding, identityFromJson, identityToJson, loadIdentity,
  parseIdentityJson, powDifficultyOf, saveIdentity, peerIdOfPublicKey, type Identity
} from '../../src/identity/index.ts'
import { DecodeError, decodeExact, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const fileJson = (v: typeof vectors.identities[number]): Record<string, string> => ({
  peer_id: v.peer_id, public_key: v.public_key, secret_key: v.secret_key, proof_of_work_stamp: v.proof_of_work_stamp
})
/** The identity file without its optional peer_id. */
const fileJsonWithoutPeerId = (v: typeof vectors.identities[number]): Record<string, string> => {
  const json = fileJson(v)
  delete json.peer_id
  return json
}
const ocaml = vectors.identities[0]
const other = vectors.identities[1]

// identity.json of docker/identities/identity_ocaml.json (tezedge/tezedge), as an Octez node wrote it.
const OCTEZ_WRITTEN = `{ "peer_id": "idrRoknJh9zwEePNswF3MPGFzmKaVp",
  "public_key":
    "5fd7ba1d15650abc9a510c37a8bee566b708fe6577f0d832b903e8f13d71c94a",
  "secret_key":
    "213d61d6e41b443bec6bf0d00f17f59dfb4bdca409c9c03887cc5196be12502e",
  "proof_of_work_stamp": "4b1354dcfc087e52c8fb510317b9464c297b8a55b79bfc95" }`

/** The error `fn` throws (assert.throws checks but does not return it). */
function thrown (fn: () => unknown): unknown {
  try { fn() } catch (e) { return e }
  return assert.fail('nothing was thrown')
}

test('every vector identity reads and passes the three Octez checks at PoW 26', () => {
  for (const v of vectors.identities) {
    const id = identityFromJson(fileJson(v))
    assert.equal(id.peerId, v.peer_id)
    assert.equal(toHex(id.publicKey), v.public_key)
    assert.equal(toHex(id.secretKey), v.secret_key)
    assert.equal(toHex(id.powStamp), v.proof_of_work_stamp)
    checkIdentity(id, { expectedPow: 26 })
    assert.equal(powDifficultyOf(id.publicKey, id.powStamp), v.max_difficulty)
  }
})

test('a file without peer_id reads with the peer_id recomputed from the public key', () => {
  for (const v of [...vectors.identities]) {
    const id = identityFromJson(fileJsonWithoutPeerId(v))
    assert.equal(id.peerId, v.peer_id)
    checkIdentity(id, { expectedPow: 26 })
  }
  assert.equal(peerIdOfPublicKey(fromHex(vectors.peer_ids[0].public_key)), vectors.peer_ids[0].peer_id)
})

test('a peer_id that is not hash(public_key) is IdentityMismatchError', () => {
  const id = identityFromJson({ ...fileJson(ocaml), peer_id: other.peer_id })
  const e = thrown(() => { checkIdentity(id, { file: 'x/identity.json' }) })
  assert.ok(e instanceof IdentityMismatchError)
  assert.equal(e.declared, other.peer_id)
  assert.equal(e.computed, ocaml.peer_id)
  assert.match(e.message, /x\/identity\.json: peer_id .* is not the hash of public_key/)
})

test('a secret key that does not give the public key is IdentityKeysMismatchError', () => {
  const id = identityFromJson({ ...fileJson(ocaml), secret_key: other.secret_key })
  assert.throws(() => { checkIdentity(id) }, IdentityKeysMismatchError)
})

test('too little proof of work is InsufficientProofOfWorkError with expected and actual difficulty', () => {
  const id = identityFromJson(fileJson(ocaml)) // reaches 26.2666…
  checkIdentity(id, { expectedPow: 26.26 })
  for (const expected of [26.27, 30, 40]) {
    try {
      checkIdentity(id, { expectedPow: expected })
      assert.fail('accepted')
    } catch (e) {
      assert.ok(e instanceof InsufficientProofOfWorkError)
      assert.equal(e.expected, expected)
      assert.equal(e.actual, 26.26) // rounded down: never shown as reaching what it misses
      assert.match(e.message, new RegExp(`reaches difficulty 26\\.26, below the expected ${expected}`))
    }
  }
})

test('malformed identities are IdentityFileError naming the key at fault', () => {
  const cases: Array<[unknown, string | undefined, RegExp]> = [
    [[], undefined, /expected a JSON object/],
    ['text', undefined, /expected a JSON object/],
    [{ ...fileJson(ocaml), extra: 1 }, 'extra', /unknown key "extra"/],
    [{ ...fileJson(ocaml), public_key: undefined }, 'public_key', /missing key "public_key"/],
    [{ ...fileJson(ocaml), secret_key: 'zz'.repeat(32) }, 'secret_key', /"secret_key" must be 64 hexadecimal characters/],
    [{ ...fileJson(ocaml), proof_of_work_stamp: 'ab' }, 'proof_of_work_stamp', /"proof_of_work_stamp" must be 48 hexadecimal/],
    [{ ...fileJson(ocaml), public_key: 7 }, 'public_key', /must be 64 hexadecimal characters .* got 7/],
    [{ ...fileJson(ocaml), peer_id: 'idrRoknJh9zwEePNswF3MPGFzmKaVq' }, 'peer_id', /"peer_id" must be a base58check peer id/],
    [{ ...fileJson(ocaml), peer_id: 12 }, 'peer_id', /"peer_id" must be a string/]
  ]
  for (const [json, key, message] of cases) {
    const e = thrown(() => identityFromJson(json, 'id.json'))
    assert.ok(e instanceof IdentityFileError)
    assert.equal(e.problem, 'malformed')
    assert.equal(e.key, key)
    assert.match(e.message, message)
    assert.match(e.message, /^id\.json: /)
  }
  assert.throws(() => parseIdentityJson('{ "peer_id": ', 'f'), (e: unknown) => e instanceof IdentityFileError && /not valid JSON/.test(e.message))
})

test('formatIdentityJson reproduces the file an Octez node wrote, byte for byte', () => {
  assert.equal(formatIdentityJson(identityFromJson(fileJson(ocaml))), OCTEZ_WRITTEN)
  for (const v of vectors.identities) {
    const text = formatIdentityJson(identityFromJson(fileJson(v)))
    assert.deepEqual(JSON.parse(text), fileJson(v))
    assert.deepEqual(Object.keys(JSON.parse(text) as Record<string, unknown>), ['peer_id', 'public_key', 'secret_key', 'proof_of_work_stamp'])
    assert.equal(text.length, OCTEZ_WRITTEN.length)
  }
})

test('saveIdentity writes Octez\'s layout with mode 0600; loadIdentity reads it back; no silent overwrite', async () => {
  const dir = await tempDir('identity')
  try {
    const id = identityFromJson(fileJson(ocaml))
    const file = await saveIdentity(join(dir, 'sub'), id)
    assert.equal(file, join(dir, 'sub', 'identity.json'))
    assert.equal(await readFile(file, 'utf8'), OCTEZ_WRITTEN)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await stat(join(dir, 'sub'))).mode & 0o777, 0o700)
    const back = await loadIdentity(join(dir, 'sub'), { expectedPow: 26 })
    assert.deepEqual(identityToJson(back), fileJson(ocaml))
    assert.deepEqual(identityToJson(await loadIdentity(file)), fileJson(ocaml))

    const replacement = identityFromJson(fileJson(other))
    await assert.rejects(saveIdentity(file, replacement), (e: unknown) => e instanceof IdentityFileError && e.problem === 'exists')
    assert.equal(await readFile(file, 'utf8'), OCTEZ_WRITTEN)
    await saveIdentity(file, replacement, { overwrite: true })
    assert.equal((await loadIdentity(file)).peerId, other.peer_id)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
  } finally {
    await removeDir(dir)
  }
})

test('loadIdentity reads compact JSON and files without peer_id; reports missing and bad files clearly', async () => {
  const dir = await tempDir('identity')
  try {
    const compact = join(dir, 'compact.json')
    await writeFile(compact, JSON.stringify(fileJson(other)))
    assert.equal((await loadIdentity(compact, { expectedPow: 26 })).peerId, other.peer_id)

    await writeFile(compact, JSON.stringify(fileJsonWithoutPeerId(other)))
    assert.equal((await loadIdentity(compact)).peerId, other.peer_id)

    await assert.rejects(loadIdentity(join(dir, 'none')), (e: unknown) =>
      e instanceof IdentityFileError && e.problem === 'missing' && e.file === join(dir, 'none', 'identity.json') &&
      /tzp2p identity generate/.test(e.message))

    const broken = join(dir, 'broken.json')
    await writeFile(broken, OCTEZ_WRITTEN.slice(0, 120))
    await assert.rejects(loadIdentity(broken), (e: unknown) => e instanceof IdentityFileError && e.problem === 'malformed')

    await writeFile(broken, JSON.stringify({ ...fileJson(ocaml), secret_key: other.secret_key }))
    await assert.rejects(loadIdentity(broken), IdentityKeysMismatchError)
    await writeFile(broken, JSON.stringify(fileJson(ocaml)))
    await assert.rejects(loadIdentity(broken, { expectedPow: 27 }), InsufficientProofOfWorkError)

    await writeFile(broken, Buffer.alloc(100_000, 0x20))
    await assert.rejects(loadIdentity(broken), (e: unknown) => e instanceof IdentityFileError && /too large/.test(e.message))
  } finally {
    await removeDir(dir)
  }
})

test('identity binary codec: optional peer id ‖ pk ‖ sk ‖ stamp, peer id recomputed when absent', () => {
  const id: Identity = identityFromJson(fileJson(ocaml))
  const bytes = encode(identityCodec, id)
  assert.equal(bytes.length, 105)
  assert.equal(bytes[0], 0xff)
  assert.equal(toHex(bytes.subarray(17)), ocaml.public_key + ocaml.secret_key + ocaml.proof_of_work_stamp)
  assert.deepEqual(identityToJson(decodeExact(identityCodec, bytes)), fileJson(ocaml))

  const withoutPeerId = new Uint8Array([0x00, ...bytes.subarray(17)])
  assert.equal(decodeExact(identityCodec, withoutPeerId).peerId, ocaml.peer_id)
  assert.throws(() => decodeExact(identityCodec, new Uint8Array([0x01, ...bytes.subarray(1)])), DecodeError)
  assert.throws(() => decodeExact(identityCodec, bytes.subarray(0, 104)), DecodeError)
  assert.throws(() => decodeExact(identityCodec, new Uint8Array([...bytes, 0])), DecodeError)
})

test('identityEncoding: binary codec and JSON under the name "identity"', () => {
  assert.equal(identityEncoding.name, 'identity')
  assert.equal(identityEncoding.codec, identityCodec)
  const id = identityEncoding.json.fromJson(fileJson(ocaml))
  assert.deepEqual(identityEncoding.json.toJson(id), fileJson(ocaml))
  assert.throws(() => identityEncoding.json.fromJson({ public_key: 'x' }, '$'),
    (e: unknown) => e instanceof IdentityFileError && e.key === 'public_key' && e.message.startsWith('$: '))
})
