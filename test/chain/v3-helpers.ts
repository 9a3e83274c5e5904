import { bytesEqual } from '../../src/encoding/index.ts'
import type { Chain } from '../../src/chain/chain.ts'
import { asDemoV3, TooEarlyForPriorityError } from '../../src/protocol/demo-v3/index.ts'
import type { Ed25519Keypair } from '../../src/protocol/demo/keys.ts'
import type { BlockHeader } from '../../src/wire/block-header.ts'
import type { Operation } from '../../src/wire/operation.ts'

/**
 * Bakes a demo v3 block on `chain`'s head (or on `on`, a stored block) with the key among `keys`
 * holding the best priority, at the earliest time that priority allows (the chain's genesis lies
 * in the past, so every such time is), and adds it to the chain. With `siblings` > 1, that many
 * blocks on the same head, a second apart (the first one returned).
 */
export async function bakeV3 (chain: Chain, keys: readonly Ed25519Keypair[], candidates: Operation[] = [], siblings = 1): Promise<{ header: BlockHeader, operations: Operation[][], others: BlockHeader[] }> {
  const protocol = asDemoV3(chain.protocol)
  if (protocol === undefined) throw new Error('not a demo v3 chain')
  const baked = await chain.atHead(async (head, state) => {
    const rights = await protocol.rightsAt(state, head.header.shell.level + 1, protocol.parameters.maxPriority)
    const priority = rights.bakers.findIndex(d => keys.some(k => bytesEqual(k.publicKeyHash, d)))
    if (priority < 0) throw new Error('no key holds a priority')
    const key = keys.find(k => bytesEqual(k.publicKeyHash, rights.bakers[priority])) as Ed25519Keypair
    const make = async (timestamp: bigint): Promise<Awaited<ReturnType<typeof protocol.makeBlock>>> => await protocol.makeBlock({
      predecessor: head.header, predecessorHash: head.hash, timestamp, candidates, state, bakerKey: key.secretKey, protoLevel: chain.nextProtocolLevel.protoLevel
    })
    const first = await make(head.header.shell.timestamp + 1n).catch(async (e: unknown) => {
      if (e instanceof TooEarlyForPriorityError) return await make(e.earliest)
      throw e
    })
    const others = []
    for (let i = 1; i < siblings; i++) others.push(await make(first.header.shell.timestamp + BigInt(i)))
    return { first, others }
  })
  await chain.addBlock(baked.first.header, baked.first.operations)
  for (const o of baked.others) await chain.addBlock(o.header, o.operations)
  return { header: baked.first.header, operations: baked.first.operations, others: baked.others.map(o => o.header) }
}
