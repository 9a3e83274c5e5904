import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { access, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { loadIdentity, powDifficultyOf } from '../../src/identity/index.ts'
import { openDatabase } from '../../src/storage/database.ts'
import { Child } from '../rpc/child.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

const LOOPBACK = ['--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:0']

/** The parts of a block header answer the test reads. */
interface HeaderAnswer { level: number, hash: string }

async function getJson<T> (url: string): Promise<T> {
  const response = await fetch(url)
  assert.equal(response.status, 200, `${url}: ${response.status}`)
  return await response.json() as T
}

/** A `tzp2p run` child and the RPC URL it logged once running. */
async function startRun (args: string[]): Promise<{ child: Child, rpc: string }> {
  const child = Child.tzp2p(['run', ...args])
  try {
    const running = await child.nodeRunning()
    return { child, rpc: running.rpc[0] }
  } catch (e) {
    child.kill()
    throw e
  }
}

function assertOneLineError (stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern)
  assert.equal(stderr.trim().split('\n').length, 1, stderr)
  assert.doesNotMatch(stderr, /\n\s+at /)
}

describe('tzp2p run (a real child process)', () => {
  it('creates the identity on first run, serves the RPC, stops cleanly on SIGTERM with exit 0, and restarts on the same store', async () => {
    await withTempDir('run', async dir => {
      const first = await startRun(['--data-dir', dir, '--expected-pow', '4', ...LOOPBACK, '--baker', '--bake-interval', '1'])
      let head: HeaderAnswer | undefined
      try {
        // The banner goes to stderr, the log line to stdout: the two pipes arrive in either order.
        await first.child.waitFor(c => c.stderr.includes(`RPC        ${first.rpc}`) ? true : undefined, 'the banner on stderr')
        assert.match(first.child.stderr, /No identity in .*: generating one with proof-of-work difficulty 4/)
        assert.match(first.child.stderr, /^tzp2p node id\w+ \(libp2p 12D3Koo\w+\)$/m)
        assert.match(first.rpc, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.ok(first.child.stderr.includes(`RPC        ${first.rpc}`))
        const identity = await loadIdentity(join(dir, 'identity.json'))
        assert.ok(powDifficultyOf(identity.publicKey, identity.powStamp) >= 4)
        assert.equal(await getJson<string>(`${first.rpc}/network/self`), identity.peerId)
        // The baker runs: wait for two blocks over the RPC.
        await waitFor(async () => {
          head = await getJson<HeaderAnswer>(`${first.rpc}/chains/main/blocks/head/header`)
          return head.level >= 2
        }, { what: 'the baker at level 2', timeoutMs: 60_000, intervalMs: 200 })
      } finally {
        first.child.kill('SIGTERM')
      }
      const exit = await first.child.exited
      assert.deepEqual(exit, { code: 0, signal: null }, first.child.stderr)
      const logs = first.child.jsonLines().map((l): unknown => l.msg)
      assert.ok(logs.includes('node stopped cleanly'), logs.join('\n'))

      // The store was closed: it opens again (LevelDB's lock is free) and holds the chain.
      const db = await openDatabase(dir, { chainName: 'TZP2P_DEVNET' })
      await db.close()

      const baked = head
      assert.ok(baked !== undefined, 'the baker reached level 2')
      const second = await startRun(['--data-dir', dir, '--expected-pow', '4', ...LOOPBACK])
      try {
        assert.doesNotMatch(second.child.stderr, /generating/)
        const identity = await loadIdentity(join(dir, 'identity.json'))
        assert.equal(await getJson<string>(`${second.rpc}/network/self`), identity.peerId)
        const block = await getJson<HeaderAnswer>(`${second.rpc}/chains/main/blocks/${baked.level}/header`)
        assert.equal(block.hash, baked.hash)
        assert.ok((await getJson<HeaderAnswer>(`${second.rpc}/chains/main/blocks/head/header`)).level >= baked.level)
      } finally {
        second.child.kill('SIGINT')
      }
      assert.deepEqual(await second.child.exited, { code: 0, signal: null }, second.child.stderr)
    })
  })

  it('exits at once on a second signal, with 128 + the signal number', async () => {
    await withTempDir('run', async dir => {
      const { child } = await startRun(['--data-dir', dir, '--expected-pow', '0', ...LOOPBACK])
      // Two different signals sent together are both delivered: the first starts the shutdown,
      // the second finds it under way.
      child.process.kill('SIGTERM')
      child.process.kill('SIGINT')
      const { code } = await child.exited
      const second = /tzp2p: (SIGINT|SIGTERM) again: exiting now/.exec(child.stderr)
      assert.ok(second !== null, child.stderr)
      assert.equal(code, second[1] === 'SIGINT' ? 130 : 143)
    })
  })

  it('stops an identity generation on Ctrl-C with 130 and writes nothing', async () => {
    await withTempDir('run', async dir => {
      const child = Child.tzp2p(['run', '--data-dir', dir, '--expected-pow', '60', ...LOOPBACK])
      await child.waitFor(c => /generating one with proof-of-work difficulty 60/.test(c.stderr) ? true : undefined, 'the generation notice')
      child.process.kill('SIGINT')
      const { code } = await child.exited
      assert.equal(code, 130)
      assert.match(child.stderr, /tzp2p: interrupted by SIGINT before the node started: no identity was written/)
      await assert.rejects(access(join(dir, 'identity.json')))
    })
  })

  it('refuses a bad flag, a bad config key, a busy RPC port and a busy P2P port with one clear line and exit 1', async () => {
    await withTempDir('run', async dir => {
      const badFlag = Child.tzp2p(['run', '--data-dir', dir, '--connections', 'many'])
      assert.equal((await badFlag.exited).code, 1)
      assertOneLineError(badFlag.stderr, /^tzp2p: invalid configuration: --connections: got "many"; expected an integer from 1 to 65535$/m)

      const file = join(dir, 'bad.json')
      await writeFile(file, JSON.stringify({ p2p: { limits: { 'min-connections': 'ten' } } }))
      const badKey = Child.tzp2p(['run', '--data-dir', dir, '--config-file', file])
      assert.equal((await badKey.exited).code, 1)
      assertOneLineError(badKey.stderr, /^tzp2p: invalid configuration in .*bad\.json: p2p\.limits\.min-connections: got "ten"; expected an integer/m)

      const unknown = Child.tzp2p(['run', '--data-dir', dir, '--no-such-flag'])
      assert.equal((await unknown.exited).code, 1)
      assert.match(unknown.stderr, /unknown option '--no-such-flag'/)

      const blocker = createServer()
      await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
      try {
        const port = (blocker.address() as { port: number }).port
        const busy = Child.tzp2p(['run', '--data-dir', dir, '--expected-pow', '0', '--net-addr', '127.0.0.1:0', '--rpc-addr', `127.0.0.1:${port}`, '--log-level', 'silent'])
        assert.equal((await busy.exited).code, 1)
        // Before it, only the notice that a first identity was generated.
        const lines = busy.stderr.trim().split('\n')
        assert.match(lines[lines.length - 1], /^tzp2p: the RPC server cannot listen: .*EADDRINUSE.* pick another port with --rpc-addr/)
        assert.deepEqual(lines.slice(0, -1).map(l => l.slice(0, 14)), ['No identity in'])

        // The same port as the P2P address: libp2p's multi-line error with its stack becomes one line.
        const busyP2p = Child.tzp2p(['run', '--data-dir', dir, '--expected-pow', '0', '--net-addr', `127.0.0.1:${port}`, '--rpc-addr', '127.0.0.1:0', '--log-level', 'silent'])
        assert.equal((await busyP2p.exited).code, 1)
        assertOneLineError(busyP2p.stderr,
          new RegExp(`^tzp2p: the P2P layer cannot listen: /ip4/127\\.0\\.0\\.1/tcp/${port}: listen EADDRINUSE.* pick another port with --net-addr or p2p\\.listen-addr\\)$`, 'm'))
      } finally {
        blocker.close()
      }
    })
  })
})
