import { b58Decode, b58Encode } from '../crypto/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { StoredHeader } from '../chain/store.ts'
import { BadRequestError, NotFoundError } from './errors.ts'

/**
 * Octez's block ids: `head`, `genesis`, a level, or a block hash (`B…`), each optionally followed
 * by `~n` (the n-th predecessor on its branch).
 */
export type BlockId =
  | { kind: 'head', back: number }
  | { kind: 'genesis', back: number }
  | { kind: 'level', level: number, back: number }
  | { kind: 'hash', hash: Uint8Array, back: number }

const EXPECTED = 'expected head, genesis, a level or a block hash (B…), optionally followed by ~n'
const MAX_LEVEL = 2 ** 31 - 1

export function parseBlockId (text: string): BlockId {
  const m = /^([^~]+)(?:~(\d{1,10}))?$/.exec(text)
  if (m === null) throw new BadRequestError(`invalid block id ${JSON.stringify(text)}: ${EXPECTED}`)
  const back = m[2] === undefined ? 0 : Number(m[2])
  if (back > MAX_LEVEL) throw new BadRequestError(`invalid block id ${JSON.stringify(text)}: ~${m[2]} is beyond any level`)
  const base = m[1]
  if (base === 'head') return { kind: 'head', back }
  if (base === 'genesis') return { kind: 'genesis', back }
  if (/^\d{1,10}$/.test(base)) {
    const level = Number(base)
    if (level > MAX_LEVEL) throw new BadRequestError(`invalid block id ${JSON.stringify(text)}: level ${base} is above 2^31 - 1`)
    return { kind: 'level', level, back }
  }
  if (base.startsWith('B')) {
    try {
      return { kind: 'hash', hash: b58Decode('blockHash', base), back }
    } catch (e) {
      throw new BadRequestError(`invalid block hash ${JSON.stringify(base)}: ${(e as Error).message}`, { cause: e })
    }
  }
  throw new BadRequestError(`invalid block id ${JSON.stringify(text)}: ${EXPECTED}`)
}

/** The stored block an id names; 404 when there is none. */
export async function resolveBlockId (chain: ChainReader, text: string): Promise<StoredHeader> {
  const id = parseBlockId(text)
  let base: StoredHeader | undefined
  const caboose = chain.caboose
  const belowCheckpoint = (level: number): string =>
    `level ${level} is below the checkpoint this node started from (${b58Encode('blockHash', caboose.hash)} at level ${caboose.level}): it holds no block below it but genesis`
  switch (id.kind) {
    case 'head': base = chain.head; break
    case 'genesis': base = await chain.getBlockByLevel(0); break
    case 'level':
      if (id.level > 0 && id.level < caboose.level) throw new NotFoundError(belowCheckpoint(id.level))
      base = await chain.getBlockByLevel(id.level)
      if (base === undefined) throw new NotFoundError(`no block at level ${id.level} on the current chain (head is at ${chain.head.header.shell.level})`)
      break
    case 'hash':
      base = await chain.getHeader(id.hash)
      if (base === undefined) throw new NotFoundError(`unknown block ${b58Encode('blockHash', id.hash)}`)
      break
  }
  if (base === undefined) throw new NotFoundError(`unknown block ${text}`)
  if (id.back === 0) return base
  const target = base.header.shell.level - id.back
  if (target > 0 && target < caboose.level) throw new NotFoundError(`block ${text}: ${belowCheckpoint(target)}`)
  const ancestor = await chain.getAncestor(base.hash, id.back)
  if (ancestor === undefined) throw new NotFoundError(`block ${text} does not exist: its branch starts at level ${base.header.shell.level} - ${id.back} < 0 or is not stored`)
  return ancestor
}
