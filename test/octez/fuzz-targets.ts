/**
 * Fuzz targets for the Octez wire's stream decoders, in the scheme of test/encoding/fuzz-support.ts
 * (registered in scripts/fuzz.ts; a short run is in test/octez/fuzz.test.ts):
 * - `octez_wire.chunks`: the received byte stream → chunk plaintexts (`ChunkDecoder`: 2-byte
 *   lengths, tag check, decryption with the connection's nonces);
 * - `octez_wire.framing`: chunk plaintexts → P2P envelopes (`EnvelopeAssembler`: envelopes across
 *   and within chunks, length and tag bounds).
 * Both are fed in uneven pieces, as TCP and chunking deliver them. The wire's typed errors are the
 * expected failures (mapped to DecodeError here); anything else is a bug.
 */
import { DecodeError, fromHex } from '../../src/encoding/index.ts'
import { ChunkCipher } from '../../src/handshake/channel.ts'
import { ChunkDecoder, cutMessage, EnvelopeAssembler, MAX_CHUNK_PLAINTEXT_BYTES, OctezWireError } from '../../src/octez/index.ts'
import { encodeP2pMessage, type P2pMessage } from '../../src/wire/p2p-message.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { roundTripTarget, type FuzzTarget } from '../encoding/fuzz-support.ts'
import { TZP2P_CASES } from '../../src/wire/tzp2p-messages.ts'

const session = vectors.session_carthagenet
const KEY = fromHex(session.channel_key)
const NONCE = fromHex(session.remote_nonce0)
/** Piece sizes the input is fed in, cycled: splits inside lengths, tags and bodies, and whole chunks. */
const PIECES = [1, 7, 2, MAX_CHUNK_PLAINTEXT_BYTES, 3, 1000, 65_535 + 2]

function pieces (input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0, i = 0; at < input.length; i++) {
    const n = PIECES[(i + input.length) % PIECES.length]
    out.push(input.subarray(at, at + n))
    at += n
  }
  return out
}

function asDecodeError (what: string, err: unknown): unknown {
  return err instanceof OctezWireError ? new DecodeError(what, 0, err.message) : err
}

/** A fresh receiving cipher at the captured session's first remote nonce. */
function cipher (): ChunkCipher {
  return new ChunkCipher(KEY, NONCE, NONCE)
}

export function decodeChunkStream (input: Uint8Array): Uint8Array[] {
  const decoder = new ChunkDecoder(cipher())
  const out: Uint8Array[] = []
  try {
    for (const piece of pieces(input)) out.push(...decoder.push(piece))
  } catch (err) {
    throw asDecodeError('octez_wire.chunks', err)
  }
  if (decoder.buffered > 0) throw new DecodeError('octez_wire.chunks', input.length - decoder.buffered, `the stream ends inside a chunk (${decoder.buffered} byte(s))`)
  return out
}

export function encodeChunkStream (plaintexts: Uint8Array[]): Uint8Array {
  const c = cipher()
  return Buffer.concat(plaintexts.map(p => c.seal(p)))
}

export function decodeEnvelopeStream (input: Uint8Array): P2pMessage[] {
  const assembler = new EnvelopeAssembler()
  const out: P2pMessage[] = []
  try {
    for (const piece of pieces(input)) out.push(...assembler.push(piece).map(r => r.message))
  } catch (err) {
    throw asDecodeError('octez_wire.framing', err)
  }
  if (!assembler.atBoundary) throw new DecodeError('octez_wire.framing', input.length, `the stream ends inside an envelope (${assembler.buffered} byte(s))`)
  return out
}

export function encodeEnvelopeStream (messages: P2pMessage[]): Uint8Array {
  return Buffer.concat(messages.map(m => encodeP2pMessage(m)))
}

/** `p2pCorpus`: whole envelopes (real vectors and generated messages). */
export function octezWireFuzzTargets (allMessages: Uint8Array[]): FuzzTarget[] {
  // Octez's messages only: tzp2p's own (gossip 1.1.0) are unknown tags on Octez's wire, as in Octez.
  const tzp2pCodes = new Set(Object.values(TZP2P_CASES).map(c => c.code))
  const p2pCorpus = allMessages.filter(b => !tzp2pCodes.has((b[4] << 8) | b[5]))
  // Streams of a few envelopes back to back, and the same streams sealed in chunks cut as a writer cuts them.
  const streams: Uint8Array[] = []
  for (let i = 0; i < p2pCorpus.length; i++) {
    streams.push(Buffer.concat([p2pCorpus[i], p2pCorpus[(i + 1) % p2pCorpus.length], p2pCorpus[(i + 7) % p2pCorpus.length]]))
  }
  const sealed = streams.map(s => encodeChunkStream(cutMessage(s, 1 + (s.length % 300))))
  const captured = Buffer.concat(session.chunks.recv.map(c => fromHex(c.hex)))
  return [
    roundTripTarget('octez_wire.chunks', decodeChunkStream, encodeChunkStream, [captured, ...sealed]),
    roundTripTarget('octez_wire.framing', decodeEnvelopeStream, encodeEnvelopeStream, [...streams, ...p2pCorpus])
  ]
}
