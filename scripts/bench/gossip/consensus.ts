/**
 * `bench:gossip --consensus`: the consensus traffic of a Tezos network on the benchmark's chain.
 * The chain runs demo v3 (protocols/sync.md, Appendix A.2) with one delegate per node; every node
 * endorses every new head (one endorsement operation, through its mempool, which gossips it), and
 * the producer (node 0) bakes each block with the endorsements of its predecessor, as Tezos's
 * bakers and endorsers of the Emmy* era do.
 *
 * The benchmark keeps its fixed producer and rate, so the protocol's timing is set aside: no delay
 * between priorities (`timeBetweenBlocks` 0: the producer bakes at whatever priority it holds, at
 * once), no delay for missing endorsements. The producer's stake equals all others' together, so it
 * holds a priority at every level, and 256 endorsement slots per block give every delegate some.
 */
import { namedGenesis, type GenesisConfig } from '../../../src/chain/genesis.ts'
import type { Chain } from '../../../src/chain/chain.ts'
import type { Mempool } from '../../../src/chain/mempool.ts'
import { encode, toHex } from '../../../src/encoding/index.ts'
import { ed25519FromName, type Ed25519Keypair } from '../../../src/protocol/demo/keys.ts'
import { asDemoV3, createDemoV3Protocol, endorsementOf, type DemoV3Protocol } from '../../../src/protocol/demo-v3/index.ts'
import { operationCodec } from '../../../src/wire/operation.ts'

const STAKE = 1_000_000_000_000n

export interface ConsensusSetup {
  protocol: DemoV3Protocol
  genesis: GenesisConfig
  delegates: Ed25519Keypair[]
}

export function consensusSetup (name: string, nodes: number): ConsensusSetup {
  const delegates = Array.from({ length: nodes }, (_, i) => ed25519FromName(`${name}/delegate/${i}`))
  const protocol = createDemoV3Protocol({
    bakerPublicKey: ed25519FromName(`${name}/authority`).publicKey,
    bootstrapAccounts: delegates.map((d, i) => ({ publicKeyHash: d.publicKeyHash, publicKey: d.publicKey, balance: i === 0 ? STAKE * BigInt(Math.max(1, nodes - 1)) : STAKE })),
    parameters: { endorsersPerBlock: 256, initialEndorsers: 0, minimalBlockDelay: 0, timeBetweenBlocks: [0, 0], delayPerMissingEndorsement: 0, maxPriority: 64 },
    verifyWorkers: 0
  })
  const v3 = asDemoV3(protocol)
  if (v3 === undefined) throw new Error('demo v3 protocol expected')
  return { protocol: v3, genesis: namedGenesis(`${name}/consensus`, 1_700_000_000n, protocol.hash), delegates }
}

/** A node's delegate: endorses each new head once, and (on the producer) bakes on command. */
export class ConsensusDelegate {
  /** Block hash (hex) → this node's endorsement of it (operation bytes, hex). */
  readonly endorsements = new Map<string, string>()
  private readonly chain: Chain
  private readonly mempool: Mempool
  private readonly key: Uint8Array
  private endorsedLevel = 0
  private queue: Promise<void> = Promise.resolve()

  constructor (chain: Chain, mempool: Mempool, key: Uint8Array) {
    this.chain = chain
    this.mempool = mempool
    this.key = key
  }

  start (): void {
    this.chain.on('head', () => { this.queue = this.queue.then(async () => { await this.endorse() }).catch((e: unknown) => { process.stderr.write(`endorsement failed: ${(e as Error).message}\n`) }) })
  }

  private async endorse (): Promise<void> {
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) return
    const op = await this.chain.atHead(async (head, state) => {
      const level = head.header.shell.level
      if (level < 1 || level <= this.endorsedLevel) return undefined
      this.endorsedLevel = level
      const rights = await protocol.rightsAt(state, level, 0)
      const endorsement = endorsementOf({ hash: head.hash, level }, rights.slots, this.key)
      return endorsement === undefined ? undefined : { head: toHex(head.hash), endorsement }
    })
    if (op === undefined) return
    this.endorsements.set(op.head, toHex(encode(operationCodec, op.endorsement)))
    await this.mempool.add(op.endorsement)
  }

  /**
   * Bakes one block on the head once the mempool holds `endorsements` operations (the endorsements
   * of the head: the producer's own and its peers'), or at `deadlineMs` with those it has.
   * Returns the new block's hash (hex).
   */
  async bake (endorsements: number, deadlineMs: number): Promise<string> {
    const protocol = asDemoV3(this.chain.protocol)
    if (protocol === undefined) throw new Error('not a demo v3 chain')
    await this.queue
    const deadline = Date.now() + deadlineMs
    while (this.mempool.size < endorsements && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
    const baked = await this.chain.atHead(async (head, state) => await protocol.makeBlock({
      predecessor: head.header,
      predecessorHash: head.hash,
      timestamp: head.header.shell.timestamp + 1n,
      candidates: [...this.mempool.operations()],
      state,
      protoLevel: this.chain.nextProtocolLevel.protoLevel,
      bakerKey: this.key
    }))
    await this.chain.addBlock(baked.header, baked.operations)
    return toHex(this.chain.head.hash)
  }
}
