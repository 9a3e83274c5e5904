/**
 * The one way tests wait for something that happens asynchronously: poll a condition until it holds.
 * The deadline is a safety net so a broken build fails instead of hanging, generous because the
 * suite runs on busy machines (two test files at once, other work on the same cores); no test
 * asserts on how long a wait took.
 */
import { inspect } from 'node:util'

export const DEFAULT_WAIT_MS = 30_000

export interface WaitOptions {
  /**
   * What is awaited, for the failure message ("every node has 2..6 connections"). A function is
   * called only when the deadline passes, so the message can show the last state seen.
   */
  what: string | (() => string)
  /** Safety deadline; default `DEFAULT_WAIT_MS`. */
  timeoutMs?: number
  /** Pause between two checks; default 25 ms (in-process state is cheap to read). */
  intervalMs?: number
  /**
   * Errors thrown by the condition mean "not yet" (a server still starting, a process not yet
   * listening) instead of failing the wait; the last one is quoted if the deadline passes.
   */
  retryOnError?: boolean
}

/** The deadline of a `waitFor` passed before its condition held. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError'
}

/** A condition holds when it returns anything but `false`, `undefined` or `null`. */
type Met<T> = Exclude<T, false | undefined | null>

/**
 * Resolves with the first value of `condition` that is not `false`, `undefined` or `null`: `true`
 * for a plain check, or the thing a probe found (a block, a reply).
 */
export async function waitFor<T> (condition: () => T | Promise<T>, options: WaitOptions): Promise<Met<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS
  const intervalMs = options.intervalMs ?? 25
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value !== false && value !== undefined && value !== null) return value as Met<T>
    } catch (err) {
      if (options.retryOnError !== true) throw err
      lastError = err
    }
    if (Date.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what
      const cause = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)})`
      throw new WaitTimeoutError(`not reached within ${timeoutMs} ms: ${what}${cause}`)
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}
