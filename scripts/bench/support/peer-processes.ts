/**
 * The peer processes of the bootstrap benchmarks (`bench:sync`, `bench:octez-wire`): each runs
 * `test/e2e/chain-child.ts` on a copy of a seeded store and prints a `"ready"` JSON line with its
 * addresses once it listens. Closing a child's standard input stops it cleanly (a profiled one
 * writes its profile on exit).
 */
import type { ChildProcess } from 'node:child_process'

/** The child's `"ready"` line (its libp2p address; its Octez-wire port when it listens there). */
export interface ReadyLine {
  address: string
  octezPort?: number
}

/** Resolves with the child's `"ready"` line; rejects if it exits first. */
export async function readyLineOf (child: ChildProcess): Promise<ReadyLine> {
  return await new Promise<ReadyLine>((resolve, reject) => {
    let buffer = ''
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString()
      const line = buffer.split('\n').find(l => l.includes('"ready"'))
      if (line !== undefined) resolve(JSON.parse(line) as ReadyLine)
    })
    child.on('exit', () => { reject(new Error('a peer process exited')) })
  })
}

/** Stops the children by closing their standard input; one still running after 10 s is killed. */
export async function stopPeerProcesses (children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(children.map(async c => {
    const exited = new Promise(resolve => { c.once('exit', resolve) })
    c.stdin?.end()
    const timer = setTimeout(() => { c.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(timer)
  }))
}

/** Asks a child for its `stats` line (`test/e2e/chain-child.ts`); resolves with it parsed. */
export async function statsOf (child: ChildProcess): Promise<Record<string, unknown>> {
  return await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = ''
    const onData = (d: Buffer): void => {
      buffer += d.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.includes('"stats"')) continue
        child.stdout?.off('data', onData)
        resolve(JSON.parse(line) as Record<string, unknown>)
        return
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', () => { reject(new Error('a peer process exited')) })
    child.stdin?.write(JSON.stringify({ cmd: 'stats' }) + '\n')
  })
}
