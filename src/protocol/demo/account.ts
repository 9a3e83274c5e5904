import { DecodeError, toHex } from '../../encoding/index.ts'
import type { StateReader, ScratchState } from '../state.ts'

/**
 * Demo accounts in the protocol state: key `acct:<hex public key hash>`, value 16 bytes =
 * balance (int64 BE) ‖ counter (int64 BE, the last counter used; 0 for a fresh account).
 * An account exists once it holds or held a balance (bootstrap accounts, or a transfer's
 * destination); it is never deleted.
 */

export interface Account {
  balance: bigint
  counter: bigint
}

export const ACCOUNT_KEY_PREFIX = 'acct:'
const ACCOUNT_BYTES = 16

export function accountKey (publicKeyHash: Uint8Array): string {
  return ACCOUNT_KEY_PREFIX + toHex(publicKeyHash)
}

// Accounts are encoded and decoded through one scratch buffer: a 16-byte Uint8Array lives on
// V8's heap until its `.buffer` is asked for, which moves it to a separately allocated backing
// store; three accounts are written per transfer, so that cost showed in block application.
const scratch = new Uint8Array(ACCOUNT_BYTES)
const scratchView = new DataView(scratch.buffer)

export function encodeAccount (a: Account): Uint8Array {
  scratchView.setBigInt64(0, a.balance)
  scratchView.setBigInt64(8, a.counter)
  const out = new Uint8Array(ACCOUNT_BYTES)
  out.set(scratch)
  return out
}

export function decodeAccount (b: Uint8Array): Account {
  if (b.length !== ACCOUNT_BYTES) throw new DecodeError('demo.account', 0, `an account record is ${ACCOUNT_BYTES} bytes, got ${b.length}`)
  scratch.set(b)
  return { balance: scratchView.getBigInt64(0), counter: scratchView.getBigInt64(8) }
}

export async function readAccount (state: StateReader, publicKeyHash: Uint8Array): Promise<Account | undefined> {
  const raw = await state.get(accountKey(publicKeyHash))
  return raw === undefined ? undefined : decodeAccount(raw)
}

export function writeAccount (state: ScratchState, publicKeyHash: Uint8Array, a: Account): void {
  state.set(accountKey(publicKeyHash), encodeAccount(a))
}
