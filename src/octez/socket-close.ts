import type { Socket } from 'node:net'

/** How long a closing socket waits for the peer's FIN before it is destroyed. */
export const CLOSE_LINGER_MS = 2000

/**
 * Closes our side with a FIN after what is already written, and discards what the peer still
 * sends until it closes too (or `lingerMs` passes). Destroying at once would make the kernel answer
 * unread input with a reset, which can drop our last bytes (a Nack) before the peer reads them.
 */
export function closeSocketGracefully (socket: Socket, lingerMs = CLOSE_LINGER_MS): void {
  if (socket.destroyed) return
  const timer = setTimeout(() => { socket.destroy() }, lingerMs)
  timer.unref()
  socket.once('close', () => { clearTimeout(timer) })
  socket.on('error', () => {})
  socket.removeAllListeners('data')
  socket.end()
  socket.resume()
}
