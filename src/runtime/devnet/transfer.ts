import { b58Decode } from '../../crypto/index.ts'
import { encode, toHex } from '../../encoding/index.ts'
import { devnetAccountKeypairs, DEVNET_ACCOUNT_COUNT } from '../../config/presets.ts'
import { encodePublicKeyHash, signTransfer } from '../../protocol/demo/index.ts'
import { operationCodec } from '../../wire/operation.ts'

/**
 * Transfers between the devnet's well-known accounts (their keys derive from public names: for
 * devnets only), through a node's RPC: read the source's counter and the pending operations, sign
 * the next transfer on the head, inject it, and optionally wait until a block includes it.
 */
export class DevnetTransferError extends Error {
  override readonly name = 'DevnetTransferError'
}

export interface TransferRequest {
  /** RPC URL of the node to inject through. */
  rpc: string
  from: number
  to: number
  amount: bigint
  fee?: bigint
}

export interface InjectedTransfer {
  hash: string
  source: string
  destination: string
  counter: bigint
}

export async function rpcJson (url: string, init?: RequestInit): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  } catch (e) {
    throw new DevnetTransferError(`${url}: ${(e as Error).message} (is the devnet up?)`)
  }
  const body: unknown = await response.json().catch(() => undefined)
  if (!response.ok) {
    const error = (body as { error?: string } | undefined)?.error ?? `HTTP ${response.status}`
    throw new DevnetTransferError(`${new URL(url).pathname}: ${error}`)
  }
  return body
}

export function devnetAccountAddress (index: number): string {
  return encodePublicKeyHash(devnetAccountKeypairs()[index].publicKeyHash)
}

function checkIndex (what: string, i: number): void {
  if (!(Number.isInteger(i) && i >= 0 && i < DEVNET_ACCOUNT_COUNT)) {
    throw new DevnetTransferError(`${what} must be an account index from 0 to ${DEVNET_ACCOUNT_COUNT - 1}, got ${i}`)
  }
}

export async function injectDevnetTransfer (request: TransferRequest): Promise<InjectedTransfer> {
  checkIndex('--from', request.from)
  checkIndex('--to', request.to)
  if (request.amount <= 0n) throw new DevnetTransferError('--amount must be positive')
  const accounts = devnetAccountKeypairs()
  const from = accounts[request.from]
  const source = encodePublicKeyHash(from.publicKeyHash)
  const destination = encodePublicKeyHash(accounts[request.to].publicKeyHash)
  const base = request.rpc
  const stored = BigInt(await rpcJson(`${base}/chains/main/blocks/head/context/contracts/${source}/counter`) as string)
  // Transfers of this account still pending come before this one.
  const pending = await rpcJson(`${base}/chains/main/mempool/pending_operations`) as { validated: Array<{ contents: { source?: string, counter?: string } }> }
  const pendingCounters = pending.validated.filter(o => o.contents.source === source).map(o => BigInt(o.contents.counter ?? '0'))
  const counter = [stored, ...pendingCounters].reduce((a, b) => a > b ? a : b) + 1n
  const branch = b58Decode('blockHash', await rpcJson(`${base}/chains/main/blocks/head/hash`) as string)
  const data = signTransfer(branch, {
    publicKey: from.publicKey, destination: accounts[request.to].publicKeyHash, amount: request.amount, fee: request.fee ?? 0n, counter
  }, from.secretKey)
  const hex = toHex(encode(operationCodec, { branch, data }))
  const hash = await rpcJson(`${base}/injection/operation`, { method: 'POST', body: JSON.stringify(hex), headers: { 'content-type': 'application/json' } }) as string
  return { hash, source, destination, counter }
}

/** Waits until the node's chain includes the operation; resolves to the block. */
export async function waitForInclusion (rpc: string, operationHash: string, fromLevel: number, deadlineMs = 60_000): Promise<{ level: number, hash: string }> {
  const deadline = Date.now() + deadlineMs
  let next = fromLevel
  for (;;) {
    const head = await rpcJson(`${rpc}/chains/main/blocks/head/header`) as { level: number }
    for (; next <= head.level; next++) {
      const hashes = await rpcJson(`${rpc}/chains/main/blocks/${next}/operation_hashes`) as string[][]
      if (hashes.flat().includes(operationHash)) return { level: next, hash: await rpcJson(`${rpc}/chains/main/blocks/${next}/hash`) as string }
    }
    if (Date.now() > deadline) throw new DevnetTransferError(`${operationHash} is in no block after ${deadlineMs / 1000} s (is a node baking?)`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

export async function headLevel (rpc: string): Promise<number> {
  return (await rpcJson(`${rpc}/chains/main/blocks/head/header`) as { level: number }).level
}

export interface AccountRow {
  index: number
  address: string
  balance: string
  counter: string
}

export async function devnetAccounts (rpc: string): Promise<AccountRow[]> {
  return await Promise.all(devnetAccountKeypairs().map(async (_, index) => {
    const address = devnetAccountAddress(index)
    const a = await rpcJson(`${rpc}/chains/main/blocks/head/context/contracts/${address}`) as { balance: string, counter: string }
    return { index, address, ...a }
  }))
}
