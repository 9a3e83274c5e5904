import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Bytes received from a peer and not yet read, for readers that take exact lengths and race a
 * deadline (the libp2p handshake's stream, the Octez wire's socket during its handshake). The
 * transport's listeners `append` data and `end` the input; the reader loops on `take`, `check` and
 * `changed` until enough has arrived.
 */
export class ReceivedBytes {
  private readonly incoming = new Uint8ArrayList()
  private readonly signal: AbortSignal
  /** Set once no more input will come; the error is built only when a read actually fails. */
  private ended: (() => Error) | undefined
  private wake: (() => void) | undefined
  private readonly onAbort = (): void => { this.wake?.() }

  constructor (signal: AbortSignal) {
    this.signal = signal
    signal.addEventListener('abort', this.onAbort)
  }

  get byteLength (): number {
    return this.incoming.byteLength
  }

  /** True once the input ended (after the bytes that came before). */
  get isEnded (): boolean {
    return this.ended !== undefined
  }

  append (data: Uint8Array | Uint8ArrayList): void {
    this.incoming.append(data)
    this.wake?.()
  }

  /** No more input will come; the first end recorded is the one reads fail with. */
  end (error: () => Error): void {
    this.ended ??= error
    this.wake?.()
  }

  /** The next `n` bytes (one copy only when they span several received chunks). */
  take (n: number): Uint8Array {
    const out = this.incoming.subarray(0, n)
    this.incoming.consume(n)
    return out
  }

  /** Throws the deadline's reason once it passed, or the end once the input ended. */
  check (): void {
    if (this.signal.aborted) throw abortReason(this.signal)
    if (this.ended !== undefined) throw this.ended()
  }

  /** Resolves at the next append, end or abort. */
  async changed (): Promise<void> {
    await new Promise<void>(resolve => { this.wake = resolve })
    this.wake = undefined
  }

  /** Stops listening to the deadline. */
  detach (): void {
    this.signal.removeEventListener('abort', this.onAbort)
  }
}

/** An aborted signal's reason as an Error (a deadline's `TimeoutError`, or what the caller gave). */
export function abortReason (signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new Error(String(reason))
}
