import { bytesEqual, DecodeError } from '../../encoding/index.ts'
import type { Operation } from '../../wire/operation.ts'
import { InvalidOperationError } from '../errors.ts'
import type { ScratchState } from '../state.ts'
import { accountKey, decodeAccount, encodeAccount, type Account } from './account.ts'
import { publicKeyHash } from './keys.ts'
import { checkTransferSignature, decodeTransfer, type Transfer } from './transfer.ts'

/**
 * The transfer rules, shared by mempool admission, block application and baking so the three can
 * never disagree. Checks come first; state is written only once every check has passed, so a
 * refused transfer leaves the scratch state untouched.
 */

/** The validation pass a transfer belongs to: its source's first byte modulo the pass count.
 *  All transfers of one account share a pass, so their counters stay in order inside a block. */
export function transferPass (source: Uint8Array, validationPasses: number): number {
  return source[0] % validationPasses
}

export type TransferOutcome =
  | { ok: true, pass: number, transfer: Transfer }
  | { ok: false, error: InvalidOperationError }

/**
 * Decodes and checks everything that does not depend on the state (shape, key, signature).
 * `verified` holds operation objects whose signature was already checked (see `precheck.ts`).
 */
export function checkTransferStatically (op: Operation, validationPasses: number, verified?: WeakSet<Operation>): TransferOutcome {
  let t: Transfer
  try {
    t = decodeTransfer(op.data)
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: new InvalidOperationError('malformed', e.message) }
    throw e
  }
  if (!bytesEqual(publicKeyHash(t.publicKey), t.source)) {
    return { ok: false, error: new InvalidOperationError('bad_public_key', 'the public key does not hash to the source') }
  }
  if (t.amount <= 0n) return { ok: false, error: new InvalidOperationError('invalid_amount', `amount must be positive, got ${t.amount}`) }
  if (t.fee < 0n) return { ok: false, error: new InvalidOperationError('invalid_amount', `fee must not be negative, got ${t.fee}`) }
  if (verified?.has(op) !== true && !checkTransferSignature(op.branch, op.data, t)) {
    return { ok: false, error: new InvalidOperationError('bad_signature', 'the signature does not match the source key') }
  }
  return { ok: true, pass: transferPass(t.source, validationPasses), transfer: t }
}

/**
 * Applies a statically checked transfer to `state`: counter, balance, then the writes (source
 * debited by amount + fee + `protocolFee`, destination credited, both fees credited to
 * `feeRecipient`). Balances cannot overflow: the genesis caps the total supply below 2^63.
 * `protocolFee` is demo v2's rule (a fixed charge per transfer paid to the baker); v1 charges none.
 */
export async function applyTransfer (t: Transfer, state: ScratchState, feeRecipient: Uint8Array, protocolFee = 0n): Promise<InvalidOperationError | undefined> {
  // Each account's key is built once (reads and writes of one account share it).
  const sourceKey = accountKey(t.source)
  const source = await readAccountAt(state, sourceKey)
  if (source === undefined) return new InvalidOperationError('unknown_account', 'the source account does not exist')
  if (t.counter <= source.counter) {
    return new InvalidOperationError('counter_in_the_past', `counter ${t.counter} already used (account counter ${source.counter})`)
  }
  if (t.counter > source.counter + 1n) {
    return new InvalidOperationError('counter_in_the_future', `counter ${t.counter} skips ahead (expected ${source.counter + 1n})`)
  }
  const toBaker = t.fee + protocolFee
  const spent = t.amount + toBaker
  if (spent > source.balance) {
    return new InvalidOperationError('balance_too_low', `spends ${spent} with a balance of ${source.balance}`)
  }
  state.set(sourceKey, encodeAccount({ balance: source.balance - spent, counter: t.counter }))
  const destinationKey = accountKey(t.destination)
  const destination = await readAccountAt(state, destinationKey) ?? { balance: 0n, counter: 0n }
  state.set(destinationKey, encodeAccount({ balance: destination.balance + t.amount, counter: destination.counter }))
  if (toBaker > 0n) {
    const bakerKey = accountKey(feeRecipient)
    const baker = await readAccountAt(state, bakerKey) ?? { balance: 0n, counter: 0n }
    state.set(bakerKey, encodeAccount({ balance: baker.balance + toBaker, counter: baker.counter }))
  }
  return undefined
}

async function readAccountAt (state: ScratchState, key: string): Promise<Account | undefined> {
  const raw = await state.get(key)
  return raw === undefined ? undefined : decodeAccount(raw)
}
