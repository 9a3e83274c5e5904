import type { Codec, Reader, Writer } from '../encoding/index.ts'
import { EncodeError } from '../encoding/index.ts'
import { HASH_BYTES, readHash, writeHash } from './hashes.ts'

/** Octez bounds a gossiped mempool to 4000 operation hashes: `check_size (8 + 4000 · 32)`. */
export const MEMPOOL_MAX_OPERATIONS = 4000
export const MEMPOOL_MAX_BYTES = 8 + MEMPOOL_MAX_OPERATIONS * HASH_BYTES

/** `Mempool.t` as gossiped in Current_head: hashes only, never operation bodies. */
export interface Mempool {
  /** Operations the sender validated, in its order. */
  knownValid: Uint8Array[]
  /**
   * Operations it received but has not classified. Octez holds them in a set; on the wire it is a
   * plain list, kept here in wire order so that decoding and re-encoding is byte-exact.
   */
  pending: Uint8Array[]
}

export const EMPTY_MEMPOOL: Mempool = Object.freeze({ knownValid: [], pending: [] })

/** `known_valid` = `list hash`; `pending` = `dynamic_size (list hash)`, the whole ≤ 128 008 bytes. */
export const mempoolCodec: Codec<Mempool> = {
  name: 'mempool',
  maxSize: MEMPOOL_MAX_BYTES,
  encode (w: Writer, m: Mempool): void {
    const start = w.length
    w.dynamic(w => { for (const h of m.knownValid) writeHash(w, h, 'mempool.known_valid') }, 'mempool.known_valid')
    w.dynamic(w => w.dynamic(w => { for (const h of m.pending) writeHash(w, h, 'mempool.pending') }), 'mempool.pending')
    if (w.length - start > MEMPOOL_MAX_BYTES) {
      throw new EncodeError('mempool', `${w.length - start} bytes exceed the bound ${MEMPOOL_MAX_BYTES}`)
    }
  },
  decode (r: Reader): Mempool {
    const start = r.offset
    const maxList = MEMPOOL_MAX_BYTES - 8
    const knownValid = r.list('mempool.known_valid', maxList, MEMPOOL_MAX_OPERATIONS, sub => readHash(sub, 'mempool.known_valid'))
    const pending = r.dynamic('mempool.pending', maxList + 4, sub =>
      sub.list('mempool.pending', maxList, MEMPOOL_MAX_OPERATIONS, s => readHash(s, 'mempool.pending')))
    if (r.offset - start > MEMPOOL_MAX_BYTES) {
      r.fail('mempool', `${r.offset - start} bytes exceed the bound ${MEMPOOL_MAX_BYTES}`, start)
    }
    return { knownValid, pending }
  }
}
