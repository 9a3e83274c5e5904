import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { pino, type DestinationStream, type Logger } from 'pino'
import PinoPretty from 'pino-pretty'
import type { LogConfig } from '../config/node-config.ts'

/**
 * The node's logger: pino writing JSON lines, or human-readable lines (pino-pretty) when
 * `log.pretty` says so or, with `auto`, when the output is a terminal. Files are appended to.
 */
export interface NodeLogger {
  logger: Logger
  /** Whether lines are pretty-printed. */
  pretty: boolean
  /** Writes out what is buffered; call before the process exits. */
  flush: () => Promise<void>
}

export interface CreateNodeLoggerOptions {
  /** Streams for `stdout`/`stderr` (tests and embedders pass their own); default the process's. */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean }
  stderr?: NodeJS.WritableStream & { isTTY?: boolean }
}

export function createNodeLogger (config: LogConfig, options: CreateNodeLoggerOptions = {}): NodeLogger {
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const toFile = config.output !== 'stdout' && config.output !== 'stderr'
  const terminal = config.output === 'stdout' ? stdout : config.output === 'stderr' ? stderr : undefined
  const pretty = config.pretty === 'auto' ? terminal?.isTTY === true : config.pretty
  const level = config.level

  let destination: DestinationStream
  let flush: () => Promise<void>
  if (toFile) {
    mkdirSync(dirname(config.output), { recursive: true })
    // Synchronous writes: a log file must hold the last lines even if the process is killed.
    const file = pino.destination({ dest: config.output, append: true, sync: true })
    destination = pretty ? PinoPretty({ destination: file, colorize: false, sync: true }) : file
    flush = () => { file.flushSync(); return Promise.resolve() }
  } else {
    const stream = terminal as NodeJS.WritableStream
    destination = pretty
      ? PinoPretty({ destination: stream, colorize: terminal?.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true })
      : stream
    flush = async () => {
      // Wait until what was written has left Node's buffer (a pipe may be slower than the node).
      if ((stream as { writableNeedDrain?: boolean }).writableNeedDrain === true) await once(stream, 'drain')
    }
  }
  const logger = pino({ level, base: { pid: process.pid } }, destination)
  return { logger, pretty, flush }
}
