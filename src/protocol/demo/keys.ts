import sodium from 'sodium-native'
import { blake2b, b58Encode, b58Decode } from '../../crypto/index.ts'

/**
 * Ed25519 accounts of the demo protocol, on libsodium (`crypto_sign_*`): raw 32-byte public keys
 * and 64-byte signatures, as Tezos `tz1` accounts use. A public key hash is BLAKE2b-160 of the
 * public key (b58 `tz1…`).
 */

export const ED25519_PUBLIC_KEY_BYTES = 32
export const ED25519_SEED_BYTES = 32
export const ED25519_SIGNATURE_BYTES = 64
export const PUBLIC_KEY_HASH_BYTES = 20

export interface Ed25519Keypair {
  publicKey: Uint8Array
  /** libsodium's 64-byte secret key (seed ‖ public key). */
  secretKey: Uint8Array
  /** BLAKE2b-160 of the public key. */
  publicKeyHash: Uint8Array
}

function buf (b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

/** The keypair derived from a 32-byte seed (deterministic: devnets and tests name accounts by seed). */
export function ed25519FromSeed (seed: Uint8Array): Ed25519Keypair {
  if (seed.length !== ED25519_SEED_BYTES) throw new RangeError(`an Ed25519 seed is ${ED25519_SEED_BYTES} bytes, got ${seed.length}`)
  const publicKey = Buffer.alloc(ED25519_PUBLIC_KEY_BYTES)
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, buf(seed))
  return { publicKey: new Uint8Array(publicKey), secretKey: new Uint8Array(secretKey), publicKeyHash: publicKeyHash(publicKey) }
}

/** A seed from a human-readable name (BLAKE2b-256 of the UTF-8 name): `devnet-baker`, `alice`, … */
export function ed25519FromName (name: string): Ed25519Keypair {
  return ed25519FromSeed(blake2b(new TextEncoder().encode(name), 32))
}

export function publicKeyHash (publicKey: Uint8Array): Uint8Array {
  return blake2b(publicKey, PUBLIC_KEY_HASH_BYTES)
}

export function ed25519Sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== sodium.crypto_sign_SECRETKEYBYTES) throw new RangeError('an Ed25519 secret key is 64 bytes (seed ‖ public key)')
  const sig = Buffer.alloc(ED25519_SIGNATURE_BYTES)
  sodium.crypto_sign_detached(sig, buf(message), buf(secretKey))
  return new Uint8Array(sig)
}

export function ed25519Verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false
  return sodium.crypto_sign_verify_detached(buf(signature), buf(message), buf(publicKey))
}

export function encodePublicKeyHash (pkh: Uint8Array): string {
  return b58Encode('ed25519PublicKeyHash', pkh)
}

export function decodePublicKeyHash (s: string): Uint8Array {
  return b58Decode('ed25519PublicKeyHash', s)
}

export function encodePublicKey (pk: Uint8Array): string {
  return b58Encode('ed25519PublicKey', pk)
}

/** Accepts `edpk…` or 64 hex characters. */
export function decodePublicKey (s: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(s)) return new Uint8Array(Buffer.from(s, 'hex'))
  return b58Decode('ed25519PublicKey', s)
}
