import { bytesEqual, toHex } from '../../encoding/index.ts'
import type { BlockHeader } from '../../wire/block-header.ts'
import type { Operation } from '../../wire/operation.ts'
import type { Ed25519VerifyPool, SignatureCheck } from '../ed25519-pool.ts'
import { blockSignedBytes, decodeBlockData } from './block-data.ts'
import { decodeOperationData, isManager, SIGNATURE_BYTES } from './encoding.ts'
import { cycleOf, type DemoV3Parameters } from './parameters.ts'
import { bakerAt, endorsementSlots } from './rights.ts'
import { checkOperationSignature, operationSignedBytes } from './sign.ts'
import type { CycleData } from './store.ts'

/** Bound on the remembered keys (garbage reveals in refused blocks could otherwise grow it). */
const MAX_KNOWN_KEYS = 100_000

/**
 * Signature checks of a run of demo v3 blocks on the verification pool, ahead of their
 * application. Who signed depends on the state (revealed keys, rights), which a precheck does not
 * have, so it guesses: manager operations by their source's key (the only key hashing to the
 * source, learnt from genesis and reveals), endorsements and headers by the rights of the cycle last
 * seen applied. What verifies is remembered with the key it verified under; application skips the
 * check only when the state names that very key (`signedBy`), so a wrong guess costs an inline
 * check, never a wrong verdict.
 */
export class SignatureCache {
  readonly verified = new WeakMap<object, Uint8Array>()
  private readonly keys = new Map<string, Uint8Array>()
  private readonly cycles = new Map<number, CycleData>()
  private readonly params: DemoV3Parameters

  constructor (params: DemoV3Parameters, keys: ReadonlyArray<{ pkh: Uint8Array, publicKey: Uint8Array }>) {
    this.params = params
    for (const k of keys) this.learnKey(k.pkh, k.publicKey)
  }

  learnKey (pkh: Uint8Array, publicKey: Uint8Array): void {
    if (this.keys.size >= MAX_KNOWN_KEYS) this.keys.clear()
    this.keys.set(toHex(pkh), publicKey)
  }

  /** The draw data of a cycle, as a block just applied used it (kept for the last few cycles). */
  learnCycle (cycle: number, data: CycleData): void {
    this.cycles.set(cycle, data)
    for (const c of this.cycles.keys()) if (c < cycle - 4) this.cycles.delete(c)
  }

  private guessKey (pkh: Uint8Array): Uint8Array | undefined {
    return this.keys.get(toHex(pkh))
  }

  private checkOf (op: Operation, isEndorsement: boolean, publicKey: Uint8Array): SignatureCheck {
    const body = op.data.subarray(0, op.data.length - SIGNATURE_BYTES)
    return { publicKey, signature: op.data.subarray(op.data.length - SIGNATURE_BYTES), message: operationSignedBytes(op.branch, body, isEndorsement) }
  }

  async precheck (pool: Ed25519VerifyPool, blocks: ReadonlyArray<{ header: BlockHeader, operations: Operation[][] }>): Promise<void> {
    const checks: SignatureCheck[] = []
    const subjects: object[] = []
    const add = (subject: object, check: SignatureCheck): void => {
      if (this.verified.has(subject)) return
      checks.push(check)
      subjects.push(subject)
    }
    for (const { header, operations } of blocks) {
      const level = header.shell.level
      const cycle = this.cycles.get(cycleOf(this.params, level))
      try {
        const data = decodeBlockData(header.protocolData)
        const key = cycle === undefined ? undefined : this.guessKey(bakerAt(cycle, level, data.priority))
        const unsigned = header.protocolData.subarray(0, header.protocolData.length - SIGNATURE_BYTES)
        if (key !== undefined) add(header, { publicKey: key, signature: data.signature, message: blockSignedBytes(header.shell, unsigned) })
      } catch { /* malformed: refused when applied */ }
      const endorsedCycle = this.cycles.get(cycleOf(this.params, level - 1))
      const endorsed = endorsedCycle === undefined || level < 2 ? undefined : endorsementSlots(endorsedCycle, level - 1, this.params.endorsersPerBlock)
      for (const pass of operations) {
        for (const op of pass) {
          let d
          try { d = decodeOperationData(op.data) } catch { continue }
          const c = d.contents
          if (c.kind === 'reveal') this.learnKey(c.source, c.publicKey)
          const key = c.kind === 'reveal'
            ? c.publicKey
            : isManager(c) ? this.guessKey(c.source) : c.kind === 'endorsement' && endorsed !== undefined && c.slot < endorsed.length ? this.guessKey(endorsed[c.slot]) : undefined
          if (key !== undefined) add(op, this.checkOf(op, c.kind === 'endorsement', key))
        }
      }
    }
    const results = await pool.verifyIfWorthIt(checks)
    if (results === undefined) return
    for (let i = 0; i < subjects.length; i++) if (results[i] === 1) this.verified.set(subjects[i], checks[i].publicKey)
  }

  /** Whether `op` is signed by `key`: remembered from a precheck under that very key, or checked now. */
  signedBy (op: Operation, isEndorsement: boolean, key: Uint8Array): boolean {
    const k = this.verified.get(op)
    if (k !== undefined && bytesEqual(k, key)) return true
    // Remembered too: the mempool's check then serves the block that carries the same object.
    const ok = checkOperationSignature(op.branch, op.data, isEndorsement, key)
    if (ok) this.verified.set(op, key)
    return ok
  }
}
