import { toHex } from '../../src/encoding/index.ts'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { Chain, type BlockInput, type ChainOptions } from '../../src/chain/chain.ts'
import type { DemoSetup } from '../helpers/demo-chain.ts'

export interface OpenedChain {
  db: Database
  chain: Chain
  close: () => Promise<void>
}

export async function openChain (dir: string, setup: Pick<DemoSetup, 'protocol' | 'genesis'>, options: Partial<ChainOptions> = {}): Promise<OpenedChain> {
  const db = await openDatabase(dir, { chainName: 'TZP2P_TEST' })
  let chain: Chain
  try {
    chain = await Chain.open(db, { protocol: setup.protocol, genesis: setup.genesis, ...options })
  } catch (e) {
    await db.close()
    throw e
  }
  return { db, chain, close: async () => { await db.close() } }
}

/** Every key and value of the database as hex, for before/after comparisons. */
export async function dumpDatabase (db: Database, skipPrefix?: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of db.iterator()) {
    if (skipPrefix !== undefined && k.startsWith(skipPrefix)) continue
    out.set(k, toHex(v))
  }
  return out
}

/** The protocol state sublevel as a map of hex values. */
export async function dumpState (chain: Chain): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of chain.store.stateLevel.iterator()) out.set(k, toHex(v))
  return out
}

import type { BlockHeader } from '../../src/wire/block-header.ts'
import type { Operation } from '../../src/wire/operation.ts'
import { levelFitness, operationsHashOf } from '../../src/protocol/common.ts'
import { signDemoBlock } from '../../src/protocol/demo/block.ts'

/**
 * A demo block signed by the configured baker around arbitrary operations (which `makeBlock`
 * would refuse): the header is well-formed, so only the operations can make it invalid.
 */
export function forgeDemoBlock (setup: DemoSetup, predecessor: { hash: Uint8Array, header: BlockHeader }, operations: Operation[][]): BlockHeader {
  const level = predecessor.header.shell.level + 1
  const shell = {
    level,
    proto: 1,
    predecessor: predecessor.hash,
    timestamp: predecessor.header.shell.timestamp + 1n,
    validationPass: operations.length,
    operationsHash: operationsHashOf(operations),
    fitness: levelFitness(level),
    context: new Uint8Array(32)
  }
  return { shell, protocolData: signDemoBlock(shell, setup.baker.publicKey, setup.baker.secretKey) }
}

/** The blocks of `chain` from level `from` to its head, as `addBlocks` takes them. */
export async function blocksOf (chain: Chain, from: number): Promise<BlockInput[]> {
  const out: BlockInput[] = []
  for (let level = from; level <= chain.head.header.shell.level; level++) {
    const h = await chain.getBlockByLevel(level)
    if (h === undefined) throw new Error(`no block at ${level}`)
    const operations = []
    for (let pass = 0; pass < h.header.shell.validationPass; pass++) operations.push(await chain.getOperations(h.hash, pass) ?? [])
    out.push({ header: h.header, operations })
  }
  return out
}
