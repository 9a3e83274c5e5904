import { DecodeError, Reader } from '../encoding/index.ts'
import { DDB_CASES } from '../wire/ddb-messages.ts'
import { peerMessageCases } from '../wire/peer-messages.ts'
import {
  P2P_MESSAGE_LENGTH_BYTES, P2P_MESSAGE_TAG_BYTES, p2pMessageBodyCodec, p2pMessageBodyLength, type P2pMessage
} from '../wire/p2p-message.ts'
import { MalformedMessageError } from './errors.ts'

const bodyCodec = p2pMessageBodyCodec()
const ENVELOPE_HEADER_BYTES = P2P_MESSAGE_LENGTH_BYTES + P2P_MESSAGE_TAG_BYTES

/** Every tag of Octez's P2P envelope union (`P2p_message.encoding` + the Distributed-DB messages). */
const KNOWN_TAGS: ReadonlySet<number> = new Set(
  [...Object.values(peerMessageCases()), ...Object.values(DDB_CASES)].map(c => c.code)
)

export interface ReceivedMessage {
  message: P2pMessage
  /** Envelope size, length prefix included (what the incoming queue counts). */
  size: number
}

/**
 * Reassembles P2P envelopes (4-byte length ‖ 2-byte tag ‖ payload, at most 100 MiB) from chunk
 * plaintexts. As Octez's reader (`P2p_socket.Reader.read_message`, a streaming decoder fed chunk by
 * chunk), an envelope may span any number of chunks and a chunk may hold the end of one envelope
 * and the start of the next; a chunk boundary means nothing.
 *
 * Bounds are checked as soon as the bytes that prove them wrong are in: the length when its 4 bytes
 * are, the tag when its 2 bytes are (Octez's decoder fails on an unknown tag without waiting for
 * the rest). Failures are `MalformedMessageError`; after one the assembler must not be used again.
 */
export class EnvelopeAssembler {
  private parts: Uint8Array[] = []
  private partBytes = 0
  /** Body length of the envelope being assembled, once its prefix is in. */
  private bodyLength: number | undefined

  /** Bytes held for the envelope not yet complete. */
  get buffered (): number {
    return this.partBytes
  }

  /** True when no envelope is half-received (the stream may end here cleanly). */
  get atBoundary (): boolean {
    return this.partBytes === 0
  }

  push (plaintext: Uint8Array): ReceivedMessage[] {
    const out: ReceivedMessage[] = []
    let data = plaintext
    while (data.length > 0) {
      if (this.partBytes < ENVELOPE_HEADER_BYTES) {
        const need = ENVELOPE_HEADER_BYTES - this.partBytes
        const used = Math.min(need, data.length)
        this.append(data.subarray(0, used))
        data = data.subarray(used)
        if (this.partBytes >= P2P_MESSAGE_LENGTH_BYTES) this.checkLength()
        if (this.partBytes < ENVELOPE_HEADER_BYTES) continue
        this.checkTag()
      }
      const total = P2P_MESSAGE_LENGTH_BYTES + (this.bodyLength as number)
      const used = Math.min(total - this.partBytes, data.length)
      if (used > 0) this.append(data.subarray(0, used))
      data = data.subarray(used)
      if (this.partBytes === total) out.push(this.complete())
    }
    return out
  }

  private append (bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.parts.push(bytes)
    this.partBytes += bytes.length
  }

  private joined (): Uint8Array {
    if (this.parts.length === 1) return this.parts[0]
    const all = new Uint8Array(this.partBytes)
    let at = 0
    for (const p of this.parts) { all.set(p, at); at += p.length }
    this.parts = [all]
    return all
  }

  private checkLength (): void {
    if (this.bodyLength !== undefined) return
    try {
      this.bodyLength = p2pMessageBodyLength(this.joined().subarray(0, P2P_MESSAGE_LENGTH_BYTES))
    } catch (err) {
      if (err instanceof DecodeError) throw new MalformedMessageError(err.message, { cause: err })
      throw err
    }
  }

  private checkTag (): void {
    const head = this.joined()
    const tag = (head[P2P_MESSAGE_LENGTH_BYTES] << 8) | head[P2P_MESSAGE_LENGTH_BYTES + 1]
    if (!KNOWN_TAGS.has(tag)) throw new MalformedMessageError(`unknown message tag 0x${tag.toString(16).padStart(4, '0')}`)
  }

  private complete (): ReceivedMessage {
    const envelope = this.joined()
    const size = envelope.length
    this.parts = []
    this.partBytes = 0
    this.bodyLength = undefined
    try {
      const r = new Reader(envelope.subarray(P2P_MESSAGE_LENGTH_BYTES))
      const message = bodyCodec.decode(r)
      r.expectEnd(bodyCodec.name)
      return { message, size }
    } catch (err) {
      if (err instanceof DecodeError) throw new MalformedMessageError(err.message, { cause: err })
      throw err
    }
  }
}
