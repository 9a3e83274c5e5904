/**
 * The P2P listener could not be opened. libp2p reports it as an `UnsupportedListenAddressesError`
 * whose message holds, for each address, the socket error with its stack trace; the node's user
 * needs one line: the address, the socket's reason and what to change.
 */
export class P2pListenError extends Error {
  override readonly name = 'P2pListenError'
  /** The socket error's code (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`…), when one was found. */
  readonly code: string | undefined

  constructor (reason: string, code: string | undefined, cause: Error) {
    super(`the P2P layer cannot listen: ${reason}${hintFor(code)}`, { cause })
    this.code = code
  }
}

function hintFor (code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE': return ' (another program, or another node, uses it: pick another port with --net-addr or p2p.listen-addr)'
    case 'EADDRNOTAVAIL': return ' (not an address of this machine: check --net-addr or p2p.listen-addr)'
    case 'EACCES': return ' (ports below 1024 need privileges: pick a port from 1024 up with --net-addr or p2p.listen-addr)'
    default: return ''
  }
}

/**
 * libp2p's listen failure as a `P2pListenError`, or undefined when `error` is something else.
 * libp2p keeps only the text of each address's socket error (`  <multiaddr>: Error: listen
 * EADDRINUSE: … \n      at …`), so the first such line is read back from it.
 */
export function p2pListenErrorOf (error: unknown): P2pListenError | undefined {
  if (!(error instanceof Error) || error.name !== 'UnsupportedListenAddressesError') return undefined
  const failure = /^\s*(\/\S+): (?:\w*Error: )?(.+)$/m.exec(error.message)
  const reason = failure !== null ? `${failure[1]}: ${failure[2].trim()}` : error.message.split('\n')[0]
  const code = /\b(E[A-Z]{3,})\b/.exec(failure?.[2] ?? '')?.[1]
  return new P2pListenError(reason, code, error)
}
