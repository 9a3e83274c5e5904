import { blake2b256 } from '../../src/crypto/index.ts'
import { toHex } from '../../src/encoding/index.ts'
import { blockHash, type BlockHeader } from '../../src/wire/block-header.ts'
import type { Operation } from '../../src/wire/operation.ts'
import {
  createDemoProtocol, decodeAccount, accountKey, ed25519FromName, signTransfer, type Ed25519Keypair
} from '../../src/protocol/demo/index.ts'
import type { Protocol } from '../../src/protocol/protocol.ts'
import type { StateReader, StateWrite } from '../../src/protocol/state.ts'
import type { BlockInput } from '../../src/chain/chain.ts'
import { genesisHeader, namedGenesis, resolveGenesis, type GenesisConfig } from '../../src/chain/genesis.ts'

/**
 * Deterministic demo chains, built in memory without a store: for tests and the benchmarks
 * (scripts/bench). Everything derives from a name: account and baker keys, genesis, and the
 * pseudo-random transfers.
 */
export interface DemoSetupOptions {
  /** Names the chain; keys and genesis derive from it. */
  name?: string
  accounts?: number
  validationPasses?: number
  /** Genesis time, seconds; blocks are one second apart after it by default. */
  genesisTimestamp?: bigint
  initialBalance?: bigint
  /** Signature-verification worker threads of the protocol (default one per core; 0 = none). */
  verifyWorkers?: number
}

export interface DemoSetup {
  name: string
  protocol: Protocol
  genesis: GenesisConfig
  baker: Ed25519Keypair
  accounts: Ed25519Keypair[]
}

export function demoSetup (options: DemoSetupOptions = {}): DemoSetup {
  const name = options.name ?? 'demo'
  const accounts = Array.from({ length: options.accounts ?? 8 }, (_, i) => ed25519FromName(`${name}/account/${i}`))
  const baker = ed25519FromName(`${name}/baker`)
  const protocol = createDemoProtocol({
    bakerPublicKey: baker.publicKey,
    bootstrapAccounts: accounts.map(a => ({ publicKeyHash: a.publicKeyHash, balance: options.initialBalance ?? 1_000_000_000_000n })),
    validationPasses: options.validationPasses ?? 1,
    ...(options.verifyWorkers === undefined ? {} : { verifyWorkers: options.verifyWorkers })
  })
  const genesis = namedGenesis(name, options.genesisTimestamp ?? 1_700_000_000n, protocol.hash)
  return { name, protocol, genesis, baker, accounts }
}

/** State held in a Map, for building chains without a store. */
class MapState implements StateReader {
  readonly map: Map<string, Uint8Array>
  constructor (map = new Map<string, Uint8Array>()) { this.map = map }
  get (key: string): Promise<Uint8Array | undefined> { return Promise.resolve(this.map.get(key)) }
  apply (writes: readonly StateWrite[]): void {
    for (const w of writes) {
      if (w.value === undefined) this.map.delete(w.key)
      else this.map.set(w.key, w.value)
    }
  }
}

export interface TransferSpec {
  from: number
  to: number
  amount: bigint
  fee?: bigint
}

/** A small seeded generator (xorshift over BLAKE2b-seeded state) so generated chains are reproducible. */
class Random {
  private s: number
  constructor (seed: string) {
    const h = blake2b256(new TextEncoder().encode(seed))
    this.s = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0 || 1
  }
  int (n: number): number {
    let x = this.s
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    this.s = x
    return x % n
  }
}

/**
 * Builds blocks on a demo chain the way the baker does (the protocol's `makeBlock`), keeping the
 * state in memory. `fork()` copies the builder, to grow a competing branch.
 */
export class DemoChainBuilder {
  readonly setup: DemoSetup
  head: { hash: Uint8Array, header: BlockHeader }
  readonly blocks: BlockInput[] = []
  private readonly state: MapState
  private readonly random: Random

  constructor (setup: DemoSetup, from?: { head: DemoChainBuilder['head'], state: Map<string, Uint8Array>, seed: string }) {
    this.setup = setup
    if (from !== undefined) {
      this.head = from.head
      this.state = new MapState(new Map(from.state))
      this.random = new Random(from.seed)
    } else {
      const g = resolveGenesis(setup.genesis)
      const initial = setup.protocol.genesis()
      this.state = new MapState()
      this.state.apply(initial.writes)
      this.head = { hash: g.hash, header: genesisHeader(g, initial.context) }
      this.random = new Random(setup.name)
    }
  }

  /** A copy that continues from the same head and state (with its own transfer randomness). */
  fork (seed: string): DemoChainBuilder {
    return new DemoChainBuilder(this.setup, { head: this.head, state: this.state.map, seed })
  }

  balance (account: number | Uint8Array): Promise<bigint> {
    const pkh = typeof account === 'number' ? this.setup.accounts[account].publicKeyHash : account
    const raw = this.state.map.get(accountKey(pkh))
    return Promise.resolve(raw === undefined ? 0n : decodeAccount(raw).balance)
  }

  /** Signed transfers branched on the current head, with the right counters. */
  transfers (specs: readonly TransferSpec[]): Operation[] {
    const pending = new Map<number, bigint>()
    return specs.map(s => {
      const from = this.setup.accounts[s.from]
      const raw = this.state.map.get(accountKey(from.publicKeyHash))
      const base = raw === undefined ? 0n : decodeAccount(raw).counter
      const counter = base + (pending.get(s.from) ?? 0n) + 1n
      pending.set(s.from, counter - base)
      const data = signTransfer(this.head.hash, {
        publicKey: from.publicKey, destination: this.setup.accounts[s.to].publicKeyHash, amount: s.amount, fee: s.fee ?? 0n, counter
      }, from.secretKey)
      return { branch: this.head.hash, data }
    })
  }

  randomTransfers (n: number): TransferSpec[] {
    const k = this.setup.accounts.length
    return Array.from({ length: n }, () => ({ from: this.random.int(k), to: this.random.int(k), amount: BigInt(1 + this.random.int(1000)), fee: BigInt(this.random.int(3)) }))
  }

  /** Bakes the next block from `operations` (all must be valid) and moves the head to it. */
  async bake (operations: Operation[], timestamp = this.head.header.shell.timestamp + 1n): Promise<BlockInput> {
    const baked = await this.setup.protocol.makeBlock({
      predecessor: this.head.header,
      predecessorHash: this.head.hash,
      timestamp,
      candidates: operations,
      state: this.state,
      bakerKey: this.setup.baker.secretKey
    })
    if (baked.refused.length > 0) throw new Error(`generated transfer refused: ${baked.refused[0].error.message}`)
    const applied = await this.setup.protocol.applyBlock({ header: baked.header, operations: baked.operations, predecessor: this.head.header, state: this.state })
    this.state.apply(applied.writes)
    const block = { header: baked.header, operations: baked.operations }
    this.head = { hash: blockHash(baked.header), header: baked.header }
    this.blocks.push(block)
    return block
  }

  /** Bakes `count` blocks of `transfersPerBlock` random transfers each. */
  async grow (count: number, transfersPerBlock: number): Promise<BlockInput[]> {
    const out: BlockInput[] = []
    for (let i = 0; i < count; i++) out.push(await this.bake(this.transfers(this.randomTransfers(transfersPerBlock))))
    return out
  }

  stateSnapshot (): Map<string, string> {
    return new Map([...this.state.map].map(([k, v]) => [k, toHex(v)]))
  }
}
