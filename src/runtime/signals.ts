/**
 * SIGINT/SIGTERM handling for a long-lived process, as octez-node and Lodestar behave: the first
 * signal starts a clean shutdown; a second one exits at once with the conventional code
 * (128 + signal number: 130 for SIGINT, 143 for SIGTERM).
 */
export const SIGNAL_EXIT_CODES: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 }

export type ShutdownSignal = keyof typeof SIGNAL_EXIT_CODES

export interface ShutdownSignalOptions {
  /** Told when the second signal arrives, before exiting (e.g. to write one last line). */
  onForce?: (signal: ShutdownSignal) => void
  /** Default `process.exit`. */
  exit?: (code: number) => void
}

/**
 * Calls `shutdown` on the first SIGINT or SIGTERM; a second signal exits immediately. Returns a
 * function removing the handlers.
 */
export function onShutdownSignals (shutdown: (signal: ShutdownSignal) => void, options: ShutdownSignalOptions = {}): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let received: ShutdownSignal | undefined
  const handler = (signal: ShutdownSignal): void => {
    if (received !== undefined) {
      options.onForce?.(signal)
      exit(SIGNAL_EXIT_CODES[signal])
      return
    }
    received = signal
    shutdown(signal)
  }
  const onInt = (): void => { handler('SIGINT') }
  const onTerm = (): void => { handler('SIGTERM') }
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  return () => {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
  }
}
