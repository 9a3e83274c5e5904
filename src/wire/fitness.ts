import type { Codec, Reader, Writer } from '../encoding/index.ts'

/** A fitness is a list of byte strings, opaque to the shell except for its ordering. */
export type Fitness = Uint8Array[]

/** `Fitness.encoding` = `list bytes`: a 4-byte total length, then each element length-prefixed. */
export const fitnessCodec: Codec<Fitness> = {
  name: 'fitness',
  encode (w: Writer, f: Fitness): void {
    w.dynamic(w => { for (const e of f) w.bytes(e, 'fitness.element') }, 'fitness')
  },
  decode (r: Reader): Fitness {
    // No count bound of its own; the enclosing header's size bound limits it, and every length
    // is checked against the bytes left before anything is allocated.
    return r.list('fitness', r.remaining, Number.MAX_SAFE_INTEGER, sub => sub.bytes('fitness.element', sub.remaining))
  }
}

/** Octez element order: a shorter element is smaller; equal lengths compare bytewise. */
function compareElement (a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  }
  return 0
}

/**
 * `Fitness.compare`: a list with fewer elements is smaller; lists of equal length compare element
 * by element. Returns -1, 0 or 1.
 */
export function compareFitness (a: Fitness, b: Fitness): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1
  for (let i = 0; i < a.length; i++) {
    const c = compareElement(a[i], b[i])
    if (c !== 0) return c
  }
  return 0
}
