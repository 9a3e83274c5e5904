import { InvalidBlockError } from '../protocol/errors.ts'
import type { BlockHeader } from '../wire/block-header.ts'
import type { ProtocolLevel } from './protocol-levels.ts'

/**
 * The protocol level of a block in shell-only mode. Octez's `src/lib_validation/block_validation.ml`
 * expects the predecessor's protocol level, or (that + 1) mod 256 when applying the predecessor
 * changed the protocol; without the economic protocol the shell cannot tell which, so it takes
 * either. Every level runs the genesis protocol's implementation (the shell protocol).
 */
export function shellOnlyProtocolLevel (header: BlockHeader, predecessor: BlockHeader, genesisProtocol: string): ProtocolLevel {
  const p = predecessor.shell.level === 0 ? 0 : predecessor.shell.proto
  const proto = header.shell.proto
  if (proto !== p && proto !== (p + 1) % 256) {
    throw new InvalidBlockError('bad_proto_level', `protocol level ${proto} after a block at protocol level ${p} (expected ${p} or ${(p + 1) % 256})`)
  }
  return { protoLevel: proto, protocol: genesisProtocol, firstLevel: 1 }
}
