import { blake2b256 } from '../../../src/crypto/index.ts'
import { toHex } from '../../../src/encoding/index.ts'
import { blockHash, type BlockHeader } from '../../../src/wire/block-header.ts'
import type { Operation } from '../../../src/wire/operation.ts'
import { ed25519FromName, type Ed25519Keypair } from '../../../src/protocol/demo/keys.ts'
import { decodeAccount, accountKey } from '../../../src/protocol/demo/account.ts'
import { blindedPublicKeyHash, createDemoV3Protocol, type DemoV3Parameters } from '../../../src/protocol/demo-v3/index.ts'
import { bakingSlot, TooEarlyForPriorityError } from '../../../src/protocol/demo-v3/block.ts'
import { cycleOf, resolveParameters } from '../../../src/protocol/demo-v3/parameters.ts'
import { endorsementSlots, ensureCycle } from '../../../src/protocol/demo-v3/rights.ts'
import { signOperation } from '../../../src/protocol/demo-v3/sign.ts'
import { publicKeyHash } from '../../../src/protocol/demo/keys.ts'
import type { Protocol } from '../../../src/protocol/protocol.ts'
import { ScratchState, type StateReader, type StateWrite } from '../../../src/protocol/state.ts'
import { frozenDeposit, stakeOf } from '../../../src/protocol/demo-v3/store.ts'

/** Small cycles and slots so a test crosses cycles in a few dozen blocks. */
export const TEST_PARAMETERS: Partial<DemoV3Parameters> = {
  blocksPerCycle: 8,
  blocksPerCommitment: 4,
  endorsersPerBlock: 8,
  initialEndorsers: 4,
  minimalBlockDelay: 1,
  timeBetweenBlocks: [2, 2],
  delayPerMissingEndorsement: 1,
  preservedCycles: 1
}

export const ACTIVATION_SECRET = new Uint8Array(20).fill(0x5e)
export const BALANCE = 1_000_000_000_000n
export const FUNDRAISER_BALANCE = 7_000_000n

/** State in a Map: the chain's store stands in here as the protocol sees it (a reader plus committed writes). */
export class MapState implements StateReader {
  readonly map = new Map<string, Uint8Array>()
  get (key: string): Promise<Uint8Array | undefined> { return Promise.resolve(this.map.get(key)) }
  apply (writes: readonly StateWrite[]): void {
    for (const w of writes) {
      if (w.value === undefined) this.map.delete(w.key)
      else this.map.set(w.key, w.value)
    }
  }
}

export interface V3Net {
  protocol: Protocol
  params: DemoV3Parameters
  authority: Ed25519Keypair
  /** Bootstrap delegates (revealed, self-delegated), with stakes 1×, 2×, 3× BALANCE. */
  delegates: Ed25519Keypair[]
  /** Bootstrap accounts without a revealed key. */
  users: Ed25519Keypair[]
  /** The key whose account a genesis commitment funds (activated with ACTIVATION_SECRET). */
  fundraiser: Ed25519Keypair
  state: MapState
  head: BlockHeader
  headHash: Uint8Array
  /** Every header applied, by level (for evidence). */
  headers: BlockHeader[]
}

export function v3Net (name: string, options: { delegates?: number, parameters?: Partial<DemoV3Parameters> } = {}): V3Net {
  const authority = ed25519FromName(`${name}/authority`)
  const delegates = Array.from({ length: options.delegates ?? 3 }, (_, i) => ed25519FromName(`${name}/delegate/${i}`))
  const users = Array.from({ length: 2 }, (_, i) => ed25519FromName(`${name}/user/${i}`))
  const fundraiser = ed25519FromName(`${name}/fundraiser`)
  const parameters = { ...TEST_PARAMETERS, ...options.parameters }
  const protocol = createDemoV3Protocol({
    bakerPublicKey: authority.publicKey,
    bootstrapAccounts: [
      ...delegates.map((d, i) => ({ publicKeyHash: d.publicKeyHash, balance: BALANCE * BigInt(i + 1), publicKey: d.publicKey })),
      ...users.map(u => ({ publicKeyHash: u.publicKeyHash, balance: BALANCE }))
    ],
    commitments: [{ blindedPublicKeyHash: blindedPublicKeyHash(fundraiser.publicKeyHash, ACTIVATION_SECRET), balance: FUNDRAISER_BALANCE }],
    parameters
  })
  const state = new MapState()
  const g = protocol.genesis()
  state.apply(g.writes)
  const head: BlockHeader = {
    shell: {
      level: 0, proto: 0, predecessor: new Uint8Array(32), timestamp: 1_700_000_000n, validationPass: 0,
      operationsHash: new Uint8Array(32), fitness: [], context: g.context
    },
    protocolData: new Uint8Array(0)
  }
  return { protocol, params: resolveParameters(parameters), authority, delegates, users, fundraiser, state, head, headHash: blockHash(head), headers: [head] }
}

