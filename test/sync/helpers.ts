import { blake2b256 } from '../../src/crypto/index.ts'
import { toHex } from '../../src/encoding/index.ts'
import { levelFitness } from '../../src/protocol/common.ts'
import { merkleRoot } from '../../src/wire/merkle.ts'
import { computeLocator, type BlockLocator, type LocatorSeed } from '../../src/wire/locator.ts'
import { hashHeader, type HashedHeader } from '../../src/sync/checks.ts'
import type { BlockHeader } from '../../src/wire/block-header.ts'

/**
 * A synthetic chain of headers for pipeline tests: genesis (its hash a constant, as in Octez) and
 * `n` blocks on it. `variant` changes the protocol data, to make a competing branch.
 */
export interface SyntheticChain {
  headers: HashedHeader[]
  byHex: Map<string, HashedHeader>
  ancestor: (hash: Uint8Array, distance: number) => HashedHeader | undefined
}

export function syntheticChain (n: number, options: { variant?: string, from?: SyntheticChain, fromLevel?: number } = {}): SyntheticChain {
  const headers: HashedHeader[] = []
  if (options.from !== undefined) {
    headers.push(...options.from.headers.slice(0, (options.fromLevel ?? 0) + 1))
  } else {
    const genesisHash = blake2b256(new TextEncoder().encode('synthetic genesis'))
    const header: BlockHeader = {
      shell: { level: 0, proto: 0, predecessor: genesisHash, timestamp: 1_600_000_000n, validationPass: 0, operationsHash: merkleRoot([]), fitness: [], context: new Uint8Array(32) },
      protocolData: new Uint8Array(0)
    }
    headers.push({ hash: genesisHash, hex: toHex(genesisHash), header, bytes: new Uint8Array(0) })
  }
  const variant = new TextEncoder().encode(options.variant ?? '')
  while (headers.length <= n) {
    const pred = headers[headers.length - 1]
    const level = pred.header.shell.level + 1
    headers.push(hashHeader({
      shell: {
        level,
        proto: 1,
        predecessor: pred.hash,
        timestamp: pred.header.shell.timestamp + 1n,
        validationPass: 1,
        operationsHash: merkleRoot([merkleRoot([])]),
        fitness: levelFitness(level),
        context: new Uint8Array(32)
      },
      protocolData: variant
    }))
  }
  const byHex = new Map(headers.map(h => [h.hex, h]))
  const ancestor = (hash: Uint8Array, distance: number): HashedHeader | undefined => {
    const h = byHex.get(toHex(hash))
    if (h === undefined) return undefined
    const level = h.header.shell.level - distance
    return level < 0 || distance < 0 ? undefined : headers[level]
  }
  return { headers, byHex, ancestor }
}

export const SENDER = new Uint8Array(16).fill(1)
export const RECEIVER = new Uint8Array(16).fill(2)
export const SEED: LocatorSeed = { senderId: SENDER, receiverId: RECEIVER }
/** The seed as the receiver replays it. */
export const REPLAY: LocatorSeed = { senderId: SENDER, receiverId: RECEIVER }

export async function locatorOf (chain: SyntheticChain, seed: LocatorSeed = SEED, size?: number): Promise<BlockLocator> {
  const head = chain.headers[chain.headers.length - 1]
  return await computeLocator({
    headHash: head.hash,
    headHeader: head.header,
    seed,
    caboose: chain.headers[0].hash,
    ...(size === undefined ? {} : { size }),
    getAncestor: (hash, distance) => chain.ancestor(hash, distance)?.hash
  })
}
