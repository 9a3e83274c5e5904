import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  blake2b, precomputeChannelKey, sealWithKey, openWithKey, boxSeal, incrementNonce, octezNonces, boundNonces,
  b58Encode, b58Decode, x25519PublicFromSecret, x25519Keypair, DecipherError, PREFIXES, type Base58Kind
} from '../../src/crypto/index.ts'
import { fromHex, toHex, DecodeError } from '../../src/encoding/index.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

test('BLAKE2b-256 of the empty string is the empty operations_hash', () => {
  assert.equal(toHex(blake2b(new Uint8Array(0))), '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8')
  assert.equal(blake2b([fromHex('00'), fromHex('01')], 64).length, 64)
  assert.deepEqual(blake2b([fromHex('0001'), fromHex('02')]), blake2b(fromHex('000102')))
  assert.throws(() => blake2b(new Uint8Array(1), 8), RangeError)
})

test('peer ids: b58(9967 ‖ BLAKE2b-128(pk)) for every vector identity', () => {
  for (const id of [...vectors.identities, ...vectors.peer_ids]) {
    assert.equal(b58Encode('peerId', blake2b(fromHex(id.public_key), 16)), id.peer_id)
  }
})

test('X25519 public from secret matches every identity', () => {
  for (const id of vectors.identities) assert.equal(toHex(x25519PublicFromSecret(fromHex(id.secret_key))), id.public_key)
  const kp = x25519Keypair()
  assert.deepEqual(x25519PublicFromSecret(kp.secretKey), kp.publicKey)
})

test('crypto_box_beforenm and afternm seal match the vectors; open inverts; tampering fails', () => {
  const p = vectors.precompute[0]
  const key = precomputeChannelKey(fromHex(p.public_key), fromHex(p.secret_key))
  assert.equal(toHex(key), p.channel_key)
  const b = vectors.box[0]
  const sealed = sealWithKey(key, fromHex(b.nonce), fromHex(b.message))
  assert.equal(toHex(sealed), b.ciphertext)
  assert.equal(toHex(boxSeal(fromHex(b.message), fromHex(b.nonce), fromHex(p.public_key), fromHex(p.secret_key))), b.ciphertext)
  assert.equal(toHex(openWithKey(key, fromHex(b.nonce), sealed)), b.message)
  const bad = sealed.slice(); bad[20] ^= 1
  assert.throws(() => openWithKey(key, fromHex(b.nonce), bad), DecipherError)
  assert.throws(() => openWithKey(key, fromHex(b.nonce), sealed.subarray(0, 10)), DecipherError)
})

test('nonce increment is a 192-bit big-endian counter', () => {
  const inc = vectors.nonces.filter(n => n.kind !== 'generate_nonces')
  assert.equal(inc.length, 1)
  for (const n of inc) {
    assert.ok(n.input !== undefined && n.output !== undefined, 'an increment vector has an input and an output')
    assert.equal(toHex(incrementNonce(fromHex(n.input))), n.output)
  }
  assert.equal(toHex(incrementNonce(fromHex('ff'.repeat(24)))), '00'.repeat(24))
  assert.equal(toHex(incrementNonce(fromHex('00'.repeat(22) + '00ff'))), '00'.repeat(22) + '0100')
})

test('Octez nonce derivation matches the vectors for both directions', () => {
  for (const n of vectors.nonces.filter(n => n.kind === 'generate_nonces')) {
    const got = octezNonces(fromHex(n.sent as string), fromHex(n.recv as string), n.incoming as boolean)
    assert.equal(toHex(got.local), n.local)
    assert.equal(toHex(got.remote), n.remote)
  }
})

test('bound nonces: each side derives the other side\'s sealing nonce; binding changes them', () => {
  const a = fromHex('aa'.repeat(40)); const b = fromHex('bb'.repeat(40))
  const dialer = fromHex('0024' + '11'.repeat(36)); const listener = fromHex('0024' + '22'.repeat(36))
  const d = boundNonces(a, b, false, dialer, listener)
  const l = boundNonces(b, a, true, dialer, listener)
  assert.deepEqual(d.local, l.remote)
  assert.deepEqual(d.remote, l.local)
  assert.notDeepEqual(d.local, octezNonces(a, b, false).local)
  assert.notDeepEqual(d.local, boundNonces(a, b, false, listener, dialer).local)
})

test('base58check: every prefix round-trips with its documented start and length', () => {
  for (const [kind, p] of Object.entries(PREFIXES)) {
    for (const fill of [0x00, 0xff]) {
      const s = b58Encode(kind as Base58Kind, new Uint8Array(p.size).fill(fill))
      assert.ok(s.startsWith(p.starts), `${kind} starts with ${p.starts}: ${s}`)
      assert.equal(s.length, p.length, kind)
      assert.deepEqual(b58Decode(kind as Base58Kind, s), new Uint8Array(p.size).fill(fill))
    }
  }
  for (const [, hex] of Object.entries(vectors.base58_prefixes)) assert.match(hex, /^[0-9a-f]+$/)
  assert.equal(toHex(Uint8Array.from(PREFIXES.blockHash.bytes)), vectors.base58_prefixes.B)
  assert.equal(toHex(Uint8Array.from(PREFIXES.chainId.bytes)), vectors.base58_prefixes.Net)
  assert.throws(() => b58Decode('blockHash', 'idsg2wkkDDv2cbEMK4zH49fjgyn7XT'), DecodeError)
  assert.throws(() => b58Decode('peerId', 'idsg2wkkDDv2cbEMK4zH49fjgyn7XU'), DecodeError)
  assert.throws(() => b58Decode('peerId', 'not base58 0OIl'), DecodeError)
})
