import sodium from 'sodium-native'
import { hsalsa } from '@noble/ciphers/salsa.js'
import { asBuffer } from './blake2b.ts'

/** NaCl `crypto_box` sizes, as in Octez's `Hacl.Box`. */
export const BOX_KEY_BYTES = 32
export const BOX_NONCE_BYTES = 24
export const BOX_TAG_BYTES = 16

export interface BoxKeypair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

/** Thrown when a sealed chunk fails its Poly1305 check (Octez `Decipher_error`). */
export class DecipherError extends Error {
  override readonly name = 'DecipherError'
  constructor () { super('authentication tag mismatch: message forged, corrupted or sealed with another key/nonce') }
}

function checkLength (what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${b.length}`)
}

/** Fresh X25519 keypair (32 random bytes of secret, as Octez's `Box.keypair`). */
export function x25519Keypair (): BoxKeypair {
  const publicKey = Buffer.alloc(BOX_KEY_BYTES)
  const secretKey = Buffer.alloc(BOX_KEY_BYTES)
  sodium.crypto_box_keypair(publicKey, secretKey)
  return { publicKey: new Uint8Array(publicKey), secretKey: new Uint8Array(secretKey) }
}

/** Octez `neuterize`: the public key is X25519(sk, basepoint 9). */
export function x25519PublicFromSecret (secretKey: Uint8Array): Uint8Array {
  checkLength('secret key', secretKey, BOX_KEY_BYTES)
  const pk = Buffer.alloc(BOX_KEY_BYTES)
  sodium.crypto_scalarmult_base(pk, asBuffer(secretKey))
  return new Uint8Array(pk)
}

// "expand 32-byte k" as four little-endian words: the Salsa20 constant HSalsa20 runs with.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

function toWordsLE (b: Uint8Array): Uint32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const w = new Uint32Array(b.length / 4)
  for (let i = 0; i < w.length; i++) w[i] = dv.getUint32(i * 4, true)
  return w
}

/**
 * `crypto_box_beforenm(remotePk, localSk)`: HSalsa20(X25519(sk, pk), 0^16), Octez `precompute`.
 * libsodium's binding has no `beforenm`, so the X25519 step is libsodium's and the HSalsa20 step
 * is @noble/ciphers' audited core; the result is checked against NaCl vectors in the tests.
 */
export function precomputeChannelKey (remotePublicKey: Uint8Array, localSecretKey: Uint8Array): Uint8Array {
  checkLength('public key', remotePublicKey, BOX_KEY_BYTES)
  checkLength('secret key', localSecretKey, BOX_KEY_BYTES)
  const shared = Buffer.alloc(32)
  try {
    sodium.crypto_scalarmult(shared, asBuffer(localSecretKey), asBuffer(remotePublicKey))
  } catch {
    // libsodium refuses low-order points (the shared secret would be all zeros).
    throw new DecipherError()
  }
  const out = new Uint32Array(8)
  hsalsa(SIGMA, toWordsLE(shared), new Uint32Array(4), out)
  const key = new Uint8Array(32)
  const dv = new DataView(key.buffer)
  for (let i = 0; i < 8; i++) dv.setUint32(i * 4, out[i], true)
  shared.fill(0)
  return key
}

/**
 * `crypto_box_easy_afternm`: XSalsa20-Poly1305 with a precomputed key; output is tag ‖ ciphertext,
 * byte-identical to what Octez writes in a chunk.
 */
export function sealWithKey (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkLength('channel key', key, BOX_KEY_BYTES)
  checkLength('nonce', nonce, BOX_NONCE_BYTES)
  const out = Buffer.alloc(plaintext.length + BOX_TAG_BYTES)
  sodium.crypto_secretbox_easy(out, asBuffer(plaintext), asBuffer(nonce), asBuffer(key))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** Inverse of `sealWithKey`; throws `DecipherError` when the tag does not verify. */
export function openWithKey (key: Uint8Array, nonce: Uint8Array, boxed: Uint8Array): Uint8Array {
  checkLength('channel key', key, BOX_KEY_BYTES)
  checkLength('nonce', nonce, BOX_NONCE_BYTES)
  if (boxed.length < BOX_TAG_BYTES) throw new DecipherError()
  const out = Buffer.alloc(boxed.length - BOX_TAG_BYTES)
  if (!sodium.crypto_secretbox_open_easy(out, asBuffer(boxed), asBuffer(nonce), asBuffer(key))) {
    throw new DecipherError()
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** `crypto_box_easy` with the two keys (no precomputation); same bytes as `sealWithKey`. */
export function boxSeal (plaintext: Uint8Array, nonce: Uint8Array, remotePublicKey: Uint8Array, localSecretKey: Uint8Array): Uint8Array {
  const out = Buffer.alloc(plaintext.length + BOX_TAG_BYTES)
  sodium.crypto_box_easy(out, asBuffer(plaintext), asBuffer(nonce), asBuffer(remotePublicKey), asBuffer(localSecretKey))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** Cryptographically secure random bytes (libsodium `randombytes_buf`). */
export function randomBytes (n: number): Uint8Array {
  const b = Buffer.alloc(n)
  sodium.randombytes_buf(b)
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
