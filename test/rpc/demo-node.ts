import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { createNode, type TzNode } from '../../src/node/create-node.ts'

/**
 * A node with a demo chain on a classic-level store in a temporary data dir, baking on demand
 * (`node.bake()`), its genesis an hour old so blocks can be baked at once: what the RPC, status
 * page and RPC-fuzzing tests serve.
 */
export interface DemoNode {
  dir: string
  setup: DemoSetup
  node: TzNode
  /** Stops the node and removes its data dir. */
  close: () => Promise<void>
}

export async function startDemoNode (options: { name: string, accounts: number, chainName?: string }): Promise<DemoNode> {
  const dir = await mkdtemp(join(tmpdir(), `tzp2p-${options.name}-`))
  const setup = demoSetup({ name: options.name, accounts: options.accounts, verifyWorkers: 0, genesisTimestamp: BigInt(Math.floor(Date.now() / 1000) - 3600) })
  const node = await createNode({
    dataDir: dir,
    expectedPow: 0,
    chainName: options.chainName ?? 'TZP2P_TEST',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    manageConnections: false,
    chain: { protocol: setup.protocol, genesis: setup.genesis, baker: { key: setup.baker.secretKey }, maxClockDrift: 3600 }
  })
  await node.start()
  return {
    dir,
    setup,
    node,
    close: async () => {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
