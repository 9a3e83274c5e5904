import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Network namespaces for a devnet whose nodes talk over real interfaces: one namespace per node,
 * each with a veth pair whose outer end is enslaved to a bridge in the root namespace. Addresses
 * are ones this module assigns on interfaces it creates (`10.99.<subnet>.0/24`: the bridge is .1,
 * node i is .(10 + i)), and everything is removed by `removeNetworkNamespaces`. Needs root and
 * iproute2's `ip`.
 */
export interface NamespaceLayout {
  /** Names are prefixed by this (`tzp2p<id>`), so two devnets on one host do not collide. */
  id: string
  /** Third octet of the 10.99.x.0/24 subnet. */
  subnet: number
  bridge: string
  bridgeAddress: string
  nodes: Array<{ namespace: string, address: string, hostVeth: string, nodeVeth: string }>
}

export class NetworkNamespaceError extends Error {
  override readonly name = 'NetworkNamespaceError'
}

/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
export function namespaceLayout (id: string, subnet: number, count: number): NamespaceLayout {
  if (!/^[a-z0-9]{1,6}$/.test(id)) throw new NetworkNamespaceError(`namespace id must be 1 to 6 lower-case letters or digits, got ${JSON.stringify(id)}`)
  if (!(Number.isInteger(subnet) && subnet >= 0 && subnet <= 255)) throw new NetworkNamespaceError(`subnet must be 0..255, got ${subnet}`)
  if (!(Number.isInteger(count) && count >= 1 && count <= 200)) throw new NetworkNamespaceError(`a namespaced devnet has 1 to 200 nodes, got ${count}`)
  return {
    id,
    subnet,
    bridge: `tzbr${id}`,
    bridgeAddress: `10.99.${subnet}.1`,
    nodes: Array.from({ length: count }, (_, i) => ({
      namespace: `tzp2p${id}n${i}`,
      address: `10.99.${subnet}.${10 + i}`,
      hostVeth: `tzh${id}n${i}`,
      nodeVeth: `tzv${id}n${i}`
    }))
  }
}

async function ip (...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string }
    if (err.code === 'ENOENT') throw new NetworkNamespaceError('the `ip` command (iproute2) is missing: install iproute2 to use --net-namespaces')
    throw new NetworkNamespaceError(`ip ${args.join(' ')}: ${(err.stderr ?? err.message).trim()}`)
  }
}

/** Why namespaces cannot be used here, or undefined if they can. */
export async function networkNamespacesUnavailable (): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces exist only on Linux'
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (run as root, or drop --net-namespaces)'
  try {
    await ip('netns', 'list')
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

/** Creates the bridge, the namespaces and their veth pairs, and brings everything up. */
export async function createNetworkNamespaces (layout: NamespaceLayout): Promise<void> {
  const existing = await ip('-o', 'link', 'show')
  if (existing.includes(` ${layout.bridge}:`)) {
    throw new NetworkNamespaceError(`bridge ${layout.bridge} already exists: a devnet with id ${layout.id} is running (tzp2p devnet down), or remove it with \`ip link del ${layout.bridge}\``)
  }
  try {
    await ip('link', 'add', layout.bridge, 'type', 'bridge')
    await ip('addr', 'add', `${layout.bridgeAddress}/24`, 'dev', layout.bridge)
    await ip('link', 'set', layout.bridge, 'up')
    for (const n of layout.nodes) {
      await ip('netns', 'add', n.namespace)
      await ip('link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', n.nodeVeth)
      await ip('link', 'set', n.nodeVeth, 'netns', n.namespace)
      await ip('link', 'set', n.hostVeth, 'master', layout.bridge)
      await ip('link', 'set', n.hostVeth, 'up')
      await ip('-n', n.namespace, 'addr', 'add', `${n.address}/24`, 'dev', n.nodeVeth)
      await ip('-n', n.namespace, 'link', 'set', n.nodeVeth, 'up')
      await ip('-n', n.namespace, 'link', 'set', 'lo', 'up')
    }
  } catch (e) {
    await removeNetworkNamespaces(layout)
    throw e
  }
}

/** Removes what `createNetworkNamespaces` made; missing pieces are skipped. */
export async function removeNetworkNamespaces (layout: NamespaceLayout): Promise<void> {
  for (const n of layout.nodes) {
    // Deleting the namespace deletes the veth inside it, and with it its peer in the root namespace.
    await ip('netns', 'del', n.namespace).catch(() => {})
    await ip('link', 'del', n.hostVeth).catch(() => {})
  }
  await ip('link', 'del', layout.bridge).catch(() => {})
}

/** The command prefix that runs a program inside a node's namespace. */
export function inNamespace (namespace: string, command: string, args: string[]): { command: string, args: string[] } {
  return { command: 'ip', args: ['netns', 'exec', namespace, command, ...args] }
}
