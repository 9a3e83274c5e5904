export { blake2b, blake2b256, BLAKE2B_MIN_SIZE, BLAKE2B_MAX_SIZE } from './blake2b.ts'
export {
  x25519Keypair, x25519PublicFromSecret, precomputeChannelKey, sealWithKey, openWithKey, boxSeal, randomBytes,
  DecipherError, BOX_KEY_BYTES, BOX_NONCE_BYTES, BOX_TAG_BYTES, type BoxKeypair
} from './box.ts'
export { incrementNonce, octezNonces, boundNonces, type ChannelNonces } from './nonce.ts'
export { b58Encode, b58Decode, PREFIXES, type Base58Kind } from './base58.ts'
