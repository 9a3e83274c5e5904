import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { NamespaceLayout } from './netns.ts'

/**
 * What a running devnet leaves in its directory (`devnet.json`), so that `tzp2p devnet status`
 * and `down` find its nodes from another shell.
 */
export const DEVNET_STATE_FILE = 'devnet.json'

export interface DevnetNodeState {
  name: string
  pid: number
  dataDir: string
  logFile: string
  /** `host:port` the node listens on for P2P. */
  p2p: string
  rpc: string
  baker: boolean
  /** Network namespace the node runs in (`--net-namespaces`). */
  namespace?: string
}

export interface DevnetState {
  version: 1
  /** Process that started the devnet (a foreground `up` supervises its nodes). */
  supervisorPid: number
  startedAt: string
  nodes: DevnetNodeState[]
  namespaces?: NamespaceLayout
}

export class DevnetStateError extends Error {
  override readonly name = 'DevnetStateError'
}

export const statePath = (dir: string): string => join(dir, DEVNET_STATE_FILE)

export async function readDevnetState (dir: string): Promise<DevnetState | undefined> {
  let text: string
  try {
    text = await readFile(statePath(dir), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DevnetStateError(`cannot read ${statePath(dir)}: ${(e as Error).message}`)
  }
  let state: DevnetState
  try {
    state = JSON.parse(text) as DevnetState
  } catch (e) {
    throw new DevnetStateError(`${statePath(dir)} is not JSON (${(e as Error).message}); remove it if no devnet runs there`)
  }
  if (state.version !== 1 || !Array.isArray(state.nodes)) throw new DevnetStateError(`${statePath(dir)} is not a devnet state file; remove it if no devnet runs there`)
  return state
}

/** Written atomically: `status` run meanwhile never sees half a file. */
export async function writeDevnetState (dir: string, state: DevnetState): Promise<void> {
  const tmp = `${statePath(dir)}.tmp`
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`)
  await rename(tmp, statePath(dir))
}

export async function removeDevnetState (dir: string): Promise<void> {
  await rm(statePath(dir), { force: true })
}
