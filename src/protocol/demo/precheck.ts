import type { BlockHeader } from '../../wire/block-header.ts'
import type { Operation } from '../../wire/operation.ts'
import type { Ed25519VerifyPool, SignatureCheck } from '../ed25519-pool.ts'
import { blockSignedBytes, decodeDemoProtocolData } from './block.ts'
import { TRANSFER_BYTES, TRANSFER_PUBLIC_KEY_OFFSET, TRANSFER_UNSIGNED_BYTES, transferSignedBytes } from './transfer.ts'


/**
 * Signature checks of a run of demo blocks on the verification pool. Headers and operations whose
 * signature is valid are remembered by identity (the chain hands the very same objects to
 * `validateHeader` and `applyBlock` afterwards), so those calls skip the check. Anything else —
 * malformed data, bad signatures, a pool failure — is simply not remembered and gets checked, and
 * refused, inline.
 */
export async function precheckDemoBlocks (
  pool: Ed25519VerifyPool,
  blocks: ReadonlyArray<{ header: BlockHeader, operations: Operation[][] }>,
  verifiedHeaders: WeakSet<BlockHeader>,
  verifiedOperations: WeakSet<Operation>
): Promise<void> {
  const checks: SignatureCheck[] = []
  const subjects: Array<BlockHeader | Operation> = []
  for (const { header, operations } of blocks) {
    const data = decodeDemoProtocolData(header.protocolData)
    if (data !== undefined && !verifiedHeaders.has(header)) {
      checks.push({ publicKey: data.bakerPublicKey, signature: data.signature, message: blockSignedBytes(header.shell, data.activation) })
      subjects.push(header)
    }
    for (const pass of operations) {
      for (const op of pass) {
        if (op.data.length !== TRANSFER_BYTES || verifiedOperations.has(op)) continue
        checks.push({
          publicKey: op.data.subarray(TRANSFER_PUBLIC_KEY_OFFSET, TRANSFER_PUBLIC_KEY_OFFSET + 32),
          signature: op.data.subarray(TRANSFER_UNSIGNED_BYTES),
          message: transferSignedBytes(op.branch, op.data.subarray(0, TRANSFER_UNSIGNED_BYTES))
        })
        subjects.push(op)
      }
    }
  }
  const results = await pool.verifyIfWorthIt(checks)
  if (results === undefined) return
  for (let i = 0; i < subjects.length; i++) {
    if (results[i] !== 1) continue
    const s = subjects[i]
    if ('shell' in s) verifiedHeaders.add(s)
    else verifiedOperations.add(s)
  }
}
