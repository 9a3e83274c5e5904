import type { Stream } from '@libp2p/interface'
import type { DemoSetup } from '../helpers/demo-chain.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import type { ChainNodeOptions } from '../../src/node/chain-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { startNode, TEST_CHAIN } from '../helpers/node.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

/**
 * In-process nodes running a demo chain on loopback, each with its own store in a temporary
 * directory; without a connection manager, so a penalty greylists the peer at once.
 */
export interface ChainTestNode {
  node: TzNode
  db: Database
  close: () => Promise<void>
}

export async function startChainNode (setup: Pick<DemoSetup, 'protocol' | 'genesis'>, options: Partial<ChainNodeOptions> = {}): Promise<ChainTestNode> {
  const dir = await tempDir('sync')
  const db = await openDatabase(dir, { chainName: TEST_CHAIN })
  const node = await startNode({
    chain: { protocol: setup.protocol, genesis: setup.genesis, store: db, synchronisation: { threshold: 1 }, ...options }
  })
  return {
    node,
    db,
    close: async () => {
      await node.stop()
      await db.close()
      await removeDir(dir)
    }
  }
}

/** A plain node (no chain): a peer that speaks the protocols by hand. */
export async function startPlainNode (options: Partial<NodeOptions> = {}): Promise<TzNode> {
  return await startNode(options)
}

let loopbackSources = 0
/**
 * A loopback address of its own for a peer that gets greylisted: the peer policy greylists its IP,
 * and the other test peers dial from 127.0.0.1.
 */
export function freshLoopbackSource (): string {
  loopbackSources++
  return `127.0.${1 + Math.floor(loopbackSources / 250)}.${1 + (loopbackSources % 250)}`
}

/** Opens a stream for `protocol` from `from` to the authenticated peer `to`. */
export async function rawStream (from: TzNode, to: TzNode, protocol: string): Promise<Stream> {
  const connection = from.libp2p.getConnections(to.peerId).find(c => from.peers.isAuthenticated(c))
  if (connection === undefined) throw new Error('not connected')
  return await connection.newStream(protocol)
}

/** The sync client of a node's sync service (the requests under test in sync's tests). */
export function syncClientOf (node: TzNode): NonNullable<TzNode['libp2p']['services']['sync']>['client'] {
  const sync = node.libp2p.services.sync
  if (sync === undefined) throw new Error('no sync service')
  return sync.client
}
