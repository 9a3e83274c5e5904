import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { HandshakeTimeoutError, PeerRejectedError } from '../handshake/errors.ts'
import { OctezConnection } from './connection.ts'
import { authenticateOctez } from './handshake.ts'
import {
  DEFAULT_AUTHENTICATION_TIMEOUT_MS, acceptCompatible, limitsOf, localPartyOf, positiveOption, type OctezWireOptions
} from './options.ts'
import { closeSocketGracefully } from './socket-close.ts'

/** Octez's `max_incoming_connections`: handshakes in progress at once; more are closed at accept. */
export const DEFAULT_MAX_PENDING_INCOMING = 20

/** An incoming connection whose handshake failed, and why. */
export interface OctezIncomingFailure {
  address: string
  port: number
  /** A `HandshakeError` (its `misbehaviour` is set where Octez would greylist the address). */
  error: Error
  /** The remote's peer id, once a chunk sealed under its key has opened. */
  tezosPeerId?: string
}

export interface ListenOctezOptions extends OctezWireOptions {
  host: string
  /** 0 picks a free port. */
  port: number
  /** Each authenticated incoming connection. */
  onConnection: (connection: OctezConnection) => void
  /** Each failed incoming handshake (for logs and greylisting). */
  onFailure?: (failure: OctezIncomingFailure) => void
  /** Octez `authentication_timeout` (default 5 s): the whole handshake of an incoming connection. */
  authenticationTimeoutMs?: number
  /** Octez `max_incoming_connections` (default 20): handshakes in progress at once. */
  maxPendingIncoming?: number
  /** A banned or greylisted address: the socket is closed at once, before any byte (Octez `accept`). */
  isAddressRefused?: (address: string) => boolean
}

export interface OctezListener {
  readonly host: string
  readonly port: number
  /** Stops listening and cuts the handshakes in progress; authenticated connections stay open (their owner closes them). */
  close: () => Promise<void>
}

/**
 * Listens for Octez-wire connections on `host:port` (Octez `P2p_welcome` + `P2p_connect_handler.accept`):
 * each accepted socket runs the handshake as the responder within `authenticationTimeoutMs`.
 */
export async function listenOctez (options: ListenOctezOptions): Promise<OctezListener> {
  const local = localPartyOf(options)
  const limits = limitsOf(options)
  const timeoutMs = positiveOption('authenticationTimeoutMs', options.authenticationTimeoutMs, DEFAULT_AUTHENTICATION_TIMEOUT_MS)
  const maxPending = positiveOption('maxPendingIncoming', options.maxPendingIncoming, DEFAULT_MAX_PENDING_INCOMING)
  const decide = options.decide ?? acceptCompatible
  const pending = new Set<Socket>()

  const handle = async (socket: Socket): Promise<void> => {
    const address = socket.remoteAddress ?? ''
    const port = socket.remotePort ?? 0
    if (pending.size >= maxPending || options.isAddressRefused?.(address) === true) {
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    pending.add(socket)
    const deadline = new AbortController()
    const timer = setTimeout(() => { deadline.abort(new HandshakeTimeoutError(timeoutMs)) }, timeoutMs)
    let tezosPeerId: string | undefined
    try {
      const auth = await authenticateOctez({
        socket,
        signal: deadline.signal,
        incoming: true,
        local,
        decide,
        onIdentified: id => { tezosPeerId = id }
      })
      options.onConnection(new OctezConnection(socket, auth, limits))
    } catch (err) {
      if (err instanceof PeerRejectedError) closeSocketGracefully(socket)
      else socket.destroy()
      options.onFailure?.({ address, port, error: err as Error, tezosPeerId })
    } finally {
      clearTimeout(timer)
      pending.delete(socket)
    }
  }

  const server: Server = createServer({ pauseOnConnect: false }, socket => { void handle(socket) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // Accept failures (e.g. out of file descriptors) are transient: the server keeps listening, and
  // an unhandled 'error' event would end the process.
  server.on('error', () => {})
  const bound = server.address() as AddressInfo
  return {
    host: bound.address,
    port: bound.port,
    close: () => {
      for (const socket of pending) socket.destroy()
      // `server.close` stops listening at once; its callback would also wait for the connections
      // already handed over, which belong to their `OctezConnection` now.
      server.close()
      return Promise.resolve()
    }
  }
}
