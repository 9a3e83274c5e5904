import { availableParallelism } from 'node:os'
import { bytesEqual, toHex, Writer } from '../../encoding/index.ts'
import { blake2b256, b58Decode, b58Encode } from '../../crypto/index.ts'
import type { BlockHeader } from '../../wire/block-header.ts'
import { compareFitness } from '../../wire/fitness.ts'
import type { Operation } from '../../wire/operation.ts'
import { checkValidationPasses, levelFitness, newShellHeader, stateWritesDigest } from '../common.ts'
import { makeManifest, manifestHash } from '../manifest.ts'
import { InvalidBlockError, InvalidOperationError, VALID, invalid, type Verdict } from '../errors.ts'
import type { AppliedBlock, ApplyBlockInput, BakedBlock, GenesisState, MakeBlockInput, OperationVerdict, Protocol } from '../protocol.ts'
import { ScratchState, type StateWrite } from '../state.ts'
import { Ed25519VerifyPool } from '../ed25519-pool.ts'
import { encodeAccount, accountKey } from './account.ts'
import { applyTransfer, checkTransferStatically } from './apply.ts'
import {
  checkDemoBlockSignature, decodeDemoProtocolData, isBaker, signDemoBlock
} from './block.ts'
import { encodePublicKey, encodePublicKeyHash, publicKeyHash } from './keys.ts'
import { decodeTransfer, type Transfer } from './transfer.ts'
import { precheckDemoBlocks } from './precheck.ts'

export * from './keys.ts'
export { signTransfer, decodeTransfer, encodeTransfer, TRANSFER_BYTES, type Transfer } from './transfer.ts'
export { readAccount, accountKey, decodeAccount, type Account } from './account.ts'
export { DEMO_PROTOCOL_DATA_BYTES, DEMO_ACTIVATION_BYTES, decodeDemoProtocolData } from './block.ts'

/** Demo v2's rule: every transfer also pays this much to the baker (on top of its own fee). */
export const DEMO_V2_TRANSFER_CHARGE = 1000n
export const DEMO_VERSIONS = [1, 2] as const
export type DemoVersion = typeof DEMO_VERSIONS[number]

export interface BootstrapAccount {
  publicKeyHash: Uint8Array
  balance: bigint
}

export interface DemoProtocolConfig {
  /** The only key allowed to bake (Ed25519 public key). */
  bakerPublicKey: Uint8Array
  /** Initial balances. */
  bootstrapAccounts: BootstrapAccount[]
  /** Operation lists per block, 1..8 (default 1). */
  validationPasses?: number
  /** How many latest blocks an operation may branch on (default 120, as Octez). */
  maxOperationsTtl?: number
  /** Bound on the transfers of one block (default 1000). */
  maxOperationsPerBlock?: number
  /**
   * Worker threads verifying signatures of runs of blocks ahead of their application (default:
   * one per core but one, started on first use); 0 verifies everything in the calling thread.
   */
  verifyWorkers?: number
  /**
   * 1 (default) or 2. Demo v2 is demo with one different rule: every transfer also pays a fixed
   * `DEMO_V2_TRANSFER_CHARGE` to the baker. Same state layout, so v2 can follow v1 on one chain.
   */
  version?: DemoVersion
}

const MAX_SUPPLY = (1n << 63n) - 1n

/**
 * The demo protocol: Ed25519 accounts, signed transfers with counters (see `transfer.ts`), blocks
 * signed by one configured baker (see `block.ts`), fitness = level.
 *
 * Its protocol hash is the hash of its manifest (`manifest.ts`), whose source digest covers the
 * version and the parameters (baker key, bootstrap accounts, passes, TTL, block bound), so a store
 * created with one demo configuration refuses to open with another, and v1 and v2 differ.
 *
 * Activation: a block whose protocol data carries a protocol hash (`block.ts`) activates that
 * protocol for the blocks after it; `makeBlock` writes one when the shell asks (`activate`).
 */
