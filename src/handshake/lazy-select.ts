/**
 * Optimistic multistream-select for the handshake stream: the dialer proposes the protocol and sends
 * its connection message in the same message, and reads the listener's answer before its
 * connection message (protocols/handshake.md §2).
 *
 * js-libp2p 3 negotiates every new stream to the end before handing it over (`Connection.newStream`
 * runs `mss.select`: the proposal goes alone and the caller waits for the answer), and has no
 * option to do otherwise. It skips the negotiation for a stream its muxer reports as already
 * negotiated (`stream.protocol` set), which is what the node's muxer does when the caller passes
 * `LAZY_SELECT_OPTION` (src/node/yamux-window.ts): the caller then writes the very bytes `mss.select`
 * would have written and checks the answer itself. The listener runs the ordinary `mss.handle`,
 * which keeps the bytes that follow the proposal for the protocol handler. rust-libp2p's dialers
 * negotiate a single protocol the same way (multistream-select `V1Lazy`).
 */
import { bytesEqual } from '../encoding/index.ts'
import { HandshakeProtocolError } from './errors.ts'

/** The `newStream` option, passed through to the muxer, that asks for a stream left to negotiate. */
export const LAZY_SELECT_OPTION = 'tzp2pLazySelect'

/** multistream-select's protocol id (`@libp2p/multistream-select` `PROTOCOL_ID`). */
const MULTISTREAM_PROTOCOL_ID = '/multistream/1.0.0'

const lazyStreams = new WeakSet<object>()

/** Called by the muxer on a stream it handed over without negotiation, at the caller's request. */
export function markLazySelected (stream: object): void {
  lazyStreams.add(stream)
}

/** Whether the caller of `newStream` must write the proposal and read the answer itself. */
export function isLazySelected (stream: object): boolean {
  return lazyStreams.has(stream)
}

/** One multistream-select message: a varint length, the text, a newline. */
function line (text: string): Uint8Array {
  const body = new TextEncoder().encode(`${text}\n`)
  // Protocol ids of tzp2p fit a one-byte varint; a longer one would need the general encoding.
  if (body.length >= 0x80) throw new RangeError(`protocol id too long for a one-byte length: ${text}`)
  const out = new Uint8Array(1 + body.length)
  out[0] = body.length
  out.set(body, 1)
  return out
}

/**
 * The multistream-select proposal of `protocol`: the header and the protocol, each a message, as
 * `mss.select` writes them. A listener that speaks the protocol answers with the same bytes.
 */
export class LazySelection {
  readonly protocol: string
  readonly header: Uint8Array
  readonly protocolLine: Uint8Array
  /** header ‖ protocol line: written before the connection message. */
  readonly proposal: Uint8Array

  constructor (protocol: string) {
    this.protocol = protocol
    this.header = line(MULTISTREAM_PROTOCOL_ID)
    this.protocolLine = line(protocol)
    this.proposal = new Uint8Array(this.header.length + this.protocolLine.length)
    this.proposal.set(this.header, 0)
    this.proposal.set(this.protocolLine, this.header.length)
  }

  /** Checks the listener's answer, read piece by piece with `read(n)` (exactly n bytes). */
  async readAnswer (read: (n: number) => Promise<Uint8Array>): Promise<void> {
    const header = await read(this.header.length)
    if (!bytesEqual(header, this.header)) {
      throw new HandshakeProtocolError(`the listener did not answer multistream-select for ${this.protocol}`)
    }
    const length = (await read(1))[0]
    // The answer to a refused protocol ("na") or any other is a short line too; longer is garbage.
    const text = length < 0x80 ? new TextDecoder().decode(await read(length)) : undefined
    if (text !== `${this.protocol}\n`) {
      throw new HandshakeProtocolError(`the listener does not speak ${this.protocol}` +
        (text === undefined ? '' : `: it answered ${JSON.stringify(text.trimEnd())}`))
    }
  }
}
