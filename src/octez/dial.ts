import { connect, type Socket } from 'node:net'
import { HandshakeError, HandshakeTimeoutError, PeerRejectedError } from '../handshake/errors.ts'
import { OctezConnection } from './connection.ts'
import { OctezConnectError } from './errors.ts'
import { authenticateOctez, type OctezHandshakeResult } from './handshake.ts'
import {
  DEFAULT_CONNECTION_TIMEOUT_MS, acceptCompatible, limitsOf, localPartyOf, positiveOption, type OctezWireOptions
} from './options.ts'
import { closeSocketGracefully } from './socket-close.ts'

export interface DialOctezOptions extends OctezWireOptions {
  host: string
  port: number
  /** Octez `connection_timeout`: TCP connect and handshake must end within it (default 10 s). */
  connectionTimeoutMs?: number
  /** Aborts the dial (the node stopping). */
  signal?: AbortSignal
}

async function openSocket (host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true })
    const onAbort = (): void => {
      socket.destroy()
      const reason: unknown = signal.reason
      reject(reason instanceof Error ? reason : new Error(String(reason)))
    }
    if (signal.aborted) { onAbort(); return }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort)
      socket.off('error', onError)
      resolve(socket)
    })
    const onError = (err: Error): void => {
      signal.removeEventListener('abort', onAbort)
      reject(new OctezConnectError(host, port, { cause: err }))
    }
    socket.once('error', onError)
  })
}

/**
 * Opens an Octez-wire connection to `host:port` (Octez `P2p_connect_handler.connect`): TCP connect,
 * then the handshake as the initiator, all within `connectionTimeoutMs`. Resolves with the
 * authenticated connection; rejects with `OctezConnectError`, a `HandshakeError`
 * (`HandshakeTimeoutError` at the deadline) or the signal's reason. The socket is closed on failure.
 */
export async function dialOctez (options: DialOctezOptions): Promise<OctezConnection> {
  const local = localPartyOf(options)
  const limits = limitsOf(options)
  const timeoutMs = positiveOption('connectionTimeoutMs', options.connectionTimeoutMs, DEFAULT_CONNECTION_TIMEOUT_MS)
  const deadline = new AbortController()
  const timer = setTimeout(() => { deadline.abort(new HandshakeTimeoutError(timeoutMs)) }, timeoutMs)
  const onAbort = (): void => { deadline.abort(options.signal?.reason) }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted === true) onAbort()
  let socket: Socket | undefined
  try {
    socket = await openSocket(options.host, options.port, deadline.signal)
    let auth: OctezHandshakeResult
    try {
      auth = await authenticateOctez({
        socket, signal: deadline.signal, incoming: false, local, decide: options.decide ?? acceptCompatible
      })
    } catch (err) {
      // After our Nack the peer must still be able to read it: close with a FIN, not a reset.
      if (err instanceof PeerRejectedError) closeSocketGracefully(socket)
      else socket.destroy()
      throw err
    }
    return new OctezConnection(socket, auth, limits)
  } catch (err) {
    if (!(err instanceof HandshakeError)) socket?.destroy()
    throw err
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
  }
}
