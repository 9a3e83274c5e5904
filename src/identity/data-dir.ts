import { mkdir, open, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { describeWriteFailure } from '../storage/write-failure.ts'

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

/** The data dir cannot be created or written; the message says why and how to fix it. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError'
  readonly path: string
  constructor (path: string, reason: string, options?: ErrorOptions) {
    super(`data dir ${path} is not usable: ${reason}`, options)
    this.path = path
  }
}

/** Causes only a path can have; the machine's (read-only, full, permissions, I/O) are the store's. */
const PATH_REASONS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a directory; choose another --data-dir',
  EEXIST: 'the path is a file, not a directory; choose another --data-dir',
  ENOENT: 'a part of the path does not exist and cannot be created; check the path'
}

/**
 * Creates the data dir if needed and proves it writable by writing, syncing and removing a probe
 * file: a node that cannot write would otherwise fail later and less clearly (in the middle of
 * generating an identity, or at its first block).
 */
export async function prepareDataDir (dir: string): Promise<void> {
  const fail = (e: unknown): never => {
    const code = (e as { code?: unknown }).code
    const reason = (typeof code === 'string' ? PATH_REASONS[code] : undefined) ?? describeWriteFailure(e) ?? (e as Error).message
    throw new DataDirError(dir, reason, { cause: e })
  }
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch(async (e: unknown) => {
    // Recursive mkdir on a read-only mount reports the missing directory (ENOENT), not EROFS.
    const code = (e as { code?: unknown }).code
    if (code === 'ENOENT') {
      const parentIsDir = await stat(join(dir, '..')).then(s => s.isDirectory(), () => false)
      if (parentIsDir) throw new DataDirError(dir, 'cannot create it although its parent exists (is the file system read-only?); choose another --data-dir', { cause: e })
    }
    fail(e)
  })
  const probe = join(dir, `.write-check-${process.pid}`)
  try {
    const handle = await open(probe, 'w')
    try {
      await handle.write(new Uint8Array(1))
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (e) {
    fail(e)
  } finally {
    await rm(probe, { force: true }).catch(() => {})
  }
}