/** The key among the net's delegates (and the authority) with the best priority at the next level. */
export async function bestBaker (net: V3Net): Promise<{ key: Ed25519Keypair, priority: number }> {
  let best: { key: Ed25519Keypair, priority: number } | undefined
  const rules = { params: net.params, authorityKey: net.authority.publicKey, authority: net.authority.publicKeyHash }
  for (const key of [...net.delegates, net.authority]) {
    const slot = await bakingSlot(rules, new ScratchState(net.state), net.head.shell.level + 1, key.secretKey)
    if (slot !== undefined && (best === undefined || slot.priority < best.priority)) best = { key, priority: slot.priority }
  }
  if (best === undefined) throw new Error('nobody can bake')
  return best
}

export interface Baked { header: BlockHeader, operations: Operation[][], refused: Array<{ operation: Operation, error: Error }> }

/**
 * Bakes a block with `candidates` on the head (by the best baker unless `key` is given), checks it
 * with `applyBlock` on the same state as a receiving node would, and makes it the head.
 */
export async function bake (net: V3Net, candidates: Operation[] = [], key?: Ed25519Keypair): Promise<Baked> {
  const baker = key ?? (await bestBaker(net)).key
  const make = async (timestamp: bigint): Promise<Awaited<ReturnType<Protocol['makeBlock']>>> => await net.protocol.makeBlock({
    predecessor: net.head, predecessorHash: net.headHash, timestamp, candidates, state: net.state, bakerKey: baker.secretKey
  })
  // As a baker does: try the next second, and if the priority's delay has not passed, bake at the earliest time it gives.
  const baked = await make(net.head.shell.timestamp + 1n).catch(async (e: unknown) => {
    if (e instanceof TooEarlyForPriorityError) return await make(e.earliest)
    throw e
  })
  const applied = await net.protocol.applyBlock({ header: baked.header, operations: baked.operations, predecessor: net.head, state: net.state })
  net.state.apply(applied.writes)
  net.head = baked.header
  net.headHash = blockHash(baked.header)
  net.headers.push(baked.header)
  return baked
}

export async function balance (net: V3Net, pkh: Uint8Array): Promise<bigint> {
  const raw = await net.state.get(accountKey(pkh))
  return raw === undefined ? 0n : decodeAccount(raw).balance
}

export async function stake (net: V3Net, pkh: Uint8Array): Promise<bigint> {
  return await stakeOf(net.state, pkh)
}

export async function frozen (net: V3Net, cycle: number, pkh: Uint8Array): Promise<bigint> {
  return await frozenDeposit(net.state, cycle, pkh)
}

export function keyOf (net: V3Net, pkh: Uint8Array): Ed25519Keypair {
  const k = [...net.delegates, net.authority, ...net.users, net.fundraiser].find(x => toHex(x.publicKeyHash) === toHex(pkh))
  if (k === undefined) throw new Error(`no key for ${toHex(pkh)}`)
  return k
}

export function hashOf (s: string): Uint8Array {
  return blake2b256(new TextEncoder().encode(s))
}

export { publicKeyHash }

/** The endorsement slots of `level` as the protocol draws them on the net's state. */
export async function slotsAt (net: V3Net, level: number): Promise<Uint8Array[]> {
  const ctx = { params: net.params, authority: net.authority.publicKeyHash }
  const cycle = await ensureCycle(new ScratchState(net.state), ctx, cycleOf(net.params, level))
  return endorsementSlots(cycle, level, net.params.endorsersPerBlock)
}

/** An endorsement of the head by `key` at its first slot (undefined if it has none). */
export async function endorsement (net: V3Net, key: Ed25519Keypair, overrides: { level?: number, slot?: number, branch?: Uint8Array } = {}): Promise<Operation | undefined> {
  const slots = await slotsAt(net, net.head.shell.level)
  const first = slots.findIndex(d => toHex(d) === toHex(key.publicKeyHash))
  if (first < 0 && overrides.slot === undefined) return undefined
  const branch = overrides.branch ?? net.headHash
  return { branch, data: signOperation(branch, { kind: 'endorsement', level: overrides.level ?? net.head.shell.level, slot: overrides.slot ?? first }, key.secretKey) }
}
