import type { TzNode } from '../../src/node/create-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { startNode } from '../helpers/node.ts'
import { waitFor } from '../helpers/wait.ts'

/** A started node on loopback with its connection manager; maintenance off unless the test turns it on. */
export async function startManaged (options: Partial<NodeOptions> = {}): Promise<TzNode> {
  return await startNode({
    manageConnections: true,
    ...options,
    limits: {
      maintenanceIdleTimeMs: null,
      timeBetweenLookingForPeersMs: 200,
      // Every test node shares 127.0.0.1.
      inboundConnectionsPerIpPerSecond: 500,
      ...options.limits
    }
  })
}

/** `127.0.0.1:<port>` of a node's first listen address. */
export function hostPortOf (node: TzNode): string {
  const port = /\/tcp\/(\d+)/.exec(node.getMultiaddrs()[0].toString())?.[1]
  return `127.0.0.1:${port}`
}

/** The point key a node is known by on loopback. */
export function pointKeyOf (node: TzNode): string {
  const port = /\/tcp\/(\d+)/.exec(node.getMultiaddrs()[0].toString())?.[1]
  return `/ip4/127.0.0.1/tcp/${port}`
}

/**
 * Dials and waits until both ends count the connection: the dialer is done once it has read the
 * listener's Ack, the listener only once it has read the dialer's, a moment later.
 */
export async function connect (from: TzNode, to: TzNode, options: { force?: boolean } = {}): Promise<void> {
  await from.dial(to.getMultiaddrs()[0], options)
  await waitFor(() => to.peers.get(from.identity.peerId) !== undefined, { what: 'the listener counts the connection' })
}
