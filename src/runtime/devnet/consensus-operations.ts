import { b58Decode, b58Encode, blake2b256 } from '../../crypto/index.ts'
import { bytesEqual, encode, fromHex, toHex } from '../../encoding/index.ts'
import { devnetAccountKeypairs, DEVNET_ACCOUNT_COUNT } from '../../config/presets.ts'
import { anonymousOperation, decodeBlockData, decodeOperationData, seedNonceFor, signOperation, type Contents } from '../../protocol/demo-v3/index.ts'
import type { InlinedEndorsement } from '../../protocol/demo-v3/encoding.ts'
import type { BlockHeader } from '../../wire/block-header.ts'
import { blockHeaderJson } from '../../wire/json.ts'
import { operationCodec } from '../../wire/operation.ts'
import { DevnetTransferError, rpcJson } from './transfer.ts'

/**
 * The consensus and anonymous operations of a demo v3 devnet a user injects by hand
 * (`tzp2p devnet operation endorsement|seed-nonce-revelation|double-baking-evidence|double-endorsement-evidence`),
 * built from what the nodes' RPC serves and the devnet's well-known delegate keys, and checked by
 * the protocol like the nodes' own (protocols/sync.md, Appendix A.2). The delegates' nodes inject
 * the same kinds themselves (src/chain/delegate-baker.ts and the evidence watcher): a hand-made
 * one of a slot, nonce or offence already taken is refused with the node's reason.
 */

export interface ConsensusOperationRequest {
  /** RPC of the node to inject through (and to read from first). */
  rpc: string
  /** The other devnet nodes' RPCs: where a block or operation not on `rpc` may be found. */
  others?: readonly string[]
}

export interface InjectedConsensusOperation {
  hash: string
  /** What it carries, in words (printed after the hash). */
  summary: string
}

const MAX_LEVEL = 0x7fffffff
/** How far back a double endorsement evidence's endorsements are looked for in blocks (3 cycles of the devnet's 16 levels). */
const ENDORSEMENT_SEARCH_LEVELS = 48

const pkhText = (pkh: Uint8Array): string => b58Encode('ed25519PublicKeyHash', pkh)

async function inject (rpc: string, branch: Uint8Array, data: Uint8Array): Promise<string> {
  const hex = toHex(encode(operationCodec, { branch, data }))
  return await rpcJson(`${rpc}/injection/operation`, { method: 'POST', body: JSON.stringify(hex), headers: { 'content-type': 'application/json' } }) as string
}

async function blockHashAt (rpc: string, block: string): Promise<Uint8Array> {
  return b58Decode('blockHash', await rpcJson(`${rpc}/chains/main/blocks/${block}/hash`) as string)
}

function delegateKey (i: number): ReturnType<typeof devnetAccountKeypairs>[number] {
  if (!(Number.isInteger(i) && i >= 0 && i < DEVNET_ACCOUNT_COUNT)) {
    throw new DevnetTransferError(`--from must be a delegate's account index from 0 to ${DEVNET_ACCOUNT_COUNT - 1}, got ${i}`)
  }
  return devnetAccountKeypairs()[i]
}

/**
 * An endorsement by delegate `from` of the block at `level` (default: the head), at `slot`
 * (default: the delegate's first slot there, from the endorsing rights RPC). The mempool admits
 * endorsements of the head's level only (protocols/sync.md A.2). `block` (a block id: hash,
 * level, `head~n`) names the branch instead, the level staying `level` or the head's: a delegate's
 * second endorsement of one level on another branch is what a double endorsement is made of.
 */
export async function injectEndorsement (request: ConsensusOperationRequest & { from: number, level?: number, slot?: number, block?: string }): Promise<InjectedConsensusOperation> {
  const key = delegateKey(request.from)
  const delegate = pkhText(key.publicKeyHash)
  const at = await rpcJson(`${request.rpc}/chains/main/blocks/${request.block ?? request.level ?? 'head'}/header`) as { level: number, hash: string }
  const level = request.level ?? (request.block === undefined ? at.level : await headLevelOf(request.rpc))
  if (!(Number.isInteger(level) && level >= 1 && level <= MAX_LEVEL)) throw new DevnetTransferError(`--level must be a block level ≥ 1, got ${level}`)
  const branch = b58Decode('blockHash', at.hash)
  let slot = request.slot
  if (slot === undefined) {
    const rights = await rpcJson(`${request.rpc}/chains/main/blocks/head/helpers/endorsing_rights?level=${level}`) as Array<{ delegate: string, slots: number[] }>
    slot = rights.find(r => r.delegate === delegate)?.slots[0]
    if (slot === undefined) throw new DevnetTransferError(`delegate ${request.from} (${delegate}) holds no endorsement slot at level ${level}: give --slot to endorse anyway`)
  }
  const hash = await inject(request.rpc, branch, signOperation(branch, { kind: 'endorsement', level, slot }, key.secretKey))
  return { hash, summary: `delegate ${request.from} (${delegate}) endorses level ${level} on ${at.hash} at slot ${slot}` }
}

async function headLevelOf (rpc: string): Promise<number> {
  return (await rpcJson(`${rpc}/chains/main/blocks/head/header`) as { level: number }).level
}

/**
 * A revelation of the seed nonce committed in the block at `level`. Without `nonce`, it is the
 * committing baker's: a devnet baker's nonces derive from its key (`seedNonceFor`), so the
 * well-known delegate key whose nonce hashes to the block's `seed_nonce_hash` gives it.
 */
