import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Child } from '../rpc/child.ts'

async function getJson (url: string): Promise<any> {
  const response = await fetch(url)
  assert.equal(response.status, 200, `${url}: ${response.status}`)
  return await response.json()
}

async function until<T> (what: string, probe: () => Promise<T | undefined>, deadlineMs = 60_000): Promise<T> {
  const end = Date.now() + deadlineMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`${what}: not before the deadline`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * Two `tzp2p run` processes that meet only on Octez's wire (`--octez-net-addr` on one,
 * `--octez-peer` on the other; neither has a libp2p peer): the second follows the first's baked
 * chain, and both RPCs list the other as a peer on the `octez` wire.
 */
describe('tzp2p run over the Octez wire (real child processes)', () => {
  it('--octez-peer follows a chain served on --octez-net-addr; /network/peers and /network/points say octez', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tzp2p-octez-run-'))
    const common = ['--expected-pow', '0', '--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:0', '--no-bootstrap-peers']
    const server = Child.tzp2p(['run', '--data-dir', join(dir, 'server'), ...common, '--octez-net-addr', '127.0.0.1:0', '--baker', '--bake-interval', '1'])
    let follower: Child | undefined
    try {
      const runningLine = await server.logLine('node running')
      const running = await server.nodeRunning()
      const octezAddress = runningLine.octezAddress
      assert.ok(typeof octezAddress === 'string', 'the "node running" line names the Octez-wire address')
      assert.match(octezAddress, /^127\.0\.0\.1:\d+$/)
      assert.match(server.stderr, /octez wire 127\.0\.0\.1:\d+/)
      follower = Child.tzp2p(['run', '--data-dir', join(dir, 'follower'), ...common, '--octez-peer', octezAddress])
      const followerRpc = (await follower.nodeRunning()).rpc[0]
      const serverRpc = running.rpc[0]

      // The follower catches up with the server's head over the Octez wire, and keeps up.
      const target = await until('server at level 3', async () => {
        const h = await getJson(`${serverRpc}/chains/main/blocks/head/header`)
        return h.level >= 3 ? h.level as number : undefined
      })
      await until('follower at the server\'s level', async () => {
        const h = await getJson(`${followerRpc}/chains/main/blocks/head/header`)
        return h.level >= target ? true : undefined
      })

      const peers = await getJson(`${followerRpc}/network/peers`)
      assert.equal(peers.length, 1)
      assert.equal(peers[0][1].wire, 'octez')
      assert.equal(peers[0][1].trusted, true)
      const serverPeers = await getJson(`${serverRpc}/network/peers`)
      assert.equal(serverPeers[0][1].wire, 'octez')
      const connections = await getJson(`${followerRpc}/network/connections`)
      assert.equal(connections[0].wire, 'octez')
      const points = await getJson(`${followerRpc}/network/points`)
      const octezPoint = points.find((p: [string, any]) => p[0] === octezAddress)
      assert.equal(octezPoint?.[1].wire, 'octez')
      assert.equal(octezPoint?.[1].state.event_kind, 'running')
      const status = await getJson(`${followerRpc}/status`)
      assert.equal(status.peers[0].wire, 'octez')
      const metrics = await (await fetch(`${followerRpc}/metrics`)).text()
      assert.match(metrics, /tzp2p_peers\{wire="octez"\} 1/)
    } finally {
      follower?.kill('SIGTERM')
      server.kill('SIGTERM')
      await follower?.exited
      await server.exited
      await rm(dir, { recursive: true, force: true })
    }
  })
})
