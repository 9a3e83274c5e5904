/**
 * The node's yamux muxer, with window updates sent only when they are needed.
 *
 * `@chainsafe/libp2p-yamux` 8.0.1 answers every Data frame it receives with a WindowUpdate frame
 * (`YamuxStream#handleData` calls `sendWindowUpdate`, which sends whenever any of the receive
 * window has been used). Over Noise that is one more frame, one more encryption and one more socket
 * write per message received: most of the muxer traffic of a handshake, a sync turn or a gossiped
 * head (docs/profiles.md). The yamux specification (hashicorp/yamux `spec.md`, "Flow Control")
 * only asks that updates be sent regularly enough that streams do not stall; hashicorp/yamux
 * (`stream.go`, `sendWindowUpdate`) and go-yamux send one only when the delta reaches half the
 * maximum window, or when a SYN/ACK flag has to go out. This module applies that rule.
 *
 * Nothing on the wire changes: the frames that are sent are the library's own (same flags, same
 * delta accounting, the same window growth when a window is consumed within four round trips);
 * fewer of them are sent. The sender always sees at least half the receive window open, so no
 * yamux peer stalls.
 *
 * Scope: the behaviour is set on each stream of the muxers this factory creates, never on the
 * shared `YamuxStream` prototype, so another libp2p host in the same process (a program embedding
 * tzp2p beside its own libp2p) keeps the library's behaviour. The library has no option for this
 * (`config.js`), so the muxer's stream constructor (`_newStream`) is wrapped; that is an internal
 * of the version this was written against, hence the version guard: with any other version the
 * stock muxer is used unchanged and `onUnsupported` is told why.
 */
import { readFileSync } from 'node:fs'
import { yamux, type YamuxMuxerInit } from '@chainsafe/libp2p-yamux'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { StreamMuxerFactory } from '@libp2p/interface'
import { batchMuxerWrites, type BatchableMuxer } from './muxer-write-batching.ts'

/** The `@chainsafe/libp2p-yamux` version whose internals (`_newStream`, the stream's window fields) this module reads. */
export const SPARSE_WINDOW_UPDATES_YAMUX_VERSION = '8.0.1'

/** The stream fields the rule reads; `private` in the library's typings. */
interface StreamWindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
}

type NewStream = (streamId: number, state: StreamState, direction: 'inbound' | 'outbound') => YamuxStream

/** The library's own method, called unbound on each stream when an update is due. */
const librarySendWindowUpdate = Object.getOwnPropertyDescriptor(YamuxStream.prototype, 'sendWindowUpdate')?.value as
  ((this: YamuxStream) => void) | undefined

/**
 * Sends a window update only when a flag has to go out (SYN on a new outbound stream, ACK on a new
 * inbound one), when the stream is paused (the library then only restarts its growth epoch), or
 * when at least half the receive window has been used; otherwise the remote still has half a
 * window to send into and the update would be one frame per Data frame.
 */
function sendWindowUpdateWhenHalfUsed (this: YamuxStream): void {
  const stream = this as unknown as StreamWindowFields
  const flagPending = stream.state === StreamState.Init || stream.state === StreamState.SYNReceived
  if (!flagPending && stream.state !== StreamState.Paused &&
    stream.recvWindow - stream.recvWindowCapacity < stream.recvWindow / 2) {
    return
  }
  librarySendWindowUpdate?.call(this)
}

/** Why the sparse window updates cannot be applied to the installed library, or undefined when they can. */
export function sparseWindowUpdatesUnsupported (): string | undefined {
  let version: string | undefined
  try {
    // The package's exports map hides package.json; it sits two levels above dist/src/index.js.
    const manifest = new URL('../../package.json', import.meta.resolve('@chainsafe/libp2p-yamux'))
    version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version
  } catch (err) {
    return `cannot read the @chainsafe/libp2p-yamux version (${(err as Error).message})`
  }
  if (version !== SPARSE_WINDOW_UPDATES_YAMUX_VERSION) {
    return `@chainsafe/libp2p-yamux ${String(version)} is not ${SPARSE_WINDOW_UPDATES_YAMUX_VERSION}`
  }
  if (typeof librarySendWindowUpdate !== 'function') return 'YamuxStream#sendWindowUpdate is missing'
  return undefined
}

const unsupported = sparseWindowUpdatesUnsupported()

export interface NodeYamuxOptions {
  /** Called once, when the factory is built, if the installed library is not the version this was written for. */
  onUnsupported?: (reason: string) => void
}

/**
 * A drop-in for `yamux(init)` whose streams send window updates by hashicorp/yamux's rule (see the
 * module comment). Falls back to the stock muxer, after calling `onUnsupported`, on any other
 * library version.
 */
export function nodeYamux (init?: YamuxMuxerInit, options: NodeYamuxOptions = {}): () => StreamMuxerFactory {
  const stock = yamux(init)
  if (unsupported !== undefined) {
    options.onUnsupported?.(`${unsupported}: yamux sends a window update per Data frame`)
    return stock
  }
  return () => {
    // The factory instance keeps its own identity (protocol, capabilities); only its method is replaced.
    const factory = stock()
    const createStreamMuxer = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (maConn) => {
      const muxer = createStreamMuxer(maConn)
      // Small frames of one turn leave in one Noise message (muxer-write-batching.ts).
      batchMuxerWrites(muxer as unknown as BatchableMuxer, maConn)
      const internals = muxer as unknown as { _newStream?: NewStream }
      const newStream = internals._newStream
      if (typeof newStream !== 'function') return muxer
      internals._newStream = (streamId, state, direction) => {
        const stream = newStream.call(muxer, streamId, state, direction)
        stream.sendWindowUpdate = sendWindowUpdateWhenHalfUsed
        return stream
      }
      return muxer
    }
    return factory
  }
}
