import { createHash } from 'node:crypto'
import { EncodeError, bytesEqual, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { BLOCK_HEADER_MAX_BYTES, blockHash, blockHeaderCodec, type BlockHeader } from './block-header.ts'
import { PEER_ID_BYTES, readHash, writeHash } from './hashes.ts'

/** Decoders accept at most this many history hashes (`Block_locator.bounded_encoding`). */
export const LOCATOR_MAX_HISTORY = 1000
/** Octez's `max_locator_size`: how many history entries a node puts in the locators it sends. */
export const LOCATOR_DEFAULT_SIZE = 250

/**
 * A sparse chain summary "à la Bitcoin": the head header, then hashes of ancestors at growing,
 * seeded distances (Octez `src/lib_base/block_locator.ml`). The head hash is not on the wire; it is
 * the header's hash.
 */
export interface BlockLocator {
  headHeader: BlockHeader
  history: Uint8Array[]
}

/** Wire form: `dynamic_size(header) ‖ Variable.list block_hash` — the history runs to the end. */
export const blockLocatorCodec: Codec<BlockLocator> = {
  name: 'block_locator',
  encode (w: Writer, l: BlockLocator): void {
    if (l.history.length > LOCATOR_MAX_HISTORY) {
      throw new EncodeError('block_locator.history', `${l.history.length} entries, at most ${LOCATOR_MAX_HISTORY}`)
    }
    w.dynamic(w => blockHeaderCodec.encode(w, l.headHeader), 'block_locator.current_head', BLOCK_HEADER_MAX_BYTES)
    for (const h of l.history) writeHash(w, h, 'block_locator.history')
  },
  decode (r: Reader): BlockLocator {
    const headHeader = r.dynamic('block_locator.current_head', BLOCK_HEADER_MAX_BYTES, sub => blockHeaderCodec.decode(sub))
    const history = r.variableList('block_locator.history', LOCATOR_MAX_HISTORY, sub => readHash(sub, 'block_locator.history'))
    return { headHeader, history }
  }
}

/**
 * Who sends the locator to whom. The sender builds it with `{ sender: own id, receiver: peer }`;
 * the receiver replays the same steps with `{ sender: peer, receiver: own id }`, so it can check
 * every gap exactly while each peer gets differently spaced locators.
 */
export interface LocatorSeed {
  senderId: Uint8Array
  receiverId: Uint8Array
}

function sha256 (data: Uint8Array | Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const part of Array.isArray(data) ? data : [data]) h.update(part)
  return new Uint8Array(h.digest())
}

/**
 * `Block_locator.Step`: 10 steps of 1, then 10 steps drawn around 2, 10 around 4, … Each draw is
 * `Int32.rem` of the seed's first four bytes read as a *signed* big-endian int32 by
 * `step / 2 + 1`, so the gap has the sign of those bytes and a drawn step lies in
 * `[step - step/2, step + step/2]`. All arithmetic wraps like OCaml's Int32.
 */
export class LocatorStepGenerator {
  private step = 1
  private counter = 9
  private seed: Uint8Array

  constructor (seed: LocatorSeed, headHash: Uint8Array) {
    if (seed.senderId.length !== PEER_ID_BYTES || seed.receiverId.length !== PEER_ID_BYTES) {
      throw new RangeError(`locator seed peer ids must be ${PEER_ID_BYTES} bytes`)
    }
    this.seed = sha256([seed.senderId, seed.receiverId, headHash])
  }

  /** The current seed bytes (SHA-256 state), exposed so tests can follow the sequence. */
  get currentSeed (): Uint8Array {
    return this.seed.slice()
  }

  next (): number {
    let gap = 0
    if (this.step > 1) {
      const drawn = new DataView(this.seed.buffer, this.seed.byteOffset, 4).getInt32(0)
      gap = drawn % ((Math.trunc(this.step / 2) + 1) | 0)
      this.seed = sha256(this.seed)
    }
    const result = (this.step - gap) | 0
    if (this.counter === 0) {
      this.step = Math.imul(this.step, 2)
      this.counter = 9
    } else {
      this.counter -= 1
    }
    return result
  }
}

/** Hash of the ancestor `distance` blocks below `hash`, or `undefined` if not stored (below the caboose). */
export type GetAncestor = (hash: Uint8Array, distance: number) => Uint8Array | undefined | Promise<Uint8Array | undefined>

export interface ComputeLocatorOptions {
  headHash: Uint8Array
  headHeader: BlockHeader
  seed: LocatorSeed
  /** Oldest block the store can walk to; appended when a step would go below it. */
  caboose: Uint8Array
  /** History entries wanted (Octez sends 250). */
  size?: number
  getAncestor: GetAncestor
}

/**
 * `Block_locator.compute`: from the head, take `size` seeded steps down the chain. A step that
 * leaves the stored range ends the history with the caboose (unless we are on it); reaching a
 * block that is its own predecessor (genesis) ends it too.
 */
export async function computeLocator (o: ComputeLocatorOptions): Promise<BlockLocator> {
  const size = o.size ?? LOCATOR_DEFAULT_SIZE
  const history: Uint8Array[] = []
  if (size <= 0) return { headHeader: o.headHeader, history }
  const steps = new LocatorStepGenerator(o.seed, o.headHash)
  let current = o.headHash
  while (history.length < size) {
    const distance = steps.next()
    const ancestor = await o.getAncestor(current, distance)
    if (ancestor === undefined) {
      if (!bytesEqual(o.caboose, current)) history.push(o.caboose)
      break
    }
    if (bytesEqual(ancestor, current)) break
    history.push(ancestor)
    current = ancestor
  }
  return { headHeader: o.headHeader, history }
}

/** One segment of a locator to fetch: `step` blocks from `block` (exclusive) down to `predecessor`. */
export interface LocatorStep {
  block: Uint8Array
  predecessor: Uint8Array
  step: number
  /** The segment must be exactly `step` long; only the oldest one may be shorter. */
  strictStep: boolean
}

/** Stops the steps at a save point: used by nodes that do not keep the whole history. */
export interface StepTruncation {
  /** Distance from the head to the save point (head level − save point level). */
  limit: number
  savePoint: Uint8Array
}

/**
 * `Block_locator.to_steps` (and `to_steps_truncate` when `truncate` is given): pairs consecutive
 * entries of `head :: history` with the step the sender drew for them. Returned oldest first, the
 * order in which the bootstrap pipeline fetches them. With truncation, the first step reaching
 * `limit` blocks below the head ends at the save point, non-strict, and no older steps follow.
 */
export function locatorToSteps (seed: LocatorSeed, locator: BlockLocator, truncate?: StepTruncation): LocatorStep[] {
  const headHash = blockHash(locator.headHeader)
  const chain = [headHash, ...locator.history]
  const steps = new LocatorStepGenerator(seed, headHash)
  const out: LocatorStep[] = []
  let sum = 0
  for (let i = 0; i + 1 < chain.length; i++) {
    const step = steps.next()
    sum += step
    if (truncate !== undefined && sum >= truncate.limit) {
      out.push({ block: chain[i], predecessor: truncate.savePoint, step, strictStep: false })
      break
    }
    out.push({ block: chain[i], predecessor: chain[i + 1], step, strictStep: i + 2 < chain.length })
  }
  return out.reverse()
}
