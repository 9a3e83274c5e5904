import type { Connection, Stream } from '@libp2p/interface'
import type { AuthenticatedPeer } from './authenticated-peers.ts'
import { HandshakeTimeoutError, PeerRejectedError, RejectedByPeerError } from './errors.ts'

/**
 * A connection between `connection:open` and the end of its handshake: its deadline, what the
 * remote claimed so far, the result awaited by `HandshakeService.authenticated`, and how it is
 * closed when the handshake fails. Apart from the service, which decides when a handshake starts
 * and what its outcome means for the node, so that the life of one connection reads in one place.
 */

/** Per-connection bookkeeping from `connection:open` until authenticated, failed or closed. */
export interface PendingConnection {
  connection: Connection
  deadline: AbortController
  timer?: ReturnType<typeof setTimeout>
  started: boolean
  settled: boolean
  /** As claimed in the remote's connection message. */
  tezosPeerId?: string
  /** Whether a chunk sealed under that id's key has opened (only then is the id greylisted). */
  tezosPeerIdProven: boolean
  result: PromiseWithResolvers<AuthenticatedPeer>
}

/**
 * A new pending connection whose deadline fires after `timeoutMs` (Octez `authentication_timeout`):
 * its signal aborts with a `HandshakeTimeoutError`, then `onTimeout` ends it.
 */
export function pendingConnection (connection: Connection, timeoutMs: number,
  onTimeout: (p: PendingConnection, err: HandshakeTimeoutError) => void): PendingConnection {
  const p: PendingConnection = {
    connection,
    deadline: new AbortController(),
    started: false,
    settled: false,
    tezosPeerIdProven: false,
    result: Promise.withResolvers<AuthenticatedPeer>()
  }
  // Nobody may be awaiting it; the rejection is still reported through `failed`.
  p.result.promise.catch(() => {})
  p.timer = setTimeout(() => {
    const err = new HandshakeTimeoutError(timeoutMs)
    p.deadline.abort(err)
    onTimeout(p, err)
  }, timeoutMs)
  return p
}

/** How long a rejected connection may take to flush its Nack before it is cut. */
const NACK_FLUSH_MS = 1000

/** A Nack goes out before the connection closes; every other failure cuts it at once. */
export async function closeAfterFailure (connection: Connection, error: Error, stream?: Stream): Promise<void> {
  if (connection.status !== 'open') return
  if ((error instanceof PeerRejectedError || error instanceof RejectedByPeerError) && stream !== undefined) {
    try {
      const signal = AbortSignal.timeout(NACK_FLUSH_MS)
      await stream.close({ signal })
      await connection.close({ signal })
      return
    } catch {
      // Fall through: a peer that does not let us close politely is cut.
    }
  }
  connection.abort(error)
}
