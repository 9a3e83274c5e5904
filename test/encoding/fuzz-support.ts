/**
 * What the property tests and `npm run fuzz` share: the decoders under test, a corpus of real
 * encodings per decoder, and byte-level mutations (bit flips, truncation, length-prefix inflation,
 * splicing, insertion, deletion). The only acceptable failure of a decoder is `DecodeError`.
 */
import fc from 'fast-check'
import { DecodeError, decodeExact, encode, fromHex, type Codec } from '../../src/encoding/index.ts'
import {
  WIRE_ENCODINGS, decodeConnectionFrame, merklePathCodec, p2pMessageBodyCodec, p2pMessageBodyLength, p2pMessageCodec,
  pointStringCodec
} from '../../src/wire/index.ts'
import { identityCodec } from '../../src/identity/index.ts'
import { ARBITRARIES } from './arbitraries.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

export interface FuzzTarget {
  name: string
  /** Decodes a whole buffer (throws DecodeError on bad input). */
  decode: (bytes: Uint8Array) => unknown
  /** Re-encodes a value `decode` returned, when the target has an encoder. */
  encode?: (value: unknown) => Uint8Array
  corpus: Uint8Array[]
}

/** A target with an encoder for what its decoder returns. */
export function roundTripTarget<T> (
  name: string, decode: (bytes: Uint8Array) => T, encodeValue: (value: T) => Uint8Array, corpus: Uint8Array[]
): FuzzTarget {
  // `exercise` only hands `encode` what `decode` returned, so the value is a T.
  return { name, decode, encode: v => encodeValue(v as T), corpus }
}

/** The target of one codec: decodes whole buffers, and re-encodes what it decoded. */
function codecTarget<T> (name: string, codec: Codec<T>, corpus: Uint8Array[]): FuzzTarget {
  return roundTripTarget(name, b => decodeExact(codec, b), v => encode(codec, v), corpus)
}

const h = (s: string): Uint8Array => fromHex(s)

/** Real vectors per encoding name (the p2p_message corpus also gets one generated message per kind). */
function vectorCorpus (): Record<string, Uint8Array[]> {
  const messages = vectors.messages
  const full = messages.filter(m => m.scope === 'message').map(m => h(m.hex as string))
  const session = vectors.session_carthagenet.chunks.sent.slice(2).map(c => h(c.plaintext))
  return {
    p2p_message: [...full, ...session, ...vectors.operations_for_blocks.map(v => h(v.hex))],
    connection_message: vectors.connection_messages.map(v => h(v.wire_hex).subarray(2)),
    'connection_message.frame': [...vectors.connection_messages.map(v => h(v.wire_hex)),
      h(vectors.session_carthagenet.sent_conn_frame), h(vectors.session_carthagenet.recv_conn_frame)],
    network_version: vectors.network_version.map(v => h(v.hex)),
    connection_metadata: messages.filter(m => m.scope === 'metadata_chunk').map(m => h(m.hex as string)),
    ack: messages.filter(m => m.scope === 'ack_chunk' && m.hex !== undefined).map(m => h(m.hex as string)),
    block_header: vectors.block_headers.map(v => h(v.hex)),
    'block_header.shell': [h(vectors.block_headers[1].hex)],
    operation: vectors.operations.map(v => h(v.hex)),
    mempool: [h(messages.find(m => m.name === 'Mempool (empty)')!.hex as string)],
    block_locator: [h(vectors.session_carthagenet.chunks.sent[3].plaintext).subarray(10)],
    'operation_list_list_hash.path': [h(vectors.operations_for_blocks[0].hex).subarray(39)],
    fitness: [h('000000110000000100000000080000000000714aa0')],
    protocol: [],
    'p2p_point.id': [h('0000000e3132372e302e302e313a39383332')]
  }
}

/** A few generated values per encoding, so every message kind and optional field is in the corpus. */
function generatedCorpus (name: string, codec: Codec<unknown>, count: number): Uint8Array[] {
  const arb = ARBITRARIES[name]
  if (arb === undefined) return []
  return fc.sample(arb, { seed: 42, numRuns: count }).map(v => encode(codec, v))
}

export function fuzzTargets (generatedPerEncoding = 30): FuzzTarget[] {
  const corpus = vectorCorpus()
  const targets: FuzzTarget[] = WIRE_ENCODINGS.map(e =>
    codecTarget(e.name, e.codec, [...(corpus[e.name] ?? []), ...generatedCorpus(e.name, e.codec, generatedPerEncoding)]))
  const multiaddrMessages = p2pMessageCodec({ points: pointStringCodec(256, 'multiaddr'), name: 'tzp2p_peers_message' })
  const deepPath = merklePathCodec(1 + 33 * 32, 'merkle_path.deep')
  const p2pCorpus = targets.find(t => t.name === 'p2p_message')!.corpus
  // Without the outer length, mutations reach the fields inside messages far more often.
  const body = p2pMessageBodyCodec()
  targets.push(
    codecTarget('p2p_message.body', body, p2pCorpus.map(b => b.subarray(4))),
    codecTarget('tzp2p_peers_message', multiaddrMessages, p2pCorpus),
    codecTarget('merkle_path.deep', deepPath, corpus['operation_list_list_hash.path']),
    { name: 'connection_frame', decode: decodeConnectionFrame, corpus: corpus['connection_message.frame'] },
    { name: 'p2p_message.length', decode: p2pMessageBodyLength, corpus: p2pCorpus.map(b => b.subarray(0, 4)) },
    codecTarget('identity', identityCodec, vectors.identities.map(i => h('00' + i.public_key + i.secret_key + i.proof_of_work_stamp)))
  )
  return targets
}

