import { demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import { startNode, TEST_CHAIN } from '../helpers/node.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

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
  const dir = await tempDir(options.name)
  const setup = demoSetup({ name: options.name, accounts: options.accounts, verifyWorkers: 0, genesisTimestamp: BigInt(Math.floor(Date.now() / 1000) - 3600) })
  const node = await startNode({
    dataDir: dir,
    chainName: options.chainName ?? TEST_CHAIN,
    chain: { protocol: setup.protocol, genesis: setup.genesis, baker: { key: setup.baker.secretKey }, maxClockDrift: 3600 }
  })
  return {
    dir,
    setup,
    node,
    close: async () => {
      await node.stop()
      await removeDir(dir)
    }
  }
}
