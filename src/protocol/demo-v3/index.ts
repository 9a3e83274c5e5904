import { blake2b256, b58Decode, b58Encode } from '../../crypto/index.ts'
import { bytesEqual, toHex, Writer } from '../../encoding/index.ts'
import type { BlockHeader } from '../../wire/block-header.ts'
import type { Operation } from '../../wire/operation.ts'
import { newShellHeader, stateWritesDigest } from '../common.ts'
import { InvalidBlockError, type Verdict } from '../errors.ts'
import { makeManifest, manifestHash } from '../manifest.ts'
import type { AppliedBlock, ApplyBlockInput, BakedBlock, GenesisState, MakeBlockInput, OperationVerdict, Protocol } from '../protocol.ts'
import { ScratchState, type StateReader, type StateWrite } from '../state.ts'
import { accountKey, encodeAccount } from '../demo/account.ts'
import { publicKeyHash } from '../demo/keys.ts'
import { beginBlock, checkBaker, checkV3Header, finishBlock, NoBakingRightError, seedNonceFor, TooEarlyForPriorityError, type BlockRules } from './block.ts'
import { decodeBlockData, signBlockData, v3Fitness } from './block-data.ts'
import { newContext, type OperationContext } from './context.ts'
import { VALIDATION_PASSES } from './encoding.ts'
import { blockDataToJson, operationDataToJson } from './json.ts'
import { applyOperation, decodeOperation } from './operations.ts'
import { expectsCommitment, resolveParameters, writeParameters, type DemoV3Parameters } from './parameters.ts'
import { bakerAt, endorsementSlots, firstPriorityOf, ensureCycle, minimalTimestamp } from './rights.ts'
import { cycleOf } from './parameters.ts'
import { headLevel, V3_KEYS } from './store.ts'
import { SignatureCache } from './precheck.ts'
import { Ed25519VerifyPool } from '../ed25519-pool.ts'

export { DEFAULT_V3_PARAMETERS, type DemoV3Parameters } from './parameters.ts'
export { seedNonceFor, bakingSlot, NoBakingRightError, TooEarlyForPriorityError } from './block.ts'
export { signOperation, anonymousOperation, inlineEndorsement } from './sign.ts'
export { blindedPublicKeyHash } from './consensus.ts'
export { endorsementOf, revelationsDue } from './duties.ts'
export { originatedAddress } from './manager.ts'
export { v3Fitness, decodeV3Fitness, decodeBlockData } from './block-data.ts'
export { decodeOperationData, encodeOperationData, passOf, type Contents, type OperationData } from './encoding.ts'

export interface DemoV3BootstrapAccount {
  publicKeyHash: Uint8Array
  balance: bigint
  /** With a public key, the account starts revealed and registered as its own delegate (as Tezos bootstrap accounts with keys). */
  publicKey?: Uint8Array
}

export interface DemoV3Config {
  /** The authority (demo v1/v2's baker key): holds every right while no delegate has stake. */
  bakerPublicKey: Uint8Array
  bootstrapAccounts: DemoV3BootstrapAccount[]
  /** Genesis commitments: balances claimable by an activation (Tezos's fundraiser accounts). */
  commitments?: Array<{ blindedPublicKeyHash: Uint8Array, balance: bigint }>
  parameters?: Partial<DemoV3Parameters>
  /** How many latest blocks an operation may branch on (default 120, as Octez). */
  maxOperationsTtl?: number
  /** Bound on the operations of one block (default 1000). */
  maxOperationsPerBlock?: number
  /**
   * Worker threads verifying the signatures of runs of blocks ahead of their application
   * (`precheck.ts`; default 0: everything is verified inline, as when v3 follows v1/v2 whose pool
   * serves the bootstrap).
   */
  verifyWorkers?: number
}

const MAX_SUPPLY = (1n << 63n) - 1n

/** Who may bake and endorse at a level: for bakers and endorsers, the RPC and the status page. */
export interface LevelRights {
  level: number
  cycle: number
  /** The delegate of each priority, from 0. */
  bakers: Uint8Array[]
  /** The delegate of each endorsement slot. */
  slots: Uint8Array[]
}

