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
 * Decoded from a Node Buffer (what libp2p's streams deliver), the object's own fields are views of
 * that buffer (the reader's `fixed` is Buffer's `slice`), so the bytes are handed on as a view too:
 * it keeps nothing alive that the object does not, and a copy would be one more allocation per
 * header and operation. Decoded from a plain Uint8Array, the fields are copies, and so are the
 * bytes, so that they do not keep the whole input alive. Kept by identity, weakly, and forgotten
 * once taken.
 */
const received = new WeakMap<object, Uint8Array>()

/** `decode(r)`, remembering the bytes it consumed for `takeReceivedBytes`. */
export function decodeKeepingBytes<T extends object> (r: Reader, decode: (r: Reader) => T): T {
  const at = r.offset
  const value = decode(r)
  received.set(value, r.buf.subarray(at, r.offset))
  return value
}

/** The bytes `value` was decoded from (once; `undefined` if it was not or they were taken). Never to be written to. */
export function takeReceivedBytes (value: object): Uint8Array | undefined {
  const view = received.get(value)
  if (view === undefined) return undefined
  received.delete(value)
  return Buffer.isBuffer(view) ? view : view.slice()
}
