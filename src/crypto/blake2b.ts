import sodium from 'sodium-native'

/** Digest sizes libsodium's BLAKE2b accepts (Octez uses 16 for peer ids and 32 for everything else). */
export const BLAKE2B_MIN_SIZE = sodium.crypto_generichash_BYTES_MIN
export const BLAKE2B_MAX_SIZE = sodium.crypto_generichash_BYTES_MAX

/**
 * Unkeyed BLAKE2b over the concatenation of `parts` (hashed incrementally, no copy).
 * `size` is the digest length in bytes, 16 to 64.
 */
export function blake2b (parts: Uint8Array | readonly Uint8Array[], size = 32): Uint8Array {
  if (!Number.isInteger(size) || size < BLAKE2B_MIN_SIZE || size > BLAKE2B_MAX_SIZE) {
    throw new RangeError(`BLAKE2b digest size must be ${BLAKE2B_MIN_SIZE}..${BLAKE2B_MAX_SIZE}, got ${size}`)
  }
  // sodium-native 5 takes any Uint8Array (it reads `.buffer`/`byteOffset`), so neither the output
  // nor the parts need a Buffer view: about a quarter of the cost of hashing a 32-byte node.
  // (Its type declarations still say Buffer, hence the casts.)
  const out = new Uint8Array(size)
  if (parts instanceof Uint8Array) {
    sodium.crypto_generichash(out as Buffer, parts as Buffer)
  } else {
    sodium.crypto_generichash_batch(out as Buffer, parts as Buffer[])
  }
  return out
}

/** BLAKE2b-256, the hash behind every Octez block, operation and list hash. */
export function blake2b256 (parts: Uint8Array | readonly Uint8Array[]): Uint8Array {
  return blake2b(parts, 32)
}

/** sodium-native wants Buffers; this views a Uint8Array as one without copying. */
export function asBuffer (b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}
