import sodium from 'sodium-native'

/** Digest sizes libsodium's BLAKE2b accepts (Octez uses 16 for peer ids and 32 for everything else). */
export const BLAKE2B_MIN_SIZE = sodium.crypto_generichash_BYTES_MIN
export const BLAKE2B_MAX_SIZE = sodium.crypto_generichash_BYTES_MAX

/**
 * Inputs up to this size are copied into `scratch` and hashed from there. A typed array of 64 bytes
 * or less (a hash, a key) lives on V8's heap until its `.buffer` is asked for, which sodium-native
 * does: V8 then allocates it a backing store of its own, copies it there, and later frees it on a
 * GC thread. Every hash output and most inputs are that small, so hashing them in place cost more
 * than the hashing; a copy into one long-lived buffer costs a few nanoseconds.
 */
const SCRATCH_INPUT_BYTES = 4096
const scratch = new Uint8Array(SCRATCH_INPUT_BYTES + BLAKE2B_MAX_SIZE)
const scratchInput = scratch.subarray(0, SCRATCH_INPUT_BYTES)
const scratchOutput = scratch.subarray(SCRATCH_INPUT_BYTES)

/**
 * Unkeyed BLAKE2b over the concatenation of `parts`. `size` is the digest length in bytes, 16 to
 * 64. The digest is a fresh array of its own (on V8's heap), never a view of a shared buffer.
 */
export function blake2b (parts: Uint8Array | readonly Uint8Array[], size = 32): Uint8Array {
  if (!Number.isInteger(size) || size < BLAKE2B_MIN_SIZE || size > BLAKE2B_MAX_SIZE) {
    throw new RangeError(`BLAKE2b digest size must be ${BLAKE2B_MIN_SIZE}..${BLAKE2B_MAX_SIZE}, got ${size}`)
  }
  // sodium-native 5 takes any Uint8Array (it reads `.buffer`/`byteOffset`), so no Buffer view is
  // made per call. (Its type declarations still say Buffer, hence the casts.)
  const digest = scratchOutput.subarray(0, size)
  if (parts instanceof Uint8Array) {
    if (parts.length <= SCRATCH_INPUT_BYTES) {
      scratchInput.set(parts)
      sodium.crypto_generichash(digest as Buffer, scratchInput.subarray(0, parts.length) as Buffer)
    } else {
      sodium.crypto_generichash(digest as Buffer, parts as Buffer)
    }
  } else {
    let total = 0
    for (const p of parts) total += p.length
    if (total <= SCRATCH_INPUT_BYTES) {
      let at = 0
      for (const p of parts) { scratchInput.set(p, at); at += p.length }
      sodium.crypto_generichash(digest as Buffer, scratchInput.subarray(0, total) as Buffer)
    } else {
      // Hashed incrementally, no copy.
      sodium.crypto_generichash_batch(digest as Buffer, parts as Buffer[])
    }
  }
  const out = new Uint8Array(size)
  out.set(digest)
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
