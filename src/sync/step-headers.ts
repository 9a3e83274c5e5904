import { b58Encode } from '../crypto/index.ts'
import { bytesEqual, toHex } from '../encoding/index.ts'
import type { Fetched } from '../gossip/requester.ts'
import type { ReportPeer } from '../misbehaviour/index.ts'
import { InvalidAnswerError, type HashedHeader } from './checks.ts'

/**
 * Fetching the headers of one locator step. A step is `count` blocks: `top` (a hash the locator
 * names) and its ancestors down to, not including, `predecessor` (the next hash of the locator,
 * or the block we already have). Two ways, both verified by hash from `top` down:
 *
 * - `rangeStepFetcher` (tzp2p's default): the step is cut into chunks of 10 offsets, each asked as
 *   Get_predecessor_header(top, offset) envelopes; the chunks go to several peers in parallel.
 * - `walkStepFetcher` (Octez's way): Get_block_headers of `top`, then of its predecessor, and so
 *   on, one round trip per header; steps still proceed in parallel with each other.
 *
 * Blame: an answer that does not hash to what it must is the answering peer's fault (it is
 * penalised and the chunk asked elsewhere). A step whose verified headers do not end at the
 * locator's next hash, or whose top is not at the level the locator's steps imply, is the fault of
 * the peer that sent the locator (`InvalidLocatorError`).
 */
export interface PlannedStep {
  top: Uint8Array
  /** The level the locator implies for `top`. */
  topLevel: number
  predecessor: Uint8Array
  /** Headers in the step. */
  count: number
}

/** Headers of a step, top first; resolves only with headers verified as described above. */
export type StepHeaderFetcher = (step: PlannedStep) => Promise<HashedHeader[]>

export class InvalidLocatorError extends Error {
  override readonly name = 'InvalidLocatorError'
  readonly misbehaviour = 'invalid-data'
}

/** A chunk of a step: the ancestors of `top` at offsets `first … first + count - 1`. */
export interface AncestorChunk {
  top: Uint8Array
  first: number
  count: number
}

export function ancestorChunkId (c: AncestorChunk): string {
  return `${toHex(c.top)}:${c.first}:${c.count}`
}

/**
 * What the answering peer alone vouches for in a chunk: the header at offset 0 is `top`, each
 * header is the predecessor of the one before it, levels go down by one. Used by the request
 * function so a lying peer is caught before its answer is accepted.
 */
export function checkAncestorChunk (peer: string, chunk: AncestorChunk, headers: readonly HashedHeader[]): void {
  if (headers.length !== chunk.count) throw new Error('incomplete chunk')
  if (chunk.first === 0 && !bytesEqual(headers[0].hash, chunk.top)) {
    throw new InvalidAnswerError(peer, `answered ${b58Encode('blockHash', headers[0].hash)} as block ${b58Encode('blockHash', chunk.top)} itself`)
  }
  for (let i = 1; i < headers.length; i++) {
    const above = headers[i - 1].header.shell
    if (!bytesEqual(above.predecessor, headers[i].hash) || headers[i].header.shell.level !== above.level - 1) {
      throw new InvalidAnswerError(peer, `ancestor ${chunk.first + i} of ${b58Encode('blockHash', chunk.top)} is not the predecessor of ancestor ${chunk.first + i - 1}`)
    }
  }
}

export interface RangeFetcherDeps {
  /** Fetches one chunk through the requester (its request function runs `checkAncestorChunk`). */
  fetchChunk: (chunk: AncestorChunk, exclude: readonly string[]) => Promise<Fetched<HashedHeader[]>>
  /** The peer policy (the sender of a chunk that does not continue the chain is reported). */
  report: ReportPeer
  chunkSize?: number
}

export function rangeStepFetcher (deps: RangeFetcherDeps): StepHeaderFetcher {
  const size = deps.chunkSize ?? 10
  return async (step) => {
    const chunks: AncestorChunk[] = []
    for (let first = 0; first < step.count; first += size) chunks.push({ top: step.top, first, count: Math.min(size, step.count - first) })
    const pending = chunks.map(c => deps.fetchChunk(c, []))
    // Settle every chunk promise so an early failure leaves no unhandled rejection behind.
    for (const p of pending) p.catch(() => {})
    const out: HashedHeader[] = []
    for (let c = 0; c < chunks.length; c++) {
      const exclude: string[] = []
      let got = await pending[c]
      for (;;) {
        const expected = c === 0 ? step.top : out[out.length - 1].header.shell.predecessor
        if (bytesEqual(got.value[0].hash, expected)) break
        // The chunks above are verified from `top` down, so this one's sender is the liar.
        deps.report({ tezosPeerId: got.peer }, 'invalid-data', `wrong answer: chunk at offset ${chunks[c].first} of ${b58Encode('blockHash', step.top)} does not continue the chain`)
        exclude.push(got.peer)
        got = await deps.fetchChunk(chunks[c], exclude)
      }
      out.push(...got.value)
    }
    checkStepEnds(step, out)
    return out
  }
}

export interface WalkFetcherDeps {
  /** Fetches one header by hash (its request function checks the hash). */
  fetchHeader: (hash: Uint8Array) => Promise<Fetched<HashedHeader>>
}

export function walkStepFetcher (deps: WalkFetcherDeps): StepHeaderFetcher {
  return async (step) => {
    const out: HashedHeader[] = []
    let hash = step.top
    for (let i = 0; i < step.count; i++) {
      const { value } = await deps.fetchHeader(hash)
      out.push(value)
      hash = value.header.shell.predecessor
    }
    checkStepEnds(step, out)
    return out
  }
}

/** The step must start at the level the locator implies and end on the locator's next hash. */
function checkStepEnds (step: PlannedStep, headers: readonly HashedHeader[]): void {
  const top = b58Encode('blockHash', step.top)
  if (headers[0].header.shell.level !== step.topLevel) {
    throw new InvalidLocatorError(`locator step from ${top}: the block is at level ${headers[0].header.shell.level}, the locator implies ${step.topLevel}`)
  }
  const last = headers[headers.length - 1]
  if (!bytesEqual(last.header.shell.predecessor, step.predecessor)) {
    throw new InvalidLocatorError(`locator step from ${top}: ${step.count} blocks down is not ${b58Encode('blockHash', step.predecessor)}`)
  }
}
