import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNode } from '../../src/node/create-node.ts'
import { InvalidNodeOptionsError } from '../../src/node/options.ts'
import { InsufficientProofOfWorkError } from '../../src/identity/errors.ts'
import { identityFailingPow, identityWithPow, startNode, stopAll, addressOf } from '../helpers/node.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')

describe('node lifecycle', () => {
  it('starts and stops 20 connected nodes and leaves nothing behind: the process exits by itself', async () => {
    const child = spawn(NODE, [join(import.meta.dirname, 'start-stop-nodes.ts'), '20'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    // Safety net only: a leaked handle would keep the child alive until this kills it.
    const safety = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => {
      child.on('exit', (c, s) => { resolve([c, s]) })
    })
    clearTimeout(safety)
    assert.equal(signal, null, `child was killed: it did not exit by itself\n${err}`)
    assert.equal(code, 0, err)
    // 20 dials in a ring: each node has one outbound and one inbound authenticated connection.
    assert.deepEqual(JSON.parse(out), { count: 20, authenticated: 40 })
  })

  it('keeps its keys in a data dir: created on first start, the same on the next', async () => {
    const dataDir = await tempDir('node')
    try {
      const first = await createNode({ dataDir, expectedPow: 0, chainName: 'TZP2P_TEST', listen: ['/ip4/127.0.0.1/tcp/0'] })
      await first.start()
      const peerId = first.peerId.toString()
      const tezosPeerId = first.identity.peerId
      await first.stop()
      // The keys, and the node's store (known points, bans, chain) beside them.
      assert.deepEqual((await readdir(dataDir)).sort(), ['identity.json', 'libp2p-key', 'store'])
      const second = await createNode({ dataDir, expectedPow: 0, chainName: 'TZP2P_TEST', listen: ['/ip4/127.0.0.1/tcp/0'] })
      assert.equal(second.peerId.toString(), peerId)
      assert.equal(second.identity.peerId, tezosPeerId)
      // And it works: a peer can authenticate with it.
      await second.start()
      const other = await startNode()
      try {
        const peer = await other.dial(addressOf(second))
        assert.equal(peer.tezosPeerId, tezosPeerId)
      } finally {
        await stopAll(other, second)
      }
    } finally {
      await removeDir(dataDir)
    }
  })

  it('refuses to run with an identity below its own expected proof of work, as Octez does', async () => {
    await assert.rejects(createNode({
      identity: identityFailingPow(4), privateKey: await generateKeyPair('Ed25519'), expectedPow: 4, listen: []
    }), InsufficientProofOfWorkError)
  })

  it('rejects contradictory or out-of-range options with a clear error', async () => {
    const identity = identityWithPow(0)
    const privateKey = await generateKeyPair('Ed25519')
    for (const bad of [
      {},
      { identity },
      { dataDir: '/tmp/x', identity, privateKey },
      { identity, privateKey, expectedPow: 300 },
      { identity, privateKey, maxConnections: -1 },
      { identity, privateKey, advertisedPort: 70000 },
      { identity, privateKey, authenticationTimeoutMs: 0 },
      { identity, privateKey, p2pVersions: [] },
      { identity, privateKey, chainName: 'x'.repeat(2000) }
    ]) {
      await assert.rejects(createNode(bad), InvalidNodeOptionsError, JSON.stringify(Object.keys(bad)))
    }
  })

  it('announces the advertised port it is given instead of its listening port', async () => {
    const a = await startNode({ advertisedPort: 19732 })
    const b = await startNode()
    try {
      const peer = await b.dial(addressOf(a))
      assert.equal(peer.advertisedPort, 19732)
    } finally {
      await stopAll(a, b)
    }
  })
})
