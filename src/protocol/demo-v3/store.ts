import { bytesEqual, DecodeError, toHex } from '../../encoding/index.ts'
import type { ScratchState, StateReader } from '../state.ts'
import { accountKey, decodeAccount, encodeAccount, type Account } from '../demo/account.ts'
import type { ContractId } from './encoding.ts'

/**
 * Demo v3's state, in the flat key/value store of `src/protocol/state.ts`. Implicit accounts keep
 * demo v1's record (`acct:<hex pkh>` → balance i64 ‖ counter i64), so v3 can follow v1 or v2 on one
 * chain; everything v3 adds lives under `kt1:` and `v3:` keys (protocols/sync.md, Appendix A.2).
 */

const KEY = {
  originated: (hash: Uint8Array) => `kt1:${toHex(hash)}`,
  managerKey: (pkh: Uint8Array) => `v3:pk:${toHex(pkh)}`,
  delegateOf: (c: ContractId) => `v3:dlg:${contractKeyPart(c)}`,
  delegates: 'v3:delegates',
  stake: (pkh: Uint8Array) => `v3:stake:${toHex(pkh)}`,
  frozen: (cycle: number, pkh: Uint8Array) => `v3:frz:${cycle}:${toHex(pkh)}`,
  nonce: (level: number) => `v3:nonce:${level}`,
  cycle: (cycle: number) => `v3:cycle:${cycle}`,
  blinded: (blinded: Uint8Array) => `v3:blinded:${toHex(blinded)}`,
  denounced: (what: 'baking' | 'endorsement', level: number, pkh: Uint8Array) => `v3:denounced:${what}:${level}:${toHex(pkh)}`,
  head: 'v3:head'
}
export { KEY as V3_KEYS }

function contractKeyPart (c: ContractId): string {
  return c.kind === 'implicit' ? `tz1:${toHex(c.pkh)}` : `kt1:${toHex(c.hash)}`
}

export function implicit (pkh: Uint8Array): ContractId {
  return { kind: 'implicit', pkh }
}

function int64 (v: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigInt64(0, v)
  return out
}

function readInt64 (b: Uint8Array, at = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(at)
}

export async function readContract (state: StateReader, c: ContractId): Promise<Account | undefined> {
  const raw = await state.get(c.kind === 'implicit' ? accountKey(c.pkh) : KEY.originated(c.hash))
  return raw === undefined ? undefined : decodeAccount(raw)
}

export function writeContract (state: ScratchState, c: ContractId, a: Account): void {
  state.set(c.kind === 'implicit' ? accountKey(c.pkh) : KEY.originated(c.hash), encodeAccount(a))
}

export async function delegateOf (state: StateReader, c: ContractId): Promise<Uint8Array | undefined> {
  return await state.get(KEY.delegateOf(c))
}

export async function stakeOf (state: StateReader, delegate: Uint8Array): Promise<bigint> {
  const raw = await state.get(KEY.stake(delegate))
  return raw === undefined ? 0n : readInt64(raw)
}

async function addStake (state: ScratchState, delegate: Uint8Array, delta: bigint): Promise<void> {
  if (delta === 0n) return
  state.set(KEY.stake(delegate), int64(await stakeOf(state, delegate) + delta))
}

/**
 * Adds `delta` (possibly negative) to a contract's balance, creating the account if needed, and
 * moves the delegated stake with it (Tezos's staking balance, `Delegate_storage`): the one place a
 * balance changes, so stake never drifts from the balances it sums.
 */
export async function credit (state: ScratchState, c: ContractId, delta: bigint): Promise<void> {
  const a = await readContract(state, c) ?? { balance: 0n, counter: 0n }
  writeContract(state, c, { balance: a.balance + delta, counter: a.counter })
  const d = await delegateOf(state, c)
  if (d !== undefined) await addStake(state, d, delta)
}

/** Sets (or removes) a contract's delegate, moving its balance from the old delegate's stake to the new one's. */
export async function setDelegate (state: ScratchState, c: ContractId, delegate: Uint8Array | undefined): Promise<void> {
  const balance = (await readContract(state, c))?.balance ?? 0n
  const old = await delegateOf(state, c)
  if (old !== undefined) await addStake(state, old, -balance)
  state.set(KEY.delegateOf(c), delegate === undefined ? undefined : Uint8Array.from(delegate))
  if (delegate !== undefined) await addStake(state, delegate, balance)
}

export async function managerKey (state: StateReader, pkh: Uint8Array): Promise<Uint8Array | undefined> {
  return await state.get(KEY.managerKey(pkh))
}

export function writeManagerKey (state: ScratchState, pkh: Uint8Array, publicKey: Uint8Array): void {
  state.set(KEY.managerKey(pkh), Uint8Array.from(publicKey))
}

/** Registered delegates, in public key hash order. */
export async function delegates (state: StateReader): Promise<Uint8Array[]> {
  const raw = await state.get(KEY.delegates)
  if (raw === undefined) return []
  const out: Uint8Array[] = []
  for (let i = 0; i + 20 <= raw.length; i += 20) out.push(raw.slice(i, i + 20))
  return out
}

export async function isDelegate (state: StateReader, pkh: Uint8Array): Promise<boolean> {
  return (await delegates(state)).some(d => bytesEqual(d, pkh))
}

export async function registerDelegate (state: ScratchState, pkh: Uint8Array): Promise<void> {
  const list = await delegates(state)
  if (list.some(d => bytesEqual(d, pkh))) return
  list.push(pkh)
  list.sort((a, b) => Buffer.compare(a, b))
  const out = new Uint8Array(list.length * 20)
  list.forEach((d, i) => { out.set(d, i * 20) })
  state.set(KEY.delegates, out)
}

