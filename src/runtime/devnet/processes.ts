import { readFile } from 'node:fs/promises'

/** Whether `pid` is alive (a zombie not yet reaped by its parent counts as gone on Linux). */
export async function isAlive (pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Field 3, after the parenthesised command name, is the state; Z is a zombie.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

/**
 * Whether `pid` is still the node we started: alive, and (where /proc exists) running with its
 * data dir on the command line, so a recycled pid is never signalled.
 */
export async function isOurNode (pid: number, dataDir: string): Promise<boolean> {
  if (!await isAlive(pid)) return false
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
    return cmdline.includes(dataDir)
  } catch {
    return true
  }
}

/**
 * Sends SIGTERM and waits for the process to go; SIGKILL after `graceMs`. Resolves to how it
 * ended.
 */
export async function terminate (pid: number, graceMs = 20_000): Promise<'stopped' | 'killed' | 'gone'> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return 'gone'
  }
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!await isAlive(pid)) return 'stopped'
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  try { process.kill(pid, 'SIGKILL') } catch { /* it exited between the check and the kill */ }
  return 'killed'
}