/** Demo v3 with what a baker, an endorser or a view needs besides the `Protocol` interface. */
export interface DemoV3Protocol extends Protocol {
  readonly parameters: Readonly<DemoV3Parameters>
  /** The rights at `level` on the state of the block below it (the first `priorities` priorities). */
  rightsAt: (state: StateReader, level: number, priorities?: number) => Promise<LevelRights>
  /** Emmy*'s earliest timestamp for a block at `priority` carrying `endorsingPower` slots (`rights.ts`). */
  earliestTimestamp: (predecessorTimestamp: bigint, priority: number, endorsingPower: number) => bigint
}

function int64 (v: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigInt64(0, v)
  return out
}

/**
 * Demo v3: the Emmy*-era Tezos operations in four validation passes, delegates with stake-weighted
 * rights, fitness counting endorsements, deposits, rewards, seed nonces and evidence
 * (protocols/sync.md, Appendix A.2). Installed like demo v2: it runs from genesis, or from the block
 * after one that activates it, reading demo v1/v2's accounts as they are.
 */
export function createDemoV3Protocol (config: DemoV3Config): DemoV3Protocol {
  const params = resolveParameters(config.parameters)
  const ttl = config.maxOperationsTtl ?? 120
  const maxOps = config.maxOperationsPerBlock ?? 1000
  const authorityKey = Uint8Array.from(config.bakerPublicKey)
  if (authorityKey.length !== 32) throw new RangeError('demo v3: the baker (authority) public key is 32 bytes')
  const rules: BlockRules = { params, authorityKey, authority: publicKeyHash(authorityKey) }
  const workers = config.verifyWorkers ?? 0
  const pool = workers > 0 ? new Ed25519VerifyPool(workers) : undefined
  if (pool !== undefined) {
    rules.signatures = new SignatureCache(params, [
      { pkh: rules.authority, publicKey: authorityKey },
      ...config.bootstrapAccounts.flatMap(a => a.publicKey === undefined ? [] : [{ pkh: a.publicKeyHash, publicKey: a.publicKey }])
    ])
  }
  let supply = 0n
  for (const a of config.bootstrapAccounts) {
    if (a.publicKeyHash.length !== 20) throw new RangeError('demo v3: a bootstrap account is a 20-byte public key hash')
    if (a.publicKey !== undefined && !bytesEqual(publicKeyHash(a.publicKey), a.publicKeyHash)) throw new RangeError('demo v3: a bootstrap public key does not hash to its account')
    if (a.balance < 0n) throw new RangeError('demo v3: bootstrap balances are not negative')
    supply += a.balance
  }
  for (const c of config.commitments ?? []) {
    if (c.blindedPublicKeyHash.length !== 20 || c.balance < 0n) throw new RangeError('demo v3: a commitment is a 20-byte blinded key hash and a balance ≥ 0')
    supply += c.balance
  }
  if (supply > MAX_SUPPLY) throw new RangeError('demo v3: the total bootstrap balance must fit an int64')

  const description = new Writer()
  description.string('tzp2p demo protocol 3').raw(authorityKey).int32(ttl).int32(maxOps)
  writeParameters(description, params)
  for (const a of config.bootstrapAccounts) description.raw(a.publicKeyHash).int64(a.balance).optional(a.publicKey, (w, k) => { w.raw(k) })
  for (const c of config.commitments ?? []) description.raw(c.blindedPublicKeyHash).int64(c.balance)
  const manifest = makeManifest('demo', 3, description.finish())
  const hash = manifestHash(manifest)

  function genesis (): GenesisState {
    const byKey = new Map<string, Uint8Array>()
    const put = (key: string, value: Uint8Array): void => {
      if (byKey.has(key)) throw new RangeError(`demo v3: genesis key ${key} written twice (an account listed twice?)`)
      byKey.set(key, value)
    }
    const delegates: Uint8Array[] = []
    for (const a of config.bootstrapAccounts) {
      put(accountKey(a.publicKeyHash), encodeAccount({ balance: a.balance, counter: 0n }))
      if (a.publicKey === undefined) continue
      put(V3_KEYS.managerKey(a.publicKeyHash), Uint8Array.from(a.publicKey))
      put(V3_KEYS.delegateOf({ kind: 'implicit', pkh: a.publicKeyHash }), Uint8Array.from(a.publicKeyHash))
      put(V3_KEYS.stake(a.publicKeyHash), int64(a.balance))
      delegates.push(a.publicKeyHash)
    }
    if (delegates.length > 0) {
      delegates.sort((x, y) => Buffer.compare(x, y))
      const list = new Uint8Array(20 * delegates.length)
      delegates.forEach((d, i) => { list.set(d, 20 * i) })
      put(V3_KEYS.delegates, list)
    }
    for (const c of config.commitments ?? []) put(V3_KEYS.blinded(c.blindedPublicKeyHash), int64(c.balance))
    const writes: StateWrite[] = [...byKey.keys()].sort().map(key => ({ key, value: byKey.get(key) }))
    return { writes, context: blake2b256([new Uint8Array(32), stateWritesDigest(writes)]) }
  }

  // The mempool checks a round of operations on one scratch state: its context (endorsements seen,
  // level) lives as long as that state.
  const mempoolContexts = new WeakMap<ScratchState, OperationContext>()

  async function validateOperation (op: Operation, state: ScratchState): Promise<OperationVerdict> {
    const decoded = decodeOperation(op)
    if (!decoded.ok) return decoded
    let ctx = mempoolContexts.get(state)
    if (ctx === undefined) {
      ctx = newContext(rules, { level: (await headLevel(state) ?? 0) + 1 })
      mempoolContexts.set(state, ctx)
    }
    const error = await applyOperation(op, decoded, state, ctx)
    return error === undefined ? { ok: true, pass: decoded.pass } : { ok: false, error }
  }

  async function applyBlock (input: ApplyBlockInput): Promise<AppliedBlock> {
    const { header, operations, predecessor } = input
    const verdict = checkV3Header(rules, header, predecessor)
    if (!verdict.ok) throw verdict.error
    let count = 0
    for (const pass of operations) count += pass.length
    if (count > maxOps) throw new InvalidBlockError('refused', `${count} operations exceed the bound ${maxOps}`)
    const data = decodeBlockData(header.protocolData)
    const scratch = new ScratchState(input.state)
    const { ctx } = await beginBlock(rules, scratch, header.shell.level, data.priority, header.shell.predecessor)
    await checkBaker(rules, scratch, ctx, header)
    for (let p = 0; p < operations.length; p++) {
      for (let index = 0; index < operations[p].length; index++) {
        const op = operations[p][index]
        const decoded = decodeOperation(op)
        const error = decoded.ok ? await applyOperation(op, decoded, scratch, ctx, p) : decoded.error
        if (error !== undefined) throw InvalidBlockError.ofOperation({ pass: p, index, error })
      }
    }
    const claimed = header.shell.fitness
    const actual = v3Fitness(header.shell.level, ctx.endorsingPower)
    if (!bytesEqual(claimed[1], actual[1])) {
      throw new InvalidBlockError('bad_fitness', `the fitness claims endorsing power ${new DataView(claimed[1].buffer, claimed[1].byteOffset, 4).getUint32(0)}, the block carries ${ctx.endorsingPower}`)
    }
    await finishBlock(rules, scratch, ctx, data.seedNonceHash)
    const writes = scratch.writes()
    const context = blake2b256([predecessor.shell.context, stateWritesDigest(writes)])
    if (!bytesEqual(context, header.shell.context)) {
      throw new InvalidBlockError('bad_context', 'the context hash does not match the state the block produces')
    }
    return data.nextProtocol === undefined ? { writes } : { writes, nextProtocol: b58Encode('protocolHash', data.nextProtocol) }
  }

  /**
   * Bakes at the key's first priority at the level (`NoBakingRightError` without one), at the given
   * timestamp if that priority and the endorsements included allow it (Emmy*), else
   * `TooEarlyForPriorityError` saying from when.
   */
  async function makeBlock (input: MakeBlockInput): Promise<BakedBlock> {
    const { predecessor, bakerKey } = input
    if (bakerKey === undefined || bakerKey.length !== 64) throw new RangeError('demo v3: baking needs a delegate\'s 64-byte secret key')
    const level = predecessor.shell.level + 1
    const scratch = new ScratchState(input.state)
    const delegate = publicKeyHash(bakerKey.subarray(32))
    const cycle = await ensureCycle(scratch, rules, cycleOf(params, level))
    const priority = firstPriorityOf(cycle, level, delegate, params.maxPriority)
    if (priority === undefined) throw new NoBakingRightError(level, delegate, params.maxPriority)
    const { ctx } = await beginBlock(rules, scratch, level, priority, input.predecessorHash)
    const refused: BakedBlock['refused'] = []
    const byPass: Array<Array<{ op: Operation, decoded: Extract<ReturnType<typeof decodeOperation>, { ok: true }> }>> = Array.from({ length: VALIDATION_PASSES }, () => [])
    for (const op of input.candidates) {
      const d = decodeOperation(op)
      if (!d.ok) refused.push({ operation: op, error: d.error })
      else byPass[d.pass].push({ op, decoded: d })
    }
    const operations: Operation[][] = byPass.map(() => [])
    let count = 0
    for (let p = 0; p < VALIDATION_PASSES; p++) {
      for (const { op, decoded } of byPass[p]) {
        if (count >= maxOps) break
        const error = await applyOperation(op, decoded, scratch, ctx, p)
        if (error !== undefined) refused.push({ operation: op, error })
        else { operations[p].push(op); count++ }
      }
    }
    const seedNonceHash = expectsCommitment(params, level) ? blake2b256(seedNonceFor(bakerKey, level)) : undefined
    await finishBlock(rules, scratch, ctx, seedNonceHash)
    const earliest = minimalTimestamp(params, predecessor.shell.timestamp, priority, ctx.endorsingPower)
    if (input.timestamp < earliest) throw new TooEarlyForPriorityError(priority, ctx.endorsingPower, earliest)
    const shell = newShellHeader(input, {
      operations,
      context: blake2b256([predecessor.shell.context, stateWritesDigest(scratch.writes())]),
      fitness: v3Fitness(level, ctx.endorsingPower)
    })
    const nextProtocol = input.activate === undefined ? undefined : b58Decode('protocolHash', input.activate)
    const protocolData = signBlockData(shell, {
      priority,
      powNonce: new Uint8Array(8),
      ...(seedNonceHash === undefined ? {} : { seedNonceHash }),
      ...(nextProtocol === undefined ? {} : { nextProtocol })
    }, bakerKey)
    return { header: { shell, protocolData }, operations, refused }
  }

  function describeOperation (op: Operation): Record<string, unknown> {
    const d = decodeOperation(op)
    if (!d.ok) return { kind: 'malformed', error: d.error.message, data: toHex(op.data) }
    return { pass: d.pass, ...(operationDataToJson(d.data) as Record<string, unknown>) }
  }

  function describeProtocolData (header: BlockHeader): Record<string, unknown> {
    try {
      return blockDataToJson(decodeBlockData(header.protocolData))
    } catch (e) {
      return { malformed: toHex(header.protocolData), error: (e as Error).message }
    }
  }

  async function rightsAt (state: StateReader, level: number, priorities = 8): Promise<LevelRights> {
    const cycle = cycleOf(params, level)
    const data = await ensureCycle(new ScratchState(state), rules, cycle)
    return {
      level,
      cycle,
      bakers: Array.from({ length: Math.min(priorities, params.maxPriority) }, (_, p) => bakerAt(data, level, p)),
      slots: endorsementSlots(data, level, params.endorsersPerBlock)
    }
  }

  return {
    parameters: params,
    rightsAt,
    earliestTimestamp: (predecessorTimestamp, priority, endorsingPower) => minimalTimestamp(params, predecessorTimestamp, priority, endorsingPower),
    name: 'demo-v3',
    hash,
    manifest,
    validationPasses: VALIDATION_PASSES,
    maxOperationsTtl: ttl,
    genesis,
    fitness: (level: number) => v3Fitness(level, 0),
    validateHeader: (header: BlockHeader, predecessor: BlockHeader): Verdict<InvalidBlockError> => checkV3Header(rules, header, predecessor),
    validateOperation,
    applyBlock,
    makeBlock,
    ...(pool === undefined
      ? {}
      : {
          precheckBlocks: async (blocks: Parameters<NonNullable<Protocol['precheckBlocks']>>[0]) => { await rules.signatures?.precheck(pool, blocks) },
          close: async () => { await pool.close() }
        }),
    describeOperation,
    describeProtocolData
  }
}

/** The demo v3 protocol, when `p` is one (it carries the rights and timing bakers and views need). */
export function asDemoV3 (p: Protocol): DemoV3Protocol | undefined {
  return p.manifest?.name === 'demo' && p.manifest.version === 3 && 'rightsAt' in p ? p as DemoV3Protocol : undefined
}
