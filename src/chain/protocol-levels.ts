import { b58Decode, b58Encode } from '../crypto/index.ts'
import { DecodeError, Reader, Writer } from '../encoding/index.ts'
import { FIRST_PROTO_LEVEL, type BlockHeader } from '../wire/block-header.ts'
import type { StateReader, StateWrite } from '../protocol/state.ts'

/**
 * Which protocol runs at each protocol level (the header's `proto` field), as Octez's store keeps
 * its `protocol_levels` table. The genesis header has level 0; the genesis protocol runs from
 * block 1 at protocol level 1; a block whose application names a `nextProtocol` makes its
 * successor carry protocol level + 1, run by that protocol.
 *
 * The table lives in the chain state under shell-reserved keys (`shell:proto:<level>`), written
 * with the activating block's own writes. So it is committed atomically with that block, and the
 * block's undo record takes it back when a branch switch rewinds past the activation — fork choice
 * needs nothing more to switch protocols back and forth. Level 1 is implicit (the genesis protocol).
 */

/** Protocols may not write keys with this prefix. */
export const SHELL_KEY_PREFIX = 'shell:'
/** The protocol table's keys (one per protocol level above 1). */
export const PROTO_KEY_PREFIX = 'shell:proto:'

export interface ProtocolLevel {
  protoLevel: number
  /** b58 `P…`. */
  protocol: string
  /** Level of the first block this protocol validates (the activating block's level + 1). */
  firstLevel: number
}

export function protoLevelKey (protoLevel: number): string {
  return `${PROTO_KEY_PREFIX}${protoLevel}`
}

/** Value: raw protocol hash (32 B) ‖ first level (int32 BE). */
export function protoLevelWrite (entry: ProtocolLevel): StateWrite {
  return { key: protoLevelKey(entry.protoLevel), value: new Writer(36).raw(b58Decode('protocolHash', entry.protocol)).int32(entry.firstLevel).finish() }
}

function decodeEntry (protoLevel: number, b: Uint8Array): ProtocolLevel {
  const r = new Reader(b)
  const protocol = b58Encode('protocolHash', r.fixed(32, 'protocol_level.protocol'))
  const firstLevel = r.int32('protocol_level.first_level')
  r.expectEnd('protocol_level')
  if (firstLevel < 1) throw new DecodeError('protocol_level.first_level', 32, `level ${firstLevel}`)
  return { protoLevel, protocol, firstLevel }
}

export async function readProtocolLevel (state: StateReader, protoLevel: number, genesisProtocol: string): Promise<ProtocolLevel | undefined> {
  if (protoLevel === FIRST_PROTO_LEVEL) return { protoLevel, protocol: genesisProtocol, firstLevel: 1 }
  const b = await state.get(protoLevelKey(protoLevel))
  return b === undefined ? undefined : decodeEntry(protoLevel, b)
}

/** Every protocol level recorded in `state`, from 1 up. */
export async function readProtocolLevels (state: StateReader, genesisProtocol: string): Promise<ProtocolLevel[]> {
  const out: ProtocolLevel[] = []
  for (let n = FIRST_PROTO_LEVEL; n <= 255; n++) {
    const e = await readProtocolLevel(state, n, genesisProtocol)
    if (e === undefined) break
    out.push(e)
  }
  return out
}

/**
 * The protocol level and protocol of a block at `predecessor.level + 1`, on the state as of its
 * predecessor: the predecessor's level, or the next one when the predecessor activated it.
 */
export async function protocolLevelAfter (state: StateReader, predecessor: BlockHeader, genesisProtocol: string): Promise<ProtocolLevel> {
  const p = predecessor.shell
  if (p.level === 0) return { protoLevel: FIRST_PROTO_LEVEL, protocol: genesisProtocol, firstLevel: 1 }
  const next = await readProtocolLevel(state, p.proto + 1, genesisProtocol)
  if (next !== undefined && next.firstLevel === p.level + 1) return next
  const current = await readProtocolLevel(state, p.proto, genesisProtocol)
  if (current === undefined) throw new ProtocolLevelError(`no protocol is recorded for protocol level ${p.proto} of block level ${p.level}`)
  return current
}

/** The store's protocol table contradicts the chain (a corrupt store). */
export class ProtocolLevelError extends Error {
  override readonly name = 'ProtocolLevelError'
}
