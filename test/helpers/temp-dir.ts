import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The one way tests get a directory of their own (data dirs, stores, config files): a fresh
 * directory under the system's temporary directory, named `tzp2p-<label>-XXXXXX` so a leftover
 * says which test left it.
 */
export async function tempDir (label: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `tzp2p-${label}-`))
}

/** Removes a directory made by `tempDir` and everything in it; one already gone is fine. */
export async function removeDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** Runs `fn` with a fresh directory, removed afterwards whether `fn` succeeded or not. */
export async function withTempDir<T> (label: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir(label)
  try {
    return await fn(dir)
  } finally {
    await removeDir(dir)
  }
}
