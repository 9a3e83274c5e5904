import { blake2b } from '../../crypto/index.ts'
import { bytesEqual } from '../../encoding/index.ts'
import type { InvalidOperationError } from '../errors.ts'
import type { ScratchState } from '../state.ts'
import { publicKeyHash } from '../demo/keys.ts'
import type { Operation } from '../../wire/operation.ts'
import { refuse, signedBy, type OperationContext } from './context.ts'
import type { ContractId, ManagerContents } from './encoding.ts'
import {
  credit, delegateOf, implicit, isDelegate, managerKey, readContract, registerDelegate, setDelegate, writeContract, writeManagerKey
} from './store.ts'

/**
 * Manager operations (validation pass 3): reveal, transaction, delegation, origination, with
 * Tezos's rules (`apply.ml` of protocols 005–011): the source is an implicit account that exists;
 * every operation but a reveal needs the source's key revealed first and is signed by it; the
 * counter is the account's previous one + 1; the fee (≥ 0) goes to the block's baker. Checks come
 * before any write, so a refused operation leaves the state untouched.
 */

/** Tezos `Contract_repr.originated_contract`: BLAKE2b-160 of the origination's operation hash ‖ its index (int32; always 0 here, one contents per operation). */
export function originatedAddress (operationHash: Uint8Array, index = 0): Uint8Array {
  const i = new Uint8Array(4)
  new DataView(i.buffer).setInt32(0, index)
  return blake2b([operationHash, i], 20)
}

export async function applyManager (
  c: ManagerContents, op: Operation, opHash: Uint8Array, state: ScratchState, ctx: OperationContext
): Promise<InvalidOperationError | undefined> {
  for (const [what, v] of [['fee', c.fee], ['gas_limit', c.gasLimit], ['storage_limit', c.storageLimit]] as const) {
    if (v < 0n) return refuse('invalid_amount', `${what} must not be negative, got ${v}`)
  }
  const source = implicit(c.source)
  const account = await readContract(state, source)
  if (account === undefined) return refuse('unknown_account', 'the source account does not exist')
  let key = await managerKey(state, c.source)
  if (c.kind === 'reveal') {
    if (key !== undefined) return refuse('already_revealed', 'the source already revealed its public key')
    if (!bytesEqual(publicKeyHash(c.publicKey), c.source)) return refuse('bad_public_key', 'the revealed public key does not hash to the source')
    key = c.publicKey
  } else if (key === undefined) {
    return refuse('unrevealed_key', `a ${c.kind} needs the source's public key revealed first (a reveal operation)`)
  }
  if (!signedBy(ctx, op, false, key)) return refuse('bad_signature', 'the signature does not match the source key')
  if (c.counter <= account.counter) return refuse('counter_in_the_past', `counter ${c.counter} already used (account counter ${account.counter})`)
  if (c.counter > account.counter + 1n) return refuse('counter_in_the_future', `counter ${c.counter} skips ahead (expected ${account.counter + 1n})`)

  let spent = c.fee
  let effect: (() => Promise<void>) | undefined
  switch (c.kind) {
    case 'reveal':
      effect = () => { writeManagerKey(state, c.source, c.publicKey); return Promise.resolve() }
      break
    case 'transaction': {
      if (c.amount <= 0n) return refuse('invalid_amount', `amount must be positive, got ${c.amount}`)
      if (c.destination.kind === 'originated' && await readContract(state, c.destination) === undefined) {
        return refuse('unknown_contract', 'the destination KT1 contract was never originated')
      }
      spent += c.amount
      const destination: ContractId = c.destination
      effect = async () => { await credit(state, destination, c.amount) }
      break
    }
    case 'delegation': {
      const registered = await isDelegate(state, c.source)
      const self = c.delegate !== undefined && bytesEqual(c.delegate, c.source)
      if (registered && !self) return refuse('delegate_unchangeable', 'a registered delegate stays its own delegate')
      if (c.delegate !== undefined && !self && !await isDelegate(state, c.delegate)) {
        return refuse('not_a_delegate', 'the new delegate is not registered (an account registers by delegating to itself)')
      }
      const delegate = c.delegate
      effect = async () => {
        if (self) await registerDelegate(state, c.source)
        await setDelegate(state, source, delegate)
      }
      break
    }
    case 'origination': {
      if (c.balance < 0n) return refuse('invalid_amount', `balance must not be negative, got ${c.balance}`)
      if (c.delegate !== undefined && !await isDelegate(state, c.delegate)) return refuse('not_a_delegate', 'the new contract\'s delegate is not registered')
      spent += c.balance
      const contract: ContractId = { kind: 'originated', hash: originatedAddress(opHash) }
      if (await readContract(state, contract) !== undefined) return refuse('refused', 'the originated address already exists')
      const delegate = c.delegate
      effect = async () => {
        writeContract(state, contract, { balance: 0n, counter: 0n })
        if (delegate !== undefined) await setDelegate(state, contract, delegate)
        await credit(state, contract, c.balance)
      }
      break
    }
  }
  if (spent > account.balance) return refuse('balance_too_low', `spends ${spent} with a balance of ${account.balance}`)
  await credit(state, source, -spent)
  const after = await readContract(state, source)
  if (after !== undefined) writeContract(state, source, { balance: after.balance, counter: c.counter })
  if (ctx.baker !== undefined && c.fee > 0n) await credit(state, implicit(ctx.baker), c.fee)
  await effect()
  return undefined
}

/** The delegate of a contract (for RPC views and tests). */
export { delegateOf }
