import assert from 'node:assert/strict'
import { DEFAULT_V3_PARAMETERS as P } from '../../src/protocol/demo-v3/parameters.ts'
import { getJson, type HeaderJson } from '../rpc/rpc-json.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * Demo v3's frozen deposits and denunciations recomputed from a devnet's blocks, read through the
 * RPC, with the rules of protocols/sync.md Appendix A.2 (the devnet runs the default parameters):
 * a block at level l first returns the deposits of cycle cycle(l) − preservedCycles − 1 when it
 * opens a cycle, then each endorsement it carries freezes `endorsementSecurityDeposit` per slot of
 * its delegate into cycle(l), each evidence takes all the offender's deposits of the offence's
 * cycle (half to the block's baker, the reporter), and last the baker freezes
 * `blockSecurityDeposit` into cycle(l). Deposits here are far below the balances, so never capped.
 * The node's own view (`context/delegates/<tz1>`) must match this model at one head.
 */

const cycleOf = (level: number): number => Math.floor((level - 1) / P.blocksPerCycle)

interface EndorsementJson { kind: 'endorsement', level: number, slot: number }
interface InlinedJson { operations: EndorsementJson }
interface ContentsJson { kind: string, level?: number, slot?: number, op1?: InlinedJson, bh1?: { level: number, protocol_data: string } }
interface BlockJson { hash: string, metadata: { protocol_data: { priority: number } }, operations: Array<Array<{ contents: { contents: ContentsJson } }>> }
export interface DelegateJson {
  frozen_balance_by_cycle: Array<{ cycle: number, deposits: string }>
  denounced: Array<{ level: number, kind: string, deposit_taken: string, reward: string, reporter: string | null }>
}
export interface ModelDenouncement { level: number, kind: 'double_baking' | 'double_endorsement', deposit_taken: string, reward: string, reporter: string, evidenceLevel: number }

/** Reads a devnet's chain through one node's RPC and keeps the model's deposits up to the last level read. */
export class DepositsModel {
  private readonly rpc: string
  private readonly bakers = new Map<string, string>()
  private readonly slots = new Map<number, string[]>()
  /** cycle → delegate → frozen. */
  private readonly frozen = new Map<number, Map<string, bigint>>()
  private readonly denounced = new Map<string, ModelDenouncement[]>()
  private read = 0
  /** The hash of each level read: a branch switch below the last one read starts the model again. */
  private hashes: string[] = []

  constructor (rpc: string) {
    this.rpc = rpc
  }

  private async bakerAt (level: number, priority: number): Promise<string> {
    const key = `${level}:${priority}`
    let baker = this.bakers.get(key)
    if (baker === undefined) {
      const rights = await getJson<Array<{ delegate: string, priority: number }>>(`${this.rpc}/chains/main/blocks/head/helpers/baking_rights?level=${level}&max_priority=${priority + 1}`)
      baker = rights[priority].delegate
      this.bakers.set(key, baker)
    }
    return baker
  }

  /** The delegate of each endorsement slot at `level`. */
  private async slotsAt (level: number): Promise<string[]> {
    let slots = this.slots.get(level)
    if (slots === undefined) {
      slots = []
      for (const r of await getJson<Array<{ delegate: string, slots: number[] }>>(`${this.rpc}/chains/main/blocks/head/helpers/endorsing_rights?level=${level}`)) {
        for (const s of r.slots) slots[s] = r.delegate
      }
      this.slots.set(level, slots)
    }
    return slots
  }

  private add (cycle: number, delegate: string, amount: bigint): void {
    let m = this.frozen.get(cycle)
    if (m === undefined) this.frozen.set(cycle, m = new Map<string, bigint>())
    m.set(delegate, (m.get(delegate) ?? 0n) + amount)
  }

  /** Applies the blocks after the last one read, up to `head`. */
  async readTo (head: number): Promise<void> {
    if (this.read > 0 && await getJson<string>(`${this.rpc}/chains/main/blocks/${this.read}/hash`) !== this.hashes[this.read]) {
      this.frozen.clear()
      this.denounced.clear()
      this.hashes = []
      this.read = 0
    }
    for (let level = this.read + 1; level <= head; level++) {
      const block = await getJson<BlockJson>(`${this.rpc}/chains/main/blocks/${level}`)
      const cycle = cycleOf(level)
      if (level > 1 && cycleOf(level - 1) !== cycle) this.frozen.delete(cycle - P.preservedCycles - 1)
      const baker = await this.bakerAt(level, block.metadata.protocol_data.priority)
      for (const op of block.operations[0] ?? []) {
        const e = op.contents.contents
        const slots = await this.slotsAt(e.level as number)
        const delegate = slots[e.slot as number]
        this.add(cycle, delegate, P.endorsementSecurityDeposit * BigInt(slots.filter(d => d === delegate).length))
      }
      for (const op of block.operations[2] ?? []) {
        const c = op.contents.contents
        let offender: string, offence: number, kind: ModelDenouncement['kind']
        if (c.kind === 'double_endorsement_evidence' && c.op1 !== undefined) {
          offence = c.op1.operations.level
          offender = (await this.slotsAt(offence))[c.op1.operations.slot]
          kind = 'double_endorsement'
        } else if (c.kind === 'double_baking_evidence' && c.bh1 !== undefined) {
          offence = c.bh1.level
          offender = await this.bakerAt(offence, Number.parseInt(c.bh1.protocol_data.slice(0, 4), 16))
          kind = 'double_baking'
        } else {
          continue
        }
        const m = this.frozen.get(cycleOf(offence))
        const taken = m?.get(offender) ?? 0n
        m?.set(offender, 0n)
        const list = this.denounced.get(offender) ?? []
        list.push({ level: offence, kind, deposit_taken: taken.toString(), reward: (taken / 2n).toString(), reporter: baker, evidenceLevel: level })
        this.denounced.set(offender, list)
      }
      this.add(cycle, baker, P.blockSecurityDeposit)
      this.hashes[level] = block.hash
      this.read = level
    }
  }

  /** The frozen deposits by cycle the node shows for `delegate` at head level `head` (the cycles it lists). */
  frozenByCycle (delegate: string, head: number): Array<{ cycle: number, deposits: string }> {
    const current = cycleOf(head + 1)
    const out: Array<{ cycle: number, deposits: string }> = []
    for (let c = Math.max(0, current - P.preservedCycles - 1); c <= current; c++) {
      const d = this.frozen.get(c)?.get(delegate) ?? 0n
      if (d > 0n) out.push({ cycle: c, deposits: d.toString() })
    }
    return out
  }

  /** The denunciations the node lists for `delegate` at `head` (within the evidence window), newest offence first. */
  denouncedAt (delegate: string, head: number): Array<Omit<ModelDenouncement, 'evidenceLevel'>> {
    const window = P.blocksPerCycle * (P.preservedCycles + 1)
    return (this.denounced.get(delegate) ?? [])
      .filter(d => d.level > head - window)
      .sort((a, b) => b.level - a.level || (a.kind === 'double_baking' ? -1 : 1))
      .map(({ evidenceLevel, ...d }) => { void evidenceLevel; return d })
  }
}

/**
 * Waits for a head at which the node's views of `delegates` (read before and after the same head)
 * equal the model's: frozen deposits by cycle, and each denunciation with the deposit it took,
 * the reward and the reporter. Returns the model and that head.
 */
export async function assertDepositsAsModelled (rpc: string, delegates: readonly string[], model = new DepositsModel(rpc)): Promise<{ model: DepositsModel, head: number }> {
  let last = ''
  const head = await waitFor(async () => {
    const before = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
    await model.readTo(before.level)
    const views = await Promise.all(delegates.map(async d => await getJson<DelegateJson>(`${rpc}/chains/main/blocks/head/context/delegates/${d}`)))
    const after = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
    if (after.hash !== before.hash) { last = 'the head moved while reading'; return undefined }
    delegates.forEach((d, i) => {
      assert.deepEqual(views[i].frozen_balance_by_cycle, model.frozenByCycle(d, before.level), `${d}'s frozen deposits at head ${before.level}`)
      assert.deepEqual(views[i].denounced, model.denouncedAt(d, before.level), `${d}'s denunciations at head ${before.level}`)
    })
    return before.level
  }, { what: () => `the delegates' views at one head (${last})`, timeoutMs: 120_000, intervalMs: 200, retryOnError: true })
  return { model, head }
}