export async function frozenDeposit (state: StateReader, cycle: number, pkh: Uint8Array): Promise<bigint> {
  const raw = await state.get(KEY.frozen(cycle, pkh))
  return raw === undefined ? 0n : readInt64(raw)
}

export function writeFrozenDeposit (state: ScratchState, cycle: number, pkh: Uint8Array, amount: bigint): void {
  state.set(KEY.frozen(cycle, pkh), amount === 0n ? undefined : int64(amount))
}

/** A seed nonce commitment: who committed, to what, the reward held until the revelation, and the nonce once revealed. */
export interface NonceRecord {
  baker: Uint8Array
  hash: Uint8Array
  pendingReward: bigint
  nonce?: Uint8Array
}

export async function readNonce (state: StateReader, level: number): Promise<NonceRecord | undefined> {
  const raw = await state.get(KEY.nonce(level))
  if (raw === undefined) return undefined
  if (raw.length !== 60 && raw.length !== 92) throw new DecodeError('demo_v3.nonce', 0, `a nonce record is 60 or 92 bytes, got ${raw.length}`)
  return {
    baker: raw.slice(0, 20),
    hash: raw.slice(20, 52),
    pendingReward: readInt64(raw, 52),
    ...(raw.length === 92 ? { nonce: raw.slice(60) } : {})
  }
}

export function writeNonce (state: ScratchState, level: number, n: NonceRecord | undefined): void {
  if (n === undefined) { state.set(KEY.nonce(level), undefined); return }
  const out = new Uint8Array(n.nonce === undefined ? 60 : 92)
  out.set(n.baker, 0)
  out.set(n.hash, 20)
  out.set(int64(n.pendingReward), 52)
  if (n.nonce !== undefined) out.set(n.nonce, 60)
  state.set(KEY.nonce(level), out)
}

/** A cycle's frozen draw data: its seed, and each delegate's stake as the cycle began. */
export interface CycleData {
  seed: Uint8Array
  stakes: Array<{ delegate: Uint8Array, stake: bigint }>
}

export async function readCycle (state: StateReader, cycle: number): Promise<CycleData | undefined> {
  const raw = await state.get(KEY.cycle(cycle))
  if (raw === undefined) return undefined
  if (raw.length < 32 || (raw.length - 32) % 28 !== 0) throw new DecodeError('demo_v3.cycle', 0, `malformed cycle record of ${raw.length} bytes`)
  const stakes: CycleData['stakes'] = []
  for (let at = 32; at < raw.length; at += 28) stakes.push({ delegate: raw.slice(at, at + 20), stake: readInt64(raw, at + 20) })
  return { seed: raw.slice(0, 32), stakes }
}

export function writeCycle (state: ScratchState, cycle: number, c: CycleData): void {
  const out = new Uint8Array(32 + 28 * c.stakes.length)
  out.set(c.seed)
  c.stakes.forEach((s, i) => { out.set(s.delegate, 32 + 28 * i); out.set(int64(s.stake), 52 + 28 * i) })
  state.set(KEY.cycle(cycle), out)
}

export async function blindedBalance (state: StateReader, blinded: Uint8Array): Promise<bigint | undefined> {
  const raw = await state.get(KEY.blinded(blinded))
  return raw === undefined ? undefined : readInt64(raw)
}

export function writeBlinded (state: ScratchState, blinded: Uint8Array, balance: bigint | undefined): void {
  state.set(KEY.blinded(blinded), balance === undefined ? undefined : int64(balance))
}

/** What a denunciation did: the deposit taken from the offender, and the reward paid to the baker that included the evidence. */
export interface Denouncement {
  taken: bigint
  reward: bigint
  /** The baker of the block carrying the evidence (the reporter); absent when none was known. */
  reporter?: Uint8Array
}

export async function isDenounced (state: StateReader, what: 'baking' | 'endorsement', level: number, pkh: Uint8Array): Promise<boolean> {
  return await state.get(KEY.denounced(what, level, pkh)) !== undefined
}

export async function readDenouncement (state: StateReader, what: 'baking' | 'endorsement', level: number, pkh: Uint8Array): Promise<Denouncement | undefined> {
  const raw = await state.get(KEY.denounced(what, level, pkh))
  if (raw === undefined) return undefined
  if (raw.length !== 16 && raw.length !== 36) throw new DecodeError('demo_v3.denouncement', 0, `a denouncement record is 16 or 36 bytes, got ${raw.length}`)
  return { taken: readInt64(raw, 0), reward: readInt64(raw, 8), ...(raw.length === 36 ? { reporter: raw.slice(16, 36) } : {}) }
}

/** Records a denunciation: taken i64 ‖ reward i64 [‖ reporter pkh] (it also refuses a second evidence of the offence). */
export function markDenounced (state: ScratchState, what: 'baking' | 'endorsement', level: number, pkh: Uint8Array, d: Denouncement): void {
  const out = new Uint8Array(d.reporter === undefined ? 16 : 36)
  out.set(int64(d.taken), 0)
  out.set(int64(d.reward), 8)
  if (d.reporter !== undefined) out.set(d.reporter, 16)
  state.set(KEY.denounced(what, level, pkh), out)
}

/** The level of the last demo v3 block applied (the mempool checks endorsements against it). */
export async function headLevel (state: StateReader): Promise<number | undefined> {
  const raw = await state.get(KEY.head)
  return raw === undefined ? undefined : new DataView(raw.buffer, raw.byteOffset, 4).getInt32(0)
}

export function writeHeadLevel (state: ScratchState, level: number): void {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setInt32(0, level)
  state.set(KEY.head, out)
}
