import type { Reader } from '../encoding/index.ts'

/**
 * The exact bytes a block header or an operation of a peer's answer was decoded from, so that the
 * node hashes them as received instead of encoding the decoded object again
 * (`src/chain/received-hashes.ts`). A header's or an operation's hash is BLAKE2b-256 of its binary
 * encoding, and both encodings are canonical: fixed-size fields, a fitness whose length prefixes
 * must end exactly where the list's own prefix says (`fitness.ts`), and opaque bytes running to
 * the end; so the bytes a decoder accepted are the encoding of what it returned, byte for byte
 * (`test/wire/received-bytes.test.ts` checks it against the encoder).
 *
 * The bytes are a view into the received buffer until they are taken: `takeReceivedBytes` copies
 * them and forgets the view, so no view outlives the hashing. Kept by identity, weakly: an object
 * nobody hashes takes its view with it.
 */
const received = new WeakMap<object, Uint8Array>()

/** `decode(r)`, remembering the bytes it consumed for `takeReceivedBytes`. */
export function decodeKeepingBytes<T extends object> (r: Reader, decode: (r: Reader) => T): T {
  const at = r.offset
  const value = decode(r)
  received.set(value, r.buf.subarray(at, r.offset))
  return value
}

/** A copy of the bytes `value` was decoded from (once; `undefined` if it was not or they were taken). */
export function takeReceivedBytes (value: object): Uint8Array | undefined {
  const view = received.get(value)
  if (view === undefined) return undefined
  received.delete(value)
  const copy = new Uint8Array(view.length)
  copy.set(view)
  return copy
}
