import { readdir, readFile } from 'node:fs/promises'

/** User + system CPU seconds of a process so far (Linux /proc). */
export async function cpuSecondsOf (pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

/** CPU seconds of a process's threads so far, summed by thread name (Linux /proc/<pid>/task). */
export async function cpuByThreadOf (pid: number | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  if (pid === undefined) return out
  try {
    for (const task of await readdir(`/proc/${pid}/task`)) {
      const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => '')
      const open = stat.indexOf('(')
      const close = stat.lastIndexOf(')')
      if (open < 0 || close < 0) continue
      const name = stat.slice(open + 1, close).replace(/[0-9]+$/, '')
      const fields = stat.slice(close + 2).split(' ')
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100)
    }
  } catch {
    // The process ended meanwhile: what was read is kept.
  }
  return out
}

/** Per-thread-name CPU seconds spent between two `cpuByThreadOf` readings. */
export function threadCpuBetween (start: Map<string, number>, end: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>()
  for (const [name, seconds] of end) out.set(name, seconds - (start.get(name) ?? 0))
  return out
}
