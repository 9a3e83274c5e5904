import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { TzNode } from '../node/create-node.ts'
import type { LatencySampler } from './latency.ts'

/** What every route module gets: the node and the helpers the RPC server keeps beside it. */
export interface RpcContext {
  node: TzNode
  latency: LatencySampler
  /** The Prometheus registry `/metrics` serves. */
  registry: Registry
  logger: Logger
  /** What this node announces in its handshakes (Octez `local_metadata`). */
  local: { disableMempool: boolean, privateNode: boolean }
  /** Called when the server closes, e.g. to end streams. */
  onClose: (fn: () => void) => void
}
