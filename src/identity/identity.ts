import { b58Encode, blake2b, x25519PublicFromSecret, BOX_KEY_BYTES } from '../crypto/index.ts'
import { bytesEqual } from '../encoding/index.ts'
import { IdentityKeysMismatchError, IdentityMismatchError, InsufficientProofOfWorkError } from './errors.ts'
import { POW_STAMP_BYTES, checkProofOfWork, makePowTarget, powDifficultyFloor } from './pow.ts'

/**
 * A Tezos P2P identity, the content of Octez's `identity.json`: an X25519 `crypto_box` keypair,
 * the proof-of-work stamp found for its public key, and the peer id derived from that key.
 */
export interface Identity {
  /** b58check `id…` (30 characters) of BLAKE2b-128(publicKey). */
  peerId: string
  /** 32-byte X25519 public key. */
  publicKey: Uint8Array
  /** 32-byte X25519 secret scalar. */
  secretKey: Uint8Array
  /** 24-byte stamp such that BLAKE2b-256(publicKey ‖ stamp), little-endian, is ≤ the PoW target. */
  powStamp: Uint8Array
}

export const PUBLIC_KEY_BYTES = BOX_KEY_BYTES
export const SECRET_KEY_BYTES = BOX_KEY_BYTES
/** Size of the raw peer id: BLAKE2b-128. */
export const PEER_ID_HASH_BYTES = 16

/** Octez `Crypto_box.hash`: peer_id = b58check(0x9967 ‖ BLAKE2b-128(public key)). */
export function peerIdOfPublicKey (publicKey: Uint8Array): string {
  return b58Encode('peerId', peerIdHashOfPublicKey(publicKey))
}

/** The 16 raw bytes of a peer id, as the wire carries it. */
export function peerIdHashOfPublicKey (publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError(`public key must be ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`)
  return blake2b(publicKey, PEER_ID_HASH_BYTES)
}

/** Builds an identity whose peer id is computed from its public key. */
export function makeIdentity (publicKey: Uint8Array, secretKey: Uint8Array, powStamp: Uint8Array): Identity {
  if (secretKey.length !== SECRET_KEY_BYTES) throw new RangeError(`secret key must be ${SECRET_KEY_BYTES} bytes, got ${secretKey.length}`)
  if (powStamp.length !== POW_STAMP_BYTES) throw new RangeError(`proof-of-work stamp must be ${POW_STAMP_BYTES} bytes, got ${powStamp.length}`)
  return { peerId: peerIdOfPublicKey(publicKey), publicKey, secretKey, powStamp }
}

export interface CheckIdentityOptions {
  /** When given, the stamp must satisfy `makePowTarget(expectedPow)`. */
  expectedPow?: number
  /** Named in error messages. */
  file?: string
}

/**
 * Octez `Identity_file.read`'s checks, in its order: the peer id is the hash of the public key,
 * the public key belongs to the secret key, and (if asked) the PoW reaches the expected difficulty.
 */
export function checkIdentity (identity: Identity, options: CheckIdentityOptions = {}): void {
  const computed = peerIdOfPublicKey(identity.publicKey)
  if (computed !== identity.peerId) throw new IdentityMismatchError(identity.peerId, computed, options.file)
  if (!bytesEqual(x25519PublicFromSecret(identity.secretKey), identity.publicKey)) {
    throw new IdentityKeysMismatchError(options.file)
  }
  const expected = options.expectedPow
  if (expected !== undefined && !checkProofOfWork(identity.publicKey, identity.powStamp, makePowTarget(expected))) {
    throw new InsufficientProofOfWorkError(expected, powDifficultyFloor(identity.publicKey, identity.powStamp), options.file)
  }
}