/** A byte-level change to a corpus entry; positions are taken modulo the length. */
export type Mutation =
  | { kind: 'flip', at: number, bit: number }
  | { kind: 'truncate', at: number }
  | { kind: 'inflate', at: number, value: number }
  | { kind: 'nudge', at: number, delta: number }
  | { kind: 'splice', other: number, at: number, from: number }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'delete', at: number, count: number }

/** Lengths that must be refused before any allocation: uint30 max, int32 max, negative, just over. */
export const INFLATED_LENGTHS = [0x3fffffff, 0x7fffffff, 0xffffffff, 0x40000000, 0x01000000, 0x00ffffff]

export function applyMutation (input: Uint8Array, m: Mutation, corpus: Uint8Array[]): Uint8Array {
  const n = input.length
  const pos = (at: number): number => (n === 0 ? 0 : at % n)
  switch (m.kind) {
    case 'flip': {
      const out = input.slice()
      if (n > 0) out[pos(m.at)] ^= 1 << m.bit
      return out
    }
    case 'truncate':
      return input.slice(0, pos(m.at))
    case 'inflate':
    case 'nudge': {
      // Overwrite (or adjust) a 4-byte big-endian field, wherever it is: every length prefix is one.
      if (n < 4) return input.slice()
      const out = input.slice()
      const at = m.at % (n - 3)
      const view = new DataView(out.buffer)
      const value = m.kind === 'inflate' ? m.value : (view.getUint32(at) + m.delta) >>> 0
      view.setUint32(at, value >>> 0)
      return out
    }
    case 'splice': {
      const other = corpus[m.other % corpus.length] ?? input
      const from = other.length === 0 ? 0 : m.from % other.length
      const out = new Uint8Array(pos(m.at) + other.length - from)
      out.set(input.subarray(0, pos(m.at)))
      out.set(other.subarray(from), pos(m.at))
      return out
    }
    case 'insert': {
      const at = n === 0 ? 0 : m.at % (n + 1)
      const out = new Uint8Array(n + m.bytes.length)
      out.set(input.subarray(0, at)); out.set(m.bytes, at); out.set(input.subarray(at), at + m.bytes.length)
      return out
    }
    case 'delete': {
      const at = pos(m.at)
      const out = new Uint8Array(Math.max(0, n - Math.min(m.count, n - at)))
      out.set(input.subarray(0, at)); out.set(input.subarray(Math.min(n, at + m.count)), at)
      return out
    }
  }
}

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('inflate' as const), at: fc.nat(), value: fc.constantFrom(...INFLATED_LENGTHS) }),
  fc.record({ kind: fc.constant('nudge' as const), at: fc.nat(), delta: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('splice' as const), other: fc.nat(), at: fc.nat(), from: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) })
)

/** A decoder failed with something other than DecodeError: a bug. */
export class UnexpectedDecoderError extends Error {
  override readonly name = 'UnexpectedDecoderError'
  readonly target: string
  readonly input: Uint8Array

  constructor (target: string, input: Uint8Array, cause: unknown) {
    const c = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
    const hex = Buffer.from(input.subarray(0, 64)).toString('hex')
    super(`${target} threw ${c} on ${input.length} byte(s) ${hex}${input.length > 64 ? '…' : ''}`, { cause })
    this.target = target
    this.input = input
  }
}

export type Outcome = 'decoded' | 'DecodeError'

/**
 * Runs one input through a target: a DecodeError is fine; a success must survive re-encoding
 * (decode ∘ encode ∘ decode = decode); anything else is an UnexpectedDecoderError.
 */
export function exercise (target: FuzzTarget, input: Uint8Array): Outcome {
  let value: unknown
  try {
    value = target.decode(input)
  } catch (e) {
    if (e instanceof DecodeError) return 'DecodeError'
    throw new UnexpectedDecoderError(target.name, input, e)
  }
  if (target.encode !== undefined) {
    let again: unknown
    try {
      again = target.decode(target.encode(value))
    } catch (e) {
      throw new UnexpectedDecoderError(`${target.name} (re-encoding what it decoded)`, input, e)
    }
    if (!sameValue(again, value)) throw new UnexpectedDecoderError(`${target.name} (re-decoding differs)`, input, new Error('values differ'))
  }
  return 'decoded'
}

function sameValue (a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b))
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a); const kb = Object.keys(b)
    return ka.length === kb.length && ka.every(k => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}
