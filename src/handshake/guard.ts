import type { Connection, Stream, StreamHandler } from '@libp2p/interface'

/** Anything that can tell whether a connection finished the Tezos handshake. */
export interface AuthenticationState {
  isAuthenticated: (connection: Pick<Connection, 'id'>) => boolean
}

/** A stream on a tzp2p protocol arrived on a connection that is not (yet) authenticated. */
export class UnauthenticatedStreamError extends Error {
  override readonly name = 'UnauthenticatedStreamError'
  constructor (protocol: string, connection: Pick<Connection, 'id'>) {
    super(`refused ${protocol === '' ? 'a stream' : protocol} on connection ${connection.id}: not authenticated by the Tezos handshake`)
  }
}

/**
 * The one guard every tzp2p protocol but the handshake uses: a stream handler that resets streams
 * arriving on connections that have not completed the handshake and hands the rest to `handler`.
 *
 * It wraps the handler rather than using libp2p's `registrar.use()` stream middleware because in
 * libp2p 3.3 the registrar hands out its stored middleware array and the connection appends the
 * protocol handler to it for every inbound stream, so a registered middleware chain grows and
 * runs the handler again for each earlier stream.
 */
export function authenticatedOnly (auth: AuthenticationState, handler: StreamHandler): StreamHandler {
  return (stream: Stream, connection: Connection): void => {
    if (!auth.isAuthenticated(connection)) {
      stream.abort(new UnauthenticatedStreamError(stream.protocol, connection))
      return
    }
    // Handed over, not awaited. libp2p's inbound path (the connection's onIncomingStream and its
    // middleware chain) stays suspended, with its negotiation timeout signal and protocol list,
    // until the handler returns; for a gossip stream that is the connection's life, about 1 KiB
    // of heap per peer (docs/profiles.md, "bench:peers: one listener table per event target").
    // A handler that fails aborts its stream, as libp2p does when the awaited handler throws.
    const abort = (err: unknown): void => { stream.abort(err instanceof Error ? err : new Error(String(err))) }
    try {
      const running = handler(stream, connection)
      if (running instanceof Promise) running.catch(abort)
    } catch (err) {
      abort(err)
    }
  }
}

/** For the opening side: throws unless the connection is authenticated. */
export function assertAuthenticated (auth: AuthenticationState, connection: Connection, protocol: string): void {
  if (!auth.isAuthenticated(connection)) throw new UnauthenticatedStreamError(protocol, connection)
}
