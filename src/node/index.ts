export { createNode } from './create-node.ts'
export type { TzNode, NodeEventMap, NodeServices, DialTezosOptions } from './tz-node.ts'
export {
  type NodeOptions, InvalidNodeOptionsError, DEFAULT_CHAIN_NAME, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_P2P_PORT
} from './options.ts'
