import { b58Decode, b58Encode } from '../../crypto/index.ts'
import { encode, toHex } from '../../encoding/index.ts'
import { devnetAccountKeypairs, DEVNET_ACCOUNT_COUNT } from '../../config/presets.ts'
import { anonymousOperation, originatedAddress, signOperation, type Contents } from '../../protocol/demo-v3/index.ts'
import { operationCodec, operationHash } from '../../wire/operation.ts'
import { DevnetTransferError, rpcJson } from './transfer.ts'
import { devnetFundraiser, DEVNET_FUNDRAISER_COUNT } from './fundraisers.ts'

/**
 * The operations of a demo v3 devnet a user injects (`tzp2p devnet operation <kind>`): manager
 * operations signed with the devnet's well-known account keys, and activations of its fundraiser
 * commitments (`fundraisers.ts`), injected through a node's RPC (protocols/sync.md, Appendix A.2).
 * Endorsements, seed nonce revelations and evidence, which the nodes also inject themselves, are
 * `consensus-operations.ts`'s.
 */

export const DEVNET_OPERATION_KINDS = ['reveal', 'transaction', 'delegation', 'origination', 'activation'] as const
export type DevnetOperationKind = typeof DEVNET_OPERATION_KINDS[number]

export interface DevnetOperationRequest {
  rpc: string
  kind: DevnetOperationKind
  /** Source account index; activation: the fundraiser's index. */
  from: number
  /** transaction: destination account index, or a `KT1…` address. */
  to?: number | string
  /** transaction: amount; origination: the new contract's balance. */
  amount?: bigint
  /** delegation / origination: the delegate's account index; delegation without one withdraws. */
  delegate?: number
  fee?: bigint
}

export interface InjectedOperation {
  hash: string
  source: string
  counter: bigint
  /** origination: the new contract's address. */
  originated?: string
  /** activation: the secret it carried (hex). */
  secret?: string
}

function account (what: string, i: number): ReturnType<typeof devnetAccountKeypairs>[number] {
  if (!(Number.isInteger(i) && i >= 0 && i < DEVNET_ACCOUNT_COUNT)) {
    throw new DevnetTransferError(`${what} must be an account index from 0 to ${DEVNET_ACCOUNT_COUNT - 1}, got ${i}`)
  }
  return devnetAccountKeypairs()[i]
}

/** The source's next counter: the stored one, or past its operations still in the mempool. */
async function nextCounter (rpc: string, source: string): Promise<bigint> {
  const stored = BigInt(await rpcJson(`${rpc}/chains/main/blocks/head/context/contracts/${source}/counter`) as string)
  const pending = await rpcJson(`${rpc}/chains/main/mempool/pending_operations`) as { validated: Array<{ contents: { contents?: { source?: string, counter?: string } } }> }
  const counters = pending.validated.map(o => o.contents.contents).filter(c => c?.source === source).map(c => BigInt(c?.counter ?? '0'))
  return [stored, ...counters].reduce((a, b) => a > b ? a : b) + 1n
}

export async function injectDevnetOperation (request: DevnetOperationRequest): Promise<InjectedOperation> {
  if (request.kind === 'activation') return await injectActivation(request.rpc, request.from)
  const from = account('--from', request.from)
  const source = b58Encode('ed25519PublicKeyHash', from.publicKeyHash)
  const counter = await nextCounter(request.rpc, source)
  const manager = { source: from.publicKeyHash, fee: request.fee ?? 0n, counter, gasLimit: 10_000n, storageLimit: 0n }
  let contents: Contents
  switch (request.kind) {
    case 'reveal':
      contents = { kind: 'reveal', ...manager, publicKey: from.publicKey }
      break
    case 'transaction': {
      if (request.amount === undefined || request.amount <= 0n) throw new DevnetTransferError('a transaction needs a positive --amount')
      const to = request.to ?? 1
      const destination = typeof to === 'string'
        ? { kind: 'originated' as const, hash: decodeKt1(to) }
        : { kind: 'implicit' as const, pkh: account('--to', to).publicKeyHash }
      contents = { kind: 'transaction', ...manager, amount: request.amount, destination }
      break
    }
    case 'delegation':
      contents = { kind: 'delegation', ...manager, ...(request.delegate === undefined ? {} : { delegate: account('--delegate', request.delegate).publicKeyHash }) }
      break
    default: // origination (an activation returned above)
      contents = {
        kind: 'origination',
        ...manager,
        balance: request.amount ?? 0n,
        ...(request.delegate === undefined ? {} : { delegate: account('--delegate', request.delegate).publicKeyHash })
      }
      break
  }
  const branch = b58Decode('blockHash', await rpcJson(`${request.rpc}/chains/main/blocks/head/hash`) as string)
  const op = { branch, data: signOperation(branch, contents, from.secretKey) }
  const hex = toHex(encode(operationCodec, op))
  const hash = await rpcJson(`${request.rpc}/injection/operation`, { method: 'POST', body: JSON.stringify(hex), headers: { 'content-type': 'application/json' } }) as string
  return {
    hash,
    source,
    counter,
    ...(request.kind === 'origination' ? { originated: b58Encode('contractHash', originatedAddress(operationHash(op))) } : {})
  }
}

/** Claims fundraiser `i`'s commitment for its key hash with the secret: an anonymous operation, unsigned. */
async function injectActivation (rpc: string, i: number): Promise<InjectedOperation> {
  if (!(Number.isInteger(i) && i >= 0 && i < DEVNET_FUNDRAISER_COUNT)) {
    throw new DevnetTransferError(`--from must be a fundraiser index from 0 to ${DEVNET_FUNDRAISER_COUNT - 1} for an activation, got ${i}`)
  }
  const { keypair, secret } = devnetFundraiser(i)
  const branch = b58Decode('blockHash', await rpcJson(`${rpc}/chains/main/blocks/head/hash`) as string)
  const op = { branch, data: anonymousOperation({ kind: 'activate_account', pkh: keypair.publicKeyHash, secret }) }
  const hash = await rpcJson(`${rpc}/injection/operation`, { method: 'POST', body: JSON.stringify(toHex(encode(operationCodec, op))), headers: { 'content-type': 'application/json' } }) as string
  return { hash, source: b58Encode('ed25519PublicKeyHash', keypair.publicKeyHash), counter: 0n, secret: toHex(secret) }
}

function decodeKt1 (address: string): Uint8Array {
  try {
    return b58Decode('contractHash', address)
  } catch (e) {
    throw new DevnetTransferError(`--to ${address}: neither an account index nor a KT1 address (${(e as Error).message})`)
  }
}
