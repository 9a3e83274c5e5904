/**
 * The application's own data: a note on a shared board. Its binary form is what travels as the
 * `data` of a tzp2p operation:
 *
 *   author length (1 byte, 1..32) ‖ author (UTF-8) ‖ sequence number (4 bytes, big-endian, ≥ 1)
 *   ‖ text length (2 bytes, 1..280) ‖ text (UTF-8)
 */
import { DecodeError, Reader, Writer } from 'tzp2p'

export interface Note {
  author: string
  /** Numbers the author's notes: (author, seq) names a note once and for all. */
  seq: number
  text: string
}

export const MAX_AUTHOR_BYTES = 32
export const MAX_TEXT_BYTES = 280

const utf8 = new TextEncoder()
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeNote (note: Note): Uint8Array {
  const author = utf8.encode(note.author)
  const text = utf8.encode(note.text)
  if (author.length < 1 || author.length > MAX_AUTHOR_BYTES) throw new RangeError(`an author is 1 to ${MAX_AUTHOR_BYTES} bytes`)
  if (text.length < 1 || text.length > MAX_TEXT_BYTES) throw new RangeError(`a note is 1 to ${MAX_TEXT_BYTES} bytes`)
  if (!(Number.isInteger(note.seq) && note.seq >= 1 && note.seq <= 0xffffffff)) throw new RangeError('seq is a positive 32-bit integer')
  return new Writer().uint8(author.length).raw(author).uint32(note.seq).uint16(text.length).raw(text).finish()
}

/** Decodes a note; anything else is a `DecodeError` (tzp2p's bounded reader never over-reads). */
export function decodeNote (data: Uint8Array): Note {
  const r = new Reader(data)
  const authorLength = r.uint8('note.author_length')
  if (authorLength < 1 || authorLength > MAX_AUTHOR_BYTES) r.fail('note.author_length', `must be 1..${MAX_AUTHOR_BYTES}`, 0)
  const author = text(r.fixed(authorLength, 'note.author'), 'note.author')
  const seq = r.uint32('note.seq')
  if (seq < 1) r.fail('note.seq', 'must be at least 1', 1 + authorLength)
  const textLength = r.uint16('note.text_length')
  if (textLength < 1 || textLength > MAX_TEXT_BYTES) r.fail('note.text_length', `must be 1..${MAX_TEXT_BYTES}`, 5 + authorLength)
  const body = text(r.fixed(textLength, 'note.text'), 'note.text')
  r.expectEnd('note')
  return { author, seq, text: body }
}

function text (bytes: Uint8Array, what: string): string {
  try {
    return fatalUtf8.decode(bytes)
  } catch {
    throw new DecodeError(what, 0, 'not UTF-8')
  }
}