export async function injectSeedNonceRevelation (request: ConsensusOperationRequest & { level: number, nonce?: Uint8Array }): Promise<InjectedConsensusOperation> {
  const { level } = request
  if (!(Number.isInteger(level) && level >= 1 && level <= MAX_LEVEL)) throw new DevnetTransferError(`--level must be a block level ≥ 1, got ${level}`)
  let nonce = request.nonce
  let whose = 'given'
  if (nonce === undefined) {
    const header = await fetchHeader([request.rpc], String(level))
    const committed = decodeBlockData(header.protocolData).seedNonceHash
    if (committed === undefined) throw new DevnetTransferError(`the block at level ${level} commits no seed nonce (one block in every blocks_per_commitment does)`)
    const keys = devnetAccountKeypairs()
    const baker = keys.findIndex(k => bytesEqual(blake2b256(seedNonceFor(k.secretKey, level)), committed))
    if (baker < 0) throw new DevnetTransferError(`the seed nonce committed at level ${level} is none of the devnet delegates' (give it with --nonce)`)
    nonce = seedNonceFor(keys[baker].secretKey, level)
    whose = `delegate ${baker}'s`
  }
  if (nonce.length !== 32) throw new DevnetTransferError(`--nonce must be 32 bytes (64 hex digits), got ${nonce.length} bytes`)
  const hash = await inject(request.rpc, await blockHashAt(request.rpc, 'head'), anonymousOperation({ kind: 'seed_nonce_revelation', level, nonce }))
  return { hash, summary: `reveals the ${whose} nonce ${toHex(nonce)} of level ${level}` }
}

/** A block header as the RPC serves it, from the first of `rpcs` that holds the block. */
async function fetchHeader (rpcs: readonly string[], block: string): Promise<BlockHeader> {
  let last: Error | undefined
  for (const rpc of rpcs) {
    let json: Record<string, unknown>
    try {
      json = await rpcJson(`${rpc}/chains/main/blocks/${block}/header`) as Record<string, unknown>
    } catch (e) {
      last = e as Error
      continue
    }
    // The header's own fields: the RPC adds the block's protocol and chain id beside them.
    const header = Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'protocol' && k !== 'chain_id'))
    return blockHeaderJson.fromJson(header)
  }
  throw new DevnetTransferError(`block ${block}: no devnet node serves it (${last?.message ?? 'no node'})`)
}

/** Double baking evidence of two blocks (by hash), their headers fetched from the nodes' RPC. */
export async function injectDoubleBakingEvidence (request: ConsensusOperationRequest & { blocks: readonly string[] }): Promise<InjectedConsensusOperation> {
  if (request.blocks.length !== 2) throw new DevnetTransferError(`double baking evidence needs --block twice (two block hashes), got ${request.blocks.length}`)
  const rpcs = [request.rpc, ...request.others ?? []]
  const [bh1, bh2] = await Promise.all(request.blocks.map(async b => {
    if (!/^B[1-9A-HJ-NP-Za-km-z]{50}$/.test(b)) throw new DevnetTransferError(`--block ${b}: not a block hash (B…, 51 characters)`)
    return await fetchHeader(rpcs, b)
  }))
  const hash = await inject(request.rpc, await blockHashAt(request.rpc, 'head'), anonymousOperation({ kind: 'double_baking_evidence', bh1, bh2 }))
  return { hash, summary: `denounces blocks ${request.blocks[0]} and ${request.blocks[1]} at levels ${bh1.shell.level} and ${bh2.shell.level}` }
}

interface OperationJson { hash: string, branch: string, data: string }

/** An endorsement (by operation hash) from a node's mempool or its chain's last blocks, inlined as evidence carries it. */
async function findEndorsement (rpcs: readonly string[], opHash: string): Promise<InlinedEndorsement> {
  for (const rpc of rpcs) {
    let found: OperationJson | undefined
    try {
      const pending = await rpcJson(`${rpc}/chains/main/mempool/pending_operations`) as { validated?: OperationJson[] }
      found = pending.validated?.find(o => o.hash === opHash)
      const head = (await rpcJson(`${rpc}/chains/main/blocks/head/header`) as { level: number }).level
      for (let level = head; found === undefined && level >= 1 && level > head - ENDORSEMENT_SEARCH_LEVELS; level--) {
        found = (await rpcJson(`${rpc}/chains/main/blocks/${level}/operations/0`) as OperationJson[]).find(o => o.hash === opHash)
      }
    } catch {
      continue
    }
    if (found === undefined) continue
    const data = decodeOperationData(fromHex(found.data))
    if (data.contents.kind !== 'endorsement' || data.signature === undefined) throw new DevnetTransferError(`operation ${opHash} is a ${data.contents.kind}, not an endorsement`)
    return { branch: b58Decode('blockHash', found.branch), endorsement: data.contents, signature: data.signature }
  }
  throw new DevnetTransferError(`operation ${opHash}: no devnet node holds it in its mempool or in its last ${ENDORSEMENT_SEARCH_LEVELS} blocks`)
}

/** Double endorsement evidence of two endorsements (by operation hash), fetched from the nodes' mempools or blocks. */
export async function injectDoubleEndorsementEvidence (request: ConsensusOperationRequest & { operations: readonly string[] }): Promise<InjectedConsensusOperation> {
  if (request.operations.length !== 2) throw new DevnetTransferError(`double endorsement evidence needs --operation twice (two operation hashes), got ${request.operations.length}`)
  const rpcs = [request.rpc, ...request.others ?? []]
  const [op1, op2] = await Promise.all(request.operations.map(async o => await findEndorsement(rpcs, o)))
  const contents: Contents = { kind: 'double_endorsement_evidence', op1, op2 }
  const hash = await inject(request.rpc, await blockHashAt(request.rpc, 'head'), anonymousOperation(contents))
  return { hash, summary: `denounces endorsements ${request.operations[0]} and ${request.operations[1]} of level ${op1.endorsement.level}` }
}
