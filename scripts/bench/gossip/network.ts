/**
 * Where the gossip benchmark's node processes run and which address each listens on: all on
 * 127.0.0.1, or each in its own network namespace on a bridge, built by the devnet's code
 * (src/runtime/devnet/netns.ts, the same layout as `devnet --net-namespaces`), with `tc netem`
 * on every node's link when a delay or a loss is asked for. The namespaces are removed when the
 * benchmark ends, fails or is interrupted (see `atExit` in ./cluster.ts).
 */
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import {
  createNetworkNamespaces, inNamespace, namespaceLayout, networkNamespacesUnavailable, removeNetworkNamespaces, type NamespaceLayout
} from '../../../src/runtime/devnet/netns.ts'
import { atExit } from './cluster.ts'
import { describeShaping, netemArgs, pickSubnet, shapesLinks, type LinkShaping } from './link-shaping.ts'
import type { EdgeRelays } from './relay-network.ts'
import type { Edge } from './topology.ts'

const run = promisify(execFile)

/** The environment cannot give the benchmark the network it was asked for; the message says what is missing and how to fix it. */
export class BenchNetworkUnavailableError extends Error {
  override readonly name = 'BenchNetworkUnavailableError'
}

export interface BenchNetwork {
  /** For the report. */
  readonly description: string
  /** The IPv4 address node i listens on. */
  address: (i: number) => string
  /** The command that runs `program args` as node i. */
  command: (i: number, program: string, args: string[]) => { command: string, args: string[] }
  /** Tears the network down (nothing for loopback). */
  close: () => Promise<void>
  /**
   * Relays between the nodes, one per edge (`--link-emulation proxy`, ./relay-network.ts):
   * opened for each run once its nodes listen at `listen`; without it nodes dial each other directly.
   */
  links?: (listen: readonly string[], edges: readonly Edge[]) => Promise<EdgeRelays>
}

export const loopbackNetwork: BenchNetwork = {
  description: 'loopback',
  address: () => '127.0.0.1',
  command: (_i, program, args) => ({ command: program, args }),
  close: async () => {}
}

/** Removes the layout with synchronous commands: what an exit handler can still do. */
function removeNamespacesNow (layout: NamespaceLayout): void {
  // A piece already gone makes `ip` fail: nothing to do for it.
  const ip = (...args: string[]): void => {
    try { execFileSync('ip', args, { stdio: 'ignore' }) } catch { return }
  }
  // Deleting the host end of a veth deletes its namespace end too, even while a process still
  // holds the namespace open; the namespace itself goes with its last process.
  for (const n of layout.nodes) { ip('link', 'del', n.hostVeth); ip('netns', 'del', n.namespace) }
  ip('link', 'del', layout.bridge)
}

async function tc (args: string[]): Promise<void> {
  try {
    await run('tc', args)
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string }
    if (err.code === 'ENOENT') throw new BenchNetworkUnavailableError('the `tc` command is missing: install iproute2 (apt-get install iproute2)')
    const why = (err.stderr ?? err.message).trim()
    if (/qdisc kind is unknown/i.test(why)) {
      throw new BenchNetworkUnavailableError('this kernel has no netem qdisc (sch_netem): load it with `modprobe sch_netem` (package linux-modules-extra-$(uname -r) on Ubuntu), or run on a kernel built with CONFIG_NET_SCH_NETEM, or drop --link-delay/--loss')
    }
    throw new BenchNetworkUnavailableError(`tc ${args.join(' ')}: ${why}`)
  }
}

/** Tries netem on the loopback of a throwaway namespace: a host without it fails here, before forty namespaces are built. */
async function probeNetem (namespace: string, shaping: LinkShaping): Promise<void> {
  const remove = (): void => {
    try { execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' }) } catch { return }
  }
  const cancel = atExit(remove)
  try {
    await run('ip', ['netns', 'add', namespace])
    await tc(netemArgs(namespace, 'lo', shaping))
  } catch (e) {
    if (e instanceof BenchNetworkUnavailableError) throw e
    throw new BenchNetworkUnavailableError(`network namespaces: ${(e as Error).message}`)
  } finally {
    await run('ip', ['netns', 'del', namespace]).catch(() => undefined)
    cancel()
  }
}

/**
 * One namespace per node on a fresh bridge, netem on each node's link when `shaping` asks for it.
 * Fails with a BenchNetworkUnavailableError (having removed whatever it made) when this host
 * cannot: not root, no iproute2, no netem.
 */
export async function namespaceNetwork (count: number, shaping: LinkShaping): Promise<BenchNetwork> {
  const loopbackInstead = 'or drop --link-delay, --loss and --net-namespaces to run on loopback'
  if (process.platform === 'linux' && process.getuid?.() !== 0) {
    throw new BenchNetworkUnavailableError(`creating network namespaces and netem qdiscs needs root: run it as root (sudo), ${loopbackInstead}`)
  }
  const why = await networkNamespacesUnavailable()
  if (why !== undefined) throw new BenchNetworkUnavailableError(`network namespaces: ${why} (${loopbackInstead})`)
  const subnet = pickSubnet((await run('ip', ['-o', 'addr', 'show'])).stdout, process.pid)
  // `gb` + 4 digits: names stay within IFNAMSIZ and apart from the devnet's (digits only).
  const layout = namespaceLayout(`gb${process.pid % 10_000}`, subnet, count)
  if (shapesLinks(shaping)) await probeNetem(`${layout.nodes[0].namespace}probe`, shaping)
  const cancel = atExit(() => { removeNamespacesNow(layout) })
  try {
    try {
      await createNetworkNamespaces(layout)
    } catch (e) {
      throw new BenchNetworkUnavailableError(`network namespaces: ${(e as Error).message}`)
    }
    if (shapesLinks(shaping)) {
      for (const n of layout.nodes) await tc(netemArgs(n.namespace, n.nodeVeth, shaping))
    }
  } catch (e) {
    await removeNetworkNamespaces(layout)
    cancel()
    throw e
  }
  return {
    description: `${describeShaping(shaping)} (10.99.${subnet}.0/24, bridge ${layout.bridge})`,
    address: i => layout.nodes[i].address,
    command: (i, program, args) => inNamespace(layout.nodes[i].namespace, program, args),
    close: async () => {
      await removeNetworkNamespaces(layout)
      cancel()
    }
  }
}

/** The namespaces and netem qdiscs currently on this host whose names are the benchmark's, for a check after a run. */
export async function leftoverBenchLinks (): Promise<string[]> {
  const namespaces = (await run('ip', ['netns', 'list'])).stdout.split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith('tzp2pgb'))
  const links = [...(await run('ip', ['-o', 'link', 'show'])).stdout.matchAll(/^\d+: (tz(?:br|h)gb\d+\w*)[:@]/gm)].map(m => m[1])
  return [...namespaces, ...links]
}
