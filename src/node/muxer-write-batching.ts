/**
 * Small muxer frames written in one turn of the event loop leave as one encrypted message.
 *
 * libp2p 3 sends each yamux frame on its own: `YamuxMuxer#sendFrame` → `AbstractStreamMuxer#send`
 * → the Noise stream, which seals it as one Noise message and writes it to the socket; the
 * receiver reads, decrypts and dispatches each message separately. The frames of one exchange are
 * often written together — a ping, a stream's SYN and its multistream-select header; the
 * multistream-select answer (two Data frames) and the first message of the protocol; a last Data
 * frame and the FIN of a stream closed right after — and each still costs a Noise message, two
 * socket writes and a read on the other side. The muxers of a new connection sent 15 Noise
 * messages from its opening to the end of the Tezos handshake; grouped by turn, 6 (docs/profiles.md,
 * "bench:handshake: one Noise message per turn, tags when they count").
 *
 * Yamux runs over a byte stream: the receiver's frame decoder reads frames out of whatever the
 * transport delivers, several per message or one across messages, so how frames are grouped into
 * Noise messages is not visible in the protocol and any yamux peer reads them alike.
 *
 * The rule: a frame that is small (`MAX_BATCHED_BYTES`) while the connection is not saturated is
 * copied and held until the end of the current turn (`process.nextTick`, which runs once the
 * promise jobs queued by the writer have run); everything held then goes out in one send. A large
 * frame, or any frame while the transport asks writers to wait for 'drain', first sends what is
 * held and then goes out at once, so flow control and order are the library's. Closing or aborting
 * the muxer sends what is held before the connection closes its transport.
 */
import type { Uint8ArrayList } from 'uint8arraylist'

/** Frames up to this size (and batches up to it in total) wait for the end of the turn. */
export const MAX_BATCHED_BYTES = 4096

type Data = Uint8Array | Uint8ArrayList

/** The members of libp2p's `AbstractStreamMuxer` this module wraps (public methods of the instance). */
export interface BatchableMuxer {
  status: string
  send: (data: Data) => boolean
  close: (options?: object) => Promise<void>
  abort: (err: Error) => void
}

/** The transport under the muxer: its 'drain' event ends a saturation. */
interface DrainSource {
  addEventListener: (type: 'drain', listener: () => void) => void
}

function copyOf (data: Data): Uint8Array {
  const out = new Uint8Array(data.byteLength)
  if (data instanceof Uint8Array) {
    out.set(data)
  } else {
    let offset = 0
    for (const chunk of data) {
      out.set(chunk, offset)
      offset += chunk.byteLength
    }
  }
  return out
}

/**
 * Makes `muxer` hold its small frames until the end of the turn (see the module comment). `maConn`
 * is the stream the muxer writes to (the Noise stream). Returns the muxer.
 */
export function batchMuxerWrites<M extends BatchableMuxer> (muxer: M, maConn: DrainSource): M {
  const librarySend = muxer.send.bind(muxer)
  const libraryClose = muxer.close.bind(muxer)
  const libraryAbort = muxer.abort.bind(muxer)
  /** Copies of the frames held, in order; sent as one message. */
  let held: Uint8Array[] = []
  let heldBytes = 0
  let scheduled = false
  /** The last send was refused room (`false`) and no 'drain' came since: writers must wait. */
  let saturated = false

  maConn.addEventListener('drain', () => { saturated = false })

  /** Sends what is held; a send that throws (a closed transport) throws to the caller, as the library's does. */
  const sendHeld = (): boolean => {
    if (heldBytes === 0) return !saturated
    const frames = held
    held = []
    heldBytes = 0
    const data = frames.length === 1 ? frames[0] : concat(frames)
    const more = librarySend(data)
    if (!more) saturated = true
    return more
  }

  const sendAtEndOfTurn = (): void => {
    scheduled = false
    try {
      sendHeld()
    } catch (err) {
      // The frames' writers have returned: the failure (the transport closed under us) ends the
      // muxer, as a send that threw in a writer's call would have ended its stream.
      if (muxer.status === 'open') libraryAbort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  muxer.send = (data: Data): boolean => {
    if (!saturated && heldBytes + data.byteLength <= MAX_BATCHED_BYTES) {
      held.push(copyOf(data))
      heldBytes += data.byteLength
      if (!scheduled) {
        scheduled = true
        process.nextTick(sendAtEndOfTurn)
      }
      return true
    }
    sendHeld()
    const more = librarySend(data)
    if (!more) saturated = true
    return more
  }

  /** Sends what is held as the muxer ends. */
  const sendHeldAtEnd = (): void => {
    try {
      sendHeld()
    } catch {
      // The transport closed first: the frames have nobody left to read them.
    }
  }

  muxer.close = async (options?: object): Promise<void> => {
    try {
      await libraryClose(options)
    } finally {
      // The GoAway (and any FIN) written while closing leaves before libp2p closes the transport.
      sendHeldAtEnd()
    }
  }

  muxer.abort = (err: Error): void => {
    libraryAbort(err)
    sendHeldAtEnd()
  }

  return muxer
}

function concat (frames: Uint8Array[]): Uint8Array {
  let total = 0
  for (const f of frames) total += f.byteLength
  const out = new Uint8Array(total)
  let offset = 0
  for (const f of frames) {
    out.set(f, offset)
    offset += f.byteLength
  }
  return out
}
