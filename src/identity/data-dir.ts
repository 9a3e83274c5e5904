import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** Like Octez's `~/.tezos-node`: the node's identity, keys and stores live here by default. */
export const DEFAULT_DATA_DIR_NAME = '.tzp2p'

/** Environment variable that overrides the default data dir (a `--data-dir` option wins over it). */
export const DATA_DIR_ENV = 'TZP2P_DATA_DIR'

/** The data dir to use: the explicit one, else `$TZP2P_DATA_DIR`, else `~/.tzp2p`; always absolute. */
export function resolveDataDir (explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[DATA_DIR_ENV]
  if (explicit !== undefined && explicit !== '') return resolve(explicit)
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), DEFAULT_DATA_DIR_NAME)
}
