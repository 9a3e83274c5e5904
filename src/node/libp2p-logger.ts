import type { ComponentLogger, Logger } from '@libp2p/interface'

const nothing = (): void => {}

/** One logger that logs nothing, for every component, connection and stream. */
const QUIET: Logger = Object.assign((): void => {}, {
  error: nothing,
  trace: nothing,
  enabled: false,
  newScope: (): Logger => QUIET
})

/**
 * libp2p's own debug logging, which only the `DEBUG` environment variable turns on
 * (`DEBUG=libp2p:*`). Without it, libp2p's default logger still builds three `debug` loggers for
 * every component, connection and stream (and each asks whether stderr is a terminal): about
 * 160 such functions, their property tables in dictionary mode, per 50 peers, and 1.3 % of the
 * node's CPU (`npm run bench:peers`, heap snapshots and profile; docs/profiles.md). So when
 * `DEBUG` is unset, libp2p gets one shared logger that logs nothing; when it is set, libp2p's
 * own (undefined here) logs as it always did.
 */
export function libp2pLogger (env: NodeJS.ProcessEnv = process.env): ComponentLogger | undefined {
  if ((env.DEBUG ?? '') !== '') return undefined
  return { forComponent: () => QUIET }
}
