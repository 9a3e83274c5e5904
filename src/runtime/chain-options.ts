import type { NodeConfig } from '../config/node-config.ts'
import type { NodeOptions } from '../node/options.ts'

/** The chain side of a node's options (protocol, genesis, baker) from its configuration. */
export async function chainOptionsFromConfig (_config: NodeConfig): Promise<Partial<NodeOptions>> {
  return {}
}
