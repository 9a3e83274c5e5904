import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DemoSetup } from '../helpers/demo-chain.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import type { ChainNodeOptions } from '../../src/node/chain-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { startNode, TEST_CHAIN } from '../helpers/node.ts'

/** An in-process node with a demo chain and an Octez-wire listener on loopback (any port). */
export interface OctezChainNode {
  node: TzNode
  db: Database
  /** `127.0.0.1` and the port its Octez-wire listener got. */
  octezPort: number
  close: () => Promise<void>
}

export async function startOctezChainNode (
  setup: Pick<DemoSetup, 'protocol' | 'genesis'>,
  options: Partial<NodeOptions> = {},
  chain: Partial<ChainNodeOptions> = {}
): Promise<OctezChainNode> {
  const dir = await mkdtemp(join(tmpdir(), 'tzp2p-octez-node-'))
  const db = await openDatabase(dir, { chainName: TEST_CHAIN })
  const node = await startNode({
    octezListen: '127.0.0.1:0',
    ...options,
    chain: { protocol: setup.protocol, genesis: setup.genesis, store: db, synchronisation: { threshold: 1 }, ...chain }
  })
  const port = node.octez?.listenAddress?.port
  if (port === undefined) throw new Error('no Octez-wire listener')
  return {
    node,
    db,
    octezPort: port,
    close: async () => {
      await node.stop()
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
