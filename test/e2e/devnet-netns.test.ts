import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { networkNamespacesUnavailable } from '../../src/runtime/devnet/netns.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import type { ConnectionJson } from '../../src/rpc/network-json.ts'
import { Child, ROOT } from '../rpc/child.ts'
import { getJson, type HeaderJson } from '../rpc/rpc-json.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

const run = promisify(execFile)
const unavailable = await networkNamespacesUnavailable()
const skip = unavailable === undefined ? false : `network namespaces unavailable here: ${unavailable}`

describe('devnet --net-namespaces', { skip }, () => {
  it('runs each node in its own namespace on a bridge; blocks cross the veths; Ctrl-C removes it all', async () => {
    const dir = await tempDir('netns')
    const up = new Child([join(ROOT, 'scripts/devnet.ts'), '--nodes', '3', '--dir', dir, '--bake-interval', '1', '--net-namespaces'])
    let state: DevnetState | undefined
    try {
      await up.waitFor(c => c.stdout.includes('devnet up: Ctrl-C stops every node') ? true : undefined, 'the devnet to be up', 120_000)
      state = JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState
      const layout = state.namespaces
      assert.ok(layout !== undefined)
      for (const [i, n] of state.nodes.entries()) {
        // The process runs inside its namespace, listening on the veth address given to it.
        assert.equal((await run('ip', ['netns', 'identify', String(n.pid)])).stdout.trim(), layout.nodes[i].namespace)
        assert.equal(n.p2p, `${layout.nodes[i].address}:9732`)
        assert.match(n.rpc, new RegExp(`^http://${layout.nodes[i].address.replace(/\./g, '\\.')}:8732$`))
      }
      // Peers see each other at their namespace addresses, not on loopback.
      const addresses = new Set(layout.nodes.map(n => n.address))
      for (const n of state.nodes) {
        const connections = await waitFor(async () => {
          const c = await getJson<ConnectionJson[]>(`${n.rpc}/network/connections`)
          return c.length >= 1 ? c : undefined
        }, { what: `${n.name} has a connection`, timeoutMs: 60_000, intervalMs: 200 })
        for (const c of connections) assert.ok(addresses.has(c.id_point.addr), `${n.name} sees a peer at ${c.id_point.addr}`)
      }
      // A block baked by node0 reaches the others through the bridge.
      const target = (await getJson<HeaderJson>(`${state.nodes[0].rpc}/chains/main/blocks/head/header`)).level + 2
      const nodes = state.nodes
      await waitFor(async () => {
        const levels = await Promise.all(nodes.map(async n => (await getJson<HeaderJson>(`${n.rpc}/chains/main/blocks/head/header`)).level))
        return levels.every(l => l >= target)
      }, { what: `every node at level ${target}`, timeoutMs: 60_000, intervalMs: 200 })
      const hashes = await Promise.all(nodes.map(async n => await getJson<string>(`${n.rpc}/chains/main/blocks/${target}/hash`)))
      assert.equal(new Set(hashes).size, 1)
    } finally {
      up.kill('SIGINT')
      const exit = await up.exited
      await removeDir(dir)
      assert.deepEqual(exit, { code: 0, signal: null }, up.stderr)
    }
    const namespaces = (await run('ip', ['netns', 'list'])).stdout
    const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    for (const n of state.namespaces?.nodes ?? []) {
      assert.ok(!namespaces.includes(n.namespace), `${n.namespace} removed`)
      assert.ok(!links.includes(n.hostVeth), `${n.hostVeth} removed`)
    }
    assert.ok(!links.includes(` ${state.namespaces?.bridge}:`), 'bridge removed')
  })
})
