import type { ChainReader } from '../chain/chain-reader.ts'
import type { Mempool } from '../chain/mempool.ts'
import type { TzNode } from '../node/create-node.ts'

/**
 * The chain side of a node, as the RPC uses it. A node embedded without a chain has none, and
 * the chain RPCs then answer 503.
 */
export interface ChainAccess {
  chain: ChainReader
  mempool: Mempool | undefined
  chainId: Uint8Array
  /** Admits an operation (binary) to the mempool, from where it is gossiped; resolves to its hash. */
  inject: (operationBytes: Uint8Array) => Promise<Uint8Array>
  bootstrapped: () => boolean
}

export function chainAccessOf (node: TzNode): ChainAccess | undefined {
  const chain = node.chain
  if (chain === undefined) return undefined
  return {
    chain,
    mempool: node.mempool,
    chainId: chain.genesis.chainId,
    inject: async bytes => (await node.inject(bytes)).hash,
    bootstrapped: () => node.isBootstrapped()
  }
}
