import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Child } from '../rpc/child.ts'
import { getJson, type ShellHeaderJson } from '../rpc/rpc-json.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/** What this test reads of the RPC's answers. */
type PeerEntry = [string, { wire: string, trusted: boolean }]
type PointEntry = [string, { wire?: string, state: { event_kind: string } }]

/** Waits until `probe` returns something; errors (an RPC not yet up) mean not yet. */
async function until<T> (what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return await waitFor(probe, { what, timeoutMs: 60_000, intervalMs: 100, retryOnError: true })
}

/**
 * Two `tzp2p run` processes that meet only on Octez's wire (`--octez-net-addr` on one,
 * `--octez-peer` on the other; neither has a libp2p peer): the second follows the first's baked
 * chain, and both RPCs list the other as a peer on the `octez` wire.
 */
describe('tzp2p run over the Octez wire (real child processes)', () => {
  it('--octez-peer follows a chain served on --octez-net-addr; /network/peers and /network/points say octez', async () => {
    const dir = await tempDir('octez-run')
    const common = ['--expected-pow', '0', '--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:0', '--no-bootstrap-peers']
    const server = Child.tzp2p(['run', '--data-dir', join(dir, 'server'), ...common, '--octez-net-addr', '127.0.0.1:0', '--baker', '--bake-interval', '1'])
    let follower: Child | undefined
    try {
      const runningLine = await server.logLine('node running')
      const running = await server.nodeRunning()
      const octezAddress = runningLine.octezAddress
      assert.ok(typeof octezAddress === 'string', 'the "node running" line names the Octez-wire address')
      assert.match(octezAddress, /^127\.0\.0\.1:\d+$/)
      // The banner goes to stderr, the log line to stdout: the two pipes arrive in either order.
      await server.waitFor(c => /octez wire 127\.0\.0\.1:\d+/.test(c.stderr) ? true : undefined, 'the Octez-wire address in the banner')
      follower = Child.tzp2p(['run', '--data-dir', join(dir, 'follower'), ...common, '--octez-peer', octezAddress])
      const followerRpc = (await follower.nodeRunning()).rpc[0]
      const serverRpc = running.rpc[0]

      // The follower catches up with the server's head over the Octez wire, and keeps up.
      const target = await until('server at level 3', async () => {
        const h = await getJson<ShellHeaderJson>(`${serverRpc}/chains/main/blocks/head/header`)
        return h.level >= 3 ? h.level : undefined
      })
      await until('follower at the server\'s level', async () => {
        const h = await getJson<ShellHeaderJson>(`${followerRpc}/chains/main/blocks/head/header`)
        return h.level >= target ? true : undefined
      })

      const peers = await getJson<PeerEntry[]>(`${followerRpc}/network/peers`)
      assert.equal(peers.length, 1)
      assert.equal(peers[0][1].wire, 'octez')
      assert.equal(peers[0][1].trusted, true)
      const serverPeers = await getJson<PeerEntry[]>(`${serverRpc}/network/peers`)
      assert.equal(serverPeers[0][1].wire, 'octez')
      const connections = await getJson<Array<{ wire: string }>>(`${followerRpc}/network/connections`)
      assert.equal(connections[0].wire, 'octez')
      const points = await getJson<PointEntry[]>(`${followerRpc}/network/points`)
      const octezPoint = points.find(p => p[0] === octezAddress)
      assert.equal(octezPoint?.[1].wire, 'octez')
      assert.equal(octezPoint?.[1].state.event_kind, 'running')
      const status = await getJson<{ peers: Array<{ wire: string }> }>(`${followerRpc}/status`)
      assert.equal(status.peers[0].wire, 'octez')
      const metrics = await (await fetch(`${followerRpc}/metrics`)).text()
      assert.match(metrics, /tzp2p_peers\{wire="octez"\} 1/)
    } finally {
      follower?.kill('SIGTERM')
      server.kill('SIGTERM')
      await follower?.exited
      await server.exited
      await removeDir(dir)
    }
  })
})
