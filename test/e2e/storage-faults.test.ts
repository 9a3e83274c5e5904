import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, open, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Child } from '../rpc/child.ts'
import { getJson, type BlockJson, type HeaderJson } from '../rpc/rpc-json.ts'
import { removeDir, tempDir, withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * The machine fails the node, not a peer: a data dir that cannot be written, a disk that fills up
 * while the node runs. Each gives one clear line on stderr and a clean stop with exit code 1, and
 * a full disk loses no block whose write was done.
 *
 * The read-only and full-disk cases need a real small file system: they mount a tmpfs, which needs
 * root (CAP_SYS_ADMIN); elsewhere they are skipped with the reason.
 */

const LOOPBACK = ['--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:0', '--expected-pow', '0']

function tryMount (dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function unmount (dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' })
  } catch {
    // Best effort: a mount already gone (or never made) leaves nothing to undo.
  }
}

/** Writes zeros into `path` until the file system is full. */
async function fillDisk (path: string): Promise<void> {
  const handle = await open(path, 'w')
  const chunk = new Uint8Array(64 * 1024)
  try {
    for (;;) {
      try {
        await handle.write(chunk)
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e
        // Fill the last partial chunk too, byte by byte in shrinking steps.
        for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
          for (;;) { try { await handle.write(chunk.subarray(0, size)) } catch { break } }
        }
        return
      }
    }
  } finally {
    await handle.close().catch(() => {})
  }
}

async function runToExit (args: string[]): Promise<{ code: number | null, stderr: string }> {
  const child = Child.tzp2p(['run', ...args])
  const { code } = await child.exited
  return { code, stderr: child.stderr }
}

const canMount = await withMountProbe()

async function withMountProbe (): Promise<boolean> {
  const dir = await tempDir('mount-probe')
  try {
    const ok = tryMount(dir, 'size=1m')
    if (ok) unmount(dir)
    return ok
  } finally {
    await removeDir(dir)
  }
}
const NO_MOUNT = canMount ? false : 'needs root to mount a tmpfs (CAP_SYS_ADMIN)'

describe('storage faults (real `tzp2p run` processes)', () => {
  it('a data dir under a regular file: one clear line, exit 1', async () => {
    await withTempDir('faults', async dir => {
      const file = join(dir, 'not-a-dir')
      await writeFile(file, 'x')
      const { code, stderr } = await runToExit(['--data-dir', join(file, 'node'), ...LOOPBACK])
      assert.equal(code, 1)
      assert.match(stderr, /^tzp2p: data dir .*not-a-dir\/node is not usable: a part of the path is a file, not a directory; choose another --data-dir$/m)
      assert.doesNotMatch(stderr, /\n\s+at /)
    })
  })

  it('a data dir on a read-only file system: one clear line, exit 1', { skip: NO_MOUNT }, async () => {
    await withTempDir('faults', async dir => {
      const mnt = join(dir, 'ro')
      await mkdir(mnt)
      assert.ok(tryMount(mnt, 'size=1m'))
      try {
        await mkdir(join(mnt, 'node'))
        execFileSync('mount', ['-o', 'remount,ro', mnt])
        const existing = await runToExit(['--data-dir', join(mnt, 'node'), ...LOOPBACK])
        assert.equal(existing.code, 1)
        assert.match(existing.stderr, /^tzp2p: data dir .*\/ro\/node is not usable: the file system is read-only; remount it read-write or choose another --data-dir$/m)
        const missing = await runToExit(['--data-dir', join(mnt, 'other'), ...LOOPBACK])
        assert.equal(missing.code, 1)
        assert.match(missing.stderr, /^tzp2p: data dir .*\/ro\/other is not usable: cannot create it although its parent exists \(is the file system read-only\?\)/m)
      } finally {
        unmount(mnt)
      }
    })
  })

  it('the disk fills up while baking: clear error, clean stop with exit 1, and a restart keeps every committed block', { skip: NO_MOUNT, timeout: 120_000 }, async () => {
    await withTempDir('faults', async dir => {
      const mnt = join(dir, 'small')
      await mkdir(mnt)
      assert.ok(tryMount(mnt, 'size=8m'))
      try {
        const dataDir = join(mnt, 'node')
        const args = ['--data-dir', dataDir, ...LOOPBACK, '--baker', '--bake-interval', '0.2']
        const child = Child.tzp2p(['run', ...args])
        let lastSeen = 0
        try {
          const running = await child.nodeRunning()
          const rpc = running.rpc[0]
          await waitFor(async () => {
            lastSeen = (await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)).level
            return lastSeen >= 3
          }, { what: 'the baker at level 3', timeoutMs: 60_000, intervalMs: 100 })
          await fillDisk(join(mnt, 'filler'))
          // Blocks committed between the last look and the full disk are kept too: read the head
          // once more (reads still work), then wait for the node to notice and stop.
          lastSeen = (await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`).catch(() => ({ level: lastSeen }))).level
          const { code } = await child.exited
          assert.equal(code, 1, child.stderr)
        } finally {
          child.kill()
        }
        assert.match(child.stderr, /^tzp2p: cannot write to the store at .*\/store: the disk is full \(no space left on device\); free some space, then restart the node; stopping$/m)
        assert.doesNotMatch(child.stderr, /\n\s+at /)
        assert.match(child.stdout, /"node stopped cleanly"/)
        assert.doesNotMatch(child.stdout, /error while stopping/)

        // Free the space and restart on the same data dir: the store opens, its head is at least the
        // last head seen, and the node bakes on from it. A head is shown (RPC included) as soon as it
        // is applied, while it is written: the one whose write met the full disk may have been seen,
        // and is lost with its write (the head before it is on disk, whole).
        await rm(join(mnt, 'filler'))
        const again = Child.tzp2p(['run', ...args])
        try {
          const running = await again.nodeRunning()
          const rpc = running.rpc[0]
          const head = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
          assert.ok(head.level >= lastSeen - 1, `head ${head.level} ≥ last seen ${lastSeen} less the one being written`)
          // Every level up to the head is a whole block: its header and operations are served.
          for (let level = 1; level <= head.level; level++) {
            const block = await getJson<BlockJson>(`${rpc}/chains/main/blocks/${level}`)
            assert.equal(block.header.level, level)
            assert.ok(Array.isArray(block.operations))
          }
          await waitFor(async () => (await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)).level > head.level,
            { what: `a block above ${head.level} after the restart`, timeoutMs: 60_000, intervalMs: 100 })
        } finally {
          again.kill('SIGTERM')
          await again.exited
        }
      } finally {
        unmount(mnt)
      }
    })
  })
})