export function createDemoProtocol (config: DemoProtocolConfig): Protocol {
  const passes = checkValidationPasses(config.validationPasses ?? 1, 'demo protocol')
  const ttl = config.maxOperationsTtl ?? 120
  const maxOps = config.maxOperationsPerBlock ?? 1000
  const bakerPublicKey = Uint8Array.from(config.bakerPublicKey)
  if (bakerPublicKey.length !== 32) throw new RangeError('demo protocol: the baker public key is 32 bytes')
  const bakerPkh = publicKeyHash(bakerPublicKey)
  let supply = 0n
  for (const a of config.bootstrapAccounts) {
    if (a.publicKeyHash.length !== 20) throw new RangeError('demo protocol: a bootstrap account is a 20-byte public key hash')
    if (a.balance < 0n) throw new RangeError('demo protocol: bootstrap balances are not negative')
    supply += a.balance
  }
  if (supply > MAX_SUPPLY) throw new RangeError('demo protocol: the total bootstrap balance must fit an int64')

  const version = config.version ?? 1
  if (!(DEMO_VERSIONS as readonly number[]).includes(version)) throw new RangeError(`demo protocol: version ${String(version)} is not one of ${DEMO_VERSIONS.join(', ')}`)
  const transferCharge = version === 2 ? DEMO_V2_TRANSFER_CHARGE : 0n
  const description = new Writer()
  description.string(`tzp2p demo protocol ${version}`).raw(bakerPublicKey).uint8(passes).int32(ttl).int32(maxOps)
  for (const a of config.bootstrapAccounts) description.raw(a.publicKeyHash).int64(a.balance)
  const manifest = makeManifest('demo', version, description.finish())
  const hash = manifestHash(manifest)

  // One core stays for the thread that applies blocks.
  const workers = config.verifyWorkers ?? availableParallelism() - 1
  const pool = workers > 0 ? new Ed25519VerifyPool(workers) : undefined
  const verifiedHeaders = new WeakSet<BlockHeader>()
  const verifiedOperations = new WeakSet<Operation>()
  /** Operation lists that passed `validateBlock`, with their decoded transfers, until `applyBlock` takes them. */
  const validatedTransfers = new WeakMap<Operation[][], Transfer[][]>()

  function genesis (): GenesisState {
    const byKey = new Map<string, Uint8Array>()
    for (const a of config.bootstrapAccounts) {
      const key = accountKey(a.publicKeyHash)
      if (byKey.has(key)) throw new RangeError(`demo protocol: bootstrap account ${encodePublicKeyHash(a.publicKeyHash)} listed twice`)
      byKey.set(key, encodeAccount({ balance: a.balance, counter: 0n }))
    }
    const writes: StateWrite[] = [...byKey.keys()].sort().map(key => ({ key, value: byKey.get(key) }))
    return { writes, context: blake2b256([new Uint8Array(32), stateWritesDigest(writes)]) }
  }

  function validateHeader (header: BlockHeader): Verdict<InvalidBlockError> {
    const shell = header.shell
    if (compareFitness(shell.fitness, levelFitness(shell.level)) !== 0) {
      return invalid(new InvalidBlockError('bad_fitness', `fitness is not the level ${shell.level}`))
    }
    if (shell.validationPass !== passes) {
      return invalid(new InvalidBlockError('bad_validation_passes', `${shell.validationPass} validation passes, expected ${passes}`))
    }
    const data = decodeDemoProtocolData(header.protocolData)
    if (data === undefined) {
      return invalid(new InvalidBlockError('malformed_protocol_data', `protocol data is ${header.protocolData.length} bytes, expected 96 or 128`))
    }
    if (!isBaker(data, bakerPublicKey)) {
      return invalid(new InvalidBlockError('bad_baker', `baked by ${encodePublicKey(data.bakerPublicKey)}, not the configured baker`))
    }
    if (!verifiedHeaders.has(header) && !checkDemoBlockSignature(shell, data)) {
      return invalid(new InvalidBlockError('bad_block_signature', 'the baker signature does not match the header'))
    }
    return VALID
  }

  async function validateOperation (op: Operation, state: ScratchState): Promise<OperationVerdict> {
    const checked = checkTransferStatically(op, passes)
    if (!checked.ok) return checked
    const error = await applyTransfer(checked.transfer, state, bakerPkh, transferCharge)
    return error === undefined ? { ok: true, pass: checked.pass } : { ok: false, error }
  }

  /**
   * What does not depend on the state: the bound on operations, and each transfer's encoding,
   * key, amounts, signature and validation pass. Throws `InvalidBlockError`.
   */
  function checkOperationsStatically (operations: Operation[][]): Transfer[][] {
    let count = 0
    for (const pass of operations) count += pass.length
    if (count > maxOps) throw new InvalidBlockError('refused', `${count} operations exceed the bound ${maxOps}`)
    return operations.map((pass, p) => pass.map((op, index) => {
      const c = checkTransferStatically(op, passes, verifiedOperations)
      if (!c.ok) throw InvalidBlockError.ofOperation({ pass: p, index, error: c.error })
      if (c.pass !== p) {
        throw InvalidBlockError.ofOperation({ pass: p, index, error: new InvalidOperationError('wrong_validation_pass', `belongs to validation pass ${c.pass}`) })
      }
      return c.transfer
    }))
  }

  /**
   * The state-independent checks (the header's, signature included, ran before): a block that
   * passes is advertised before `applyBlock` checks balances, counters and the context hash.
   * Only the configured baker can sign a block that gets this far.
   */
  async function validateBlock (input: ApplyBlockInput): Promise<void> {
    const transfers = await Promise.resolve(input.operations).then(checkOperationsStatically)
    // Checked once: `applyBlock` gets the very same lists next and does not check them again.
    validatedTransfers.set(input.operations, transfers)
  }

  async function applyBlock (input: ApplyBlockInput): Promise<AppliedBlock> {
    const { header, operations, predecessor } = input
    // Signatures first: they do not depend on the state, and an invalid one is the cheapest refusal.
    const checked = validatedTransfers.get(operations) ?? checkOperationsStatically(operations)
    validatedTransfers.delete(operations)
    const scratch = new ScratchState(input.state)
    for (let p = 0; p < checked.length; p++) {
      for (let index = 0; index < checked[p].length; index++) {
        const error = await applyTransfer(checked[p][index], scratch, bakerPkh, transferCharge)
        if (error !== undefined) throw InvalidBlockError.ofOperation({ pass: p, index, error })
      }
    }
    const writes = scratch.writes()
    const context = blake2b256([predecessor.shell.context, stateWritesDigest(writes)])
    if (!bytesEqual(context, header.shell.context)) {
      throw new InvalidBlockError('bad_context', 'the context hash does not match the state the block produces')
    }
    const activation = decodeDemoProtocolData(header.protocolData)?.activation
    return activation === undefined ? { writes } : { writes, nextProtocol: b58Encode('protocolHash', activation) }
  }

  async function makeBlock (input: MakeBlockInput): Promise<BakedBlock> {
    const { predecessor, bakerKey } = input
    if (bakerKey === undefined || bakerKey.length !== 64 || !bytesEqual(bakerKey.subarray(32), bakerPublicKey)) {
      throw new RangeError('demo protocol: baking needs the configured baker\'s 64-byte secret key')
    }
    // Sort candidates into their passes (keeping mempool order), then apply in block order:
    // a transfer that depended on one in a later pass is left for the next block.
    const refused: BakedBlock['refused'] = []
    const byPass: Array<Array<{ op: Operation, t: Transfer }>> = Array.from({ length: passes }, () => [])
    for (const op of input.candidates) {
      const c = checkTransferStatically(op, passes)
      if (!c.ok) refused.push({ operation: op, error: c.error })
      else byPass[c.pass].push({ op, t: c.transfer })
    }
    const scratch = new ScratchState(input.state)
    const operations: Operation[][] = byPass.map(() => [])
    let count = 0
    for (let p = 0; p < passes; p++) {
      for (const { op, t } of byPass[p]) {
        if (count >= maxOps) break
        const error = await applyTransfer(t, scratch, bakerPkh, transferCharge)
        if (error !== undefined) refused.push({ operation: op, error })
        else { operations[p].push(op); count++ }
      }
    }
    const activation = input.activate === undefined ? undefined : b58Decode('protocolHash', input.activate)
    const shell = newShellHeader(input, { operations, context: blake2b256([predecessor.shell.context, stateWritesDigest(scratch.writes())]) })
    return { header: { shell, protocolData: signDemoBlock(shell, bakerPublicKey, bakerKey, activation) }, operations, refused }
  }

  function describeOperation (op: Operation): Record<string, unknown> {
    try {
      const t = decodeTransfer(op.data)
      return {
        kind: 'transfer',
        source: encodePublicKeyHash(t.source),
        public_key: encodePublicKey(t.publicKey),
        destination: encodePublicKeyHash(t.destination),
        amount: t.amount.toString(),
        fee: t.fee.toString(),
        counter: t.counter.toString(),
        signature: b58Encode('ed25519Signature', t.signature)
      }
    } catch (e) {
      return { kind: 'malformed', error: (e as Error).message, data: toHex(op.data) }
    }
  }

  function describeProtocolData (header: BlockHeader): Record<string, unknown> {
    const data = decodeDemoProtocolData(header.protocolData)
    if (data === undefined) return { malformed: toHex(header.protocolData) }
    return {
      baker: encodePublicKey(data.bakerPublicKey),
      signature: b58Encode('ed25519Signature', data.signature),
      ...(data.activation === undefined ? {} : { next_protocol: b58Encode('protocolHash', data.activation) })
    }
  }

  return {
    name: version === 1 ? 'demo' : `demo-v${version}`,
    hash,
    manifest,
    validationPasses: passes,
    maxOperationsTtl: ttl,
    genesis,
    fitness: (level: number) => levelFitness(level),
    validateHeader,
    validateOperation,
    validateBlock,
    applyBlock,
    makeBlock,
    precheckBlocks: async blocks => {
      if (pool !== undefined) await precheckDemoBlocks(pool, blocks, verifiedHeaders, verifiedOperations)
    },
    close: async () => { await pool?.close() },
    describeOperation,
    describeProtocolData
  }
}
