import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { networkNamespacesUnavailable } from '../../src/runtime/devnet/netns.ts'
import { parseLinkShaping } from '../../scripts/bench/gossip/link-shaping.ts'
import { BenchNetworkUnavailableError, leftoverBenchLinks, namespaceNetwork } from '../../scripts/bench/gossip/network.ts'
import { runGossipsub, runTzp2p, type RunParams, type StackResult } from '../../scripts/bench/gossip/runs.ts'
import { randomRegularTopology } from '../../scripts/bench/gossip/topology.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const NODE = join(ROOT, 'node_modules', '.bin', 'node')
const GOSSIP = join(ROOT, 'scripts', 'bench', 'gossip.ts')
const unavailable = await networkNamespacesUnavailable()
const skip = unavailable === undefined ? false : `network namespaces unavailable here: ${unavailable}`

/** Runs the benchmark's command line; its exit code and output, whatever the code. */
async function gossipCli (args: string[], prefix: string[] = []): Promise<{ code: number, stdout: string, stderr: string }> {
  const [command, ...rest] = [...prefix, NODE, GOSSIP, ...args]
  try {
    const r = await run(command, rest, { timeout: 120_000 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code?: number, stdout?: string, stderr?: string }
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
}

describe('gossip benchmark in network namespaces', { skip }, () => {
  it('runs each node in its own namespace at its own address; both stacks deliver every block; close removes it all', async () => {
    const network = await namespaceNetwork(3, parseLinkShaping({ netNamespaces: true }))
    try {
      // A program run as node i sees only its loopback and its veth, at node i's address.
      for (let i = 0; i < 3; i++) {
        const { command, args } = network.command(i, 'ip', ['-o', '-4', 'addr', 'show'])
        const addresses = [...(await run(command, args)).stdout.matchAll(/inet (\S+)\//g)].map(m => m[1]).sort()
        assert.deepEqual(addresses, ['127.0.0.1', network.address(i)].sort())
      }
      const params: RunParams = {
        nodes: 3, edges: randomRegularTopology(3, 2, 1), heads: 3, warmup: 1, intervalMs: 300, operations: 2, network, log: () => {}
      }
      const check = (name: string, r: StackResult): void => {
        assert.equal(r.missing, 0, `${name}: arrivals missing`)
        assert.equal(r.latencies.length, params.heads * (params.nodes - 1), name)
        assert.ok(r.bytesPerHeadPerNode > 0 && r.topologyHeld, name)
      }
      const tz = await runTzp2p(params)
      check('tzp2p', tz.result)
      check('gossipsub', await runGossipsub(params, tz.warmup, tz.measured))
    } finally {
      await network.close()
    }
    assert.deepEqual(await leftoverBenchLinks(), [])
  })

  it('puts netem with the delay and loss on every node link, or says in one line that netem is missing, leaving nothing behind', async () => {
    const shaping = parseLinkShaping({ linkDelay: '25', loss: '1' })
    let network
    try {
      network = await namespaceNetwork(2, shaping)
    } catch (e) {
      // This kernel has no netem: the error names what is missing and how to get it, and the command line says it in one line.
      assert.ok(e instanceof BenchNetworkUnavailableError, String(e))
      assert.match(e.message, /sch_netem/)
      assert.deepEqual(await leftoverBenchLinks(), [])
      const cli = await gossipCli(['--link-delay', '25', '--nodes', '2'])
      assert.equal(cli.code, 1)
      assert.equal(cli.stdout, '')
      assert.match(cli.stderr, /^npm run bench:gossip: cannot build the emulated network: .*sch_netem.*\n$/)
      assert.deepEqual(await leftoverBenchLinks(), [])
      return
    }
    try {
      for (let i = 0; i < 2; i++) {
        const { command, args } = network.command(i, 'tc', ['qdisc', 'show'])
        assert.match((await run(command, args)).stdout, /qdisc netem .*delay 25ms.*loss 1%/)
      }
    } finally {
      await network.close()
    }
    assert.deepEqual(await leftoverBenchLinks(), [])
  })

  it('as a user other than root, says in one line that it needs root and exits with 1, never running on loopback', async (t) => {
    if (await access('/usr/bin/setpriv').then(() => false, () => true)) {
      t.skip('setpriv (util-linux) is not installed')
      return
    }
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups']
    // A checkout under a private directory (mktemp -d makes it 0700) cannot be read by that user:
    // the refusal under test is then never reached, which says nothing about the benchmark.
    if (await run(asNobody[0], [...asNobody.slice(1), 'test', '-r', GOSSIP]).then(() => false, () => true)) {
      t.skip(`user 65534 cannot read ${GOSSIP}`)
      return
    }
    const cli = await gossipCli(['--link-delay', '25', '--nodes', '2'], asNobody)
    assert.equal(cli.code, 1, cli.stderr)
    assert.equal(cli.stdout, '')
    assert.match(cli.stderr, /^npm run bench:gossip: cannot build the emulated network: .*needs root.*\n$/)
  })
})
