import { DecodeError } from '../../encoding/index.ts'
import type { Operation } from '../../wire/operation.ts'
import { operationHash } from '../../wire/operation.ts'
import { InvalidOperationError } from '../errors.ts'
import type { ScratchState } from '../state.ts'
import { applyConsensusOrAnonymous } from './consensus.ts'
import { refuse, type OperationContext } from './context.ts'
import { decodeOperationData, isManager, passOf, type OperationData } from './encoding.ts'
import { applyManager } from './manager.ts'

/** A decoded operation and its validation pass, or why its bytes are not a demo v3 operation. */
export type Decoded =
  | { ok: true, data: OperationData, pass: number }
  | { ok: false, error: InvalidOperationError }

export function decodeOperation (op: Operation): Decoded {
  try {
    const data = decodeOperationData(op.data)
    return { ok: true, data, pass: passOf(data.contents) }
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: new InvalidOperationError('malformed', e.message) }
    throw e
  }
}

/**
 * Checks and applies one decoded operation on `state` in `ctx` (mempool admission, block
 * application and baking all come through here, so the three never disagree). `expectedPass`: in a
 * block, the list the operation sits in. A refused operation leaves `state` and `ctx` unchanged.
 */
export async function applyOperation (
  op: Operation, decoded: Extract<Decoded, { ok: true }>, state: ScratchState, ctx: OperationContext, expectedPass?: number
): Promise<InvalidOperationError | undefined> {
  if (expectedPass !== undefined && expectedPass !== decoded.pass) {
    return refuse('wrong_validation_pass', `a ${decoded.data.contents.kind} belongs to validation pass ${decoded.pass}, not ${expectedPass}`)
  }
  const c = decoded.data.contents
  if (isManager(c)) return await applyManager(c, op, operationHash(op), state, ctx)
  return await applyConsensusOrAnonymous(c, op, state, ctx)
}
