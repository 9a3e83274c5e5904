import { EncodeError, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { blake2b256 } from '../crypto/index.ts'
import { HASH_BYTES, readHash, writeHash } from './hashes.ts'

/**
 * Octez's `Generic_Merkle_tree` over BLAKE2b-256 (`src/lib_crypto/blake2B.ml`), used twice: an operation list
 * hash (`Lo…`) is the root over one validation pass's operation hashes, and a block's
 * `operations_hash` (`LLo…`) is the root over the per-pass list hashes.
 *
 * Leaves are re-hashed (`leaf x = H(x)`), inner nodes are `H(left ‖ right)`, the empty list hashes
 * to `H("")`. A list of n ≥ 2 elements is padded with copies of its last leaf up to the next power
 * of two — which differs from Bitcoin's "repeat the last node of each level" as soon as a level
 * other than the leaves is odd (6 leaves: N(N(N01,N23),N(N45,N55)), not N(…,N(N45,N45))).
 */

function leaf (element: Uint8Array): Uint8Array {
  return blake2b256(element)
}

function node (left: Uint8Array, right: Uint8Array): Uint8Array {
  return blake2b256([left, right])
}

/**
 * All levels of the padded tree, leaves first. Instead of materialising the padding, each level
 * of odd length is completed with that level's pad: the hash of a full subtree of last-leaf
 * copies (`pad₀ = leaf(last)`, `padₖ₊₁ = node(padₖ, padₖ)`). Pads are carried up only when an odd
 * level needs one: a list whose levels are all even (1, 2, 4 … elements) hashes no pad at all.
 */
function levels (elements: readonly Uint8Array[]): Uint8Array[][] {
  let level = elements.map(leaf)
  let pad = level[level.length - 1]
  let padDepth = 0
  const out = [level]
  for (let depth = 0; level.length > 1; depth++) {
    if (level.length % 2 === 1) {
      for (; padDepth < depth; padDepth++) pad = node(pad, pad)
      level = [...level, pad]
    }
    out[out.length - 1] = level
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) next.push(node(level[i], level[i + 1]))
    level = next
    out.push(level)
  }
  return out
}

/** The Merkle root of a list of 32-byte hashes, exactly as Octez computes it. */
export function merkleRoot (elements: readonly Uint8Array[]): Uint8Array {
  if (elements.length === 0) return blake2b256(new Uint8Array(0))
  const all = levels(elements)
  return all[all.length - 1][0]
}

/** `Operation_list_hash.compute`: the `Lo…` root over one pass's operation hashes. */
export function operationListHash (operationHashes: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(operationHashes)
}

/** `Operation_list_list_hash.compute`: the `LLo…` root over the per-pass list hashes. */
export function operationListListHash (operationListHashes: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(operationListHashes)
}

/** A block's `operations_hash` from its operation hashes, one array per validation pass. */
export function operationsHashOfPasses (operationHashesPerPass: readonly (readonly Uint8Array[])[]): Uint8Array {
  return operationListListHash(operationHashesPerPass.map(operationListHash))
}

/**
 * One level of a Merkle path, from the root down. `Left` (Octez `Left (path, right)`): the element
 * is in the left subtree and `sibling` is the right subtree's hash; `Right` is the mirror case.
 */
export interface MerkleStep {
  side: 'Left' | 'Right'
  sibling: Uint8Array
}

/** A path from the root to one element; `[]` is Octez's `Op` (a one-element tree). */
export type MerklePath = MerkleStep[]

/** `compute_path`: the path proving that `elements[index]` is under `merkleRoot(elements)`. */
export function merklePath (elements: readonly Uint8Array[], index: number): MerklePath {
  if (!Number.isInteger(index) || index < 0 || index >= elements.length) {
    throw new RangeError(`Merkle path index ${index} outside a list of ${elements.length}`)
  }
  const all = levels(elements)
  const upward: MerkleStep[] = []
  let at = index
  for (let depth = 0; depth < all.length - 1; depth++) {
    const level = all[depth]
    upward.push(at % 2 === 0 ? { side: 'Left', sibling: level[at + 1] } : { side: 'Right', sibling: level[at - 1] })
    at = Math.floor(at / 2)
  }
  return upward.reverse()
}

/**
 * `check_path`: the root a path leads to from `element`, and the element's position in the
 * (padded) list. A receiver accepts operations for pass i only if the root is the header's
 * `operations_hash` and the position is i.
 */
export function checkMerklePath (path: MerklePath, element: Uint8Array): { root: Uint8Array, position: number } {
  let hash = leaf(element)
  let size = 1
  let position = 0
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i]
    if (step.side === 'Left') {
      hash = node(hash, step.sibling)
    } else {
      hash = node(step.sibling, hash)
      position += size
    }
    size *= 2
  }
  return { root: hash, position }
}

const LEFT_TAG = 0xf0
const RIGHT_TAG = 0x0f
const OP_TAG = 0x00

/** Deepest path the generic codec accepts: 2^32 elements is far beyond any real list. */
export const MERKLE_PATH_MAX_DEPTH = 32

/**
 * Octez's `path_encoding` bounded to `maxBytes` (`check_size`). The wire form nests: `Left` is
 * `F0 ‖ subpath ‖ right`, `Right` is `0F ‖ left ‖ subpath`, `Op` is `00`; so the siblings of Left
 * steps come after the inner path, innermost first. Both directions are iterative: an adversarial
 * path cannot exhaust the stack.
 */
export function merklePathCodec (maxBytes: number, name = 'merkle_path'): Codec<MerklePath> {
  const maxDepth = Math.min(MERKLE_PATH_MAX_DEPTH, Math.floor((maxBytes - 1) / (HASH_BYTES + 1)))
  return {
    name,
    maxSize: maxBytes,
    encode (w: Writer, path: MerklePath): void {
      if (path.length > maxDepth) throw new EncodeError(name, `depth ${path.length} exceeds ${maxDepth}`)
      const deferred: Uint8Array[] = []
      for (const step of path) {
        if (step.side === 'Left') {
          w.uint8(LEFT_TAG)
          deferred.push(step.sibling)
        } else {
          w.uint8(RIGHT_TAG)
          writeHash(w, step.sibling, `${name}.left`)
        }
      }
      w.uint8(OP_TAG)
      for (let i = deferred.length - 1; i >= 0; i--) writeHash(w, deferred[i], `${name}.right`)
    },
    decode (r: Reader): MerklePath {
      const path: MerklePath = []
      const pendingLeft: MerkleStep[] = []
      for (;;) {
        const at = r.offset
        const tag = r.uint8(`${name}.tag`)
        if (tag === OP_TAG) break
        if (path.length >= maxDepth) r.fail(name, `deeper than ${maxDepth} level(s) (bound ${maxBytes} bytes)`, at)
        if (tag === LEFT_TAG) {
          const step: MerkleStep = { side: 'Left', sibling: new Uint8Array(0) }
          path.push(step)
          pendingLeft.push(step)
        } else if (tag === RIGHT_TAG) {
          path.push({ side: 'Right', sibling: readHash(r, `${name}.left`) })
        } else {
          r.fail(`${name}.tag`, `unknown tag 0x${tag.toString(16).padStart(2, '0')}`, at)
        }
      }
      for (let i = pendingLeft.length - 1; i >= 0; i--) pendingLeft[i].sibling = readHash(r, `${name}.right`)
      return path
    }
  }
}

/**
 * `Operation_list_list_hash.bounded_path_encoding ~max_length:8`: at most 8 validation passes,
 * so `log2 8 · 33 + 1 = 100` bytes.
 */
export const OPERATIONS_HASH_PATH_MAX_BYTES = 100
export const operationsHashPathCodec: Codec<MerklePath> =
  merklePathCodec(OPERATIONS_HASH_PATH_MAX_BYTES, 'operation_list_list_hash.path')

/** Bytes of `path` in its binary encoding (a tag per step and for the end, a hash per step). */
export function merklePathBytes (path: MerklePath): number {
  return 1 + (HASH_BYTES + 1) * path.length
}

/**
 * Writes `path` at `at` in `out` exactly as `operationsHashPathCodec` encodes it (a caller writing a
 * whole message into one buffer needs no writer of its own for it); returns the offset after it.
 */
export function writeOperationsHashPath (out: Uint8Array, at: number, path: MerklePath): number {
  const maxDepth = Math.min(MERKLE_PATH_MAX_DEPTH, Math.floor((OPERATIONS_HASH_PATH_MAX_BYTES - 1) / (HASH_BYTES + 1)))
  if (path.length > maxDepth) throw new EncodeError('operation_list_list_hash.path', `depth ${path.length} exceeds ${maxDepth}`)
  // As the codec: a Left step's tag now and its sibling after the end tag, innermost first.
  for (const step of path) {
    if (step.sibling.length !== HASH_BYTES) throw new EncodeError('operation_list_list_hash.path', `a sibling of ${step.sibling.length} bytes, not ${HASH_BYTES}`)
    if (step.side === 'Left') {
      out[at++] = LEFT_TAG
    } else {
      out[at++] = RIGHT_TAG
      out.set(step.sibling, at)
      at += HASH_BYTES
    }
  }
  out[at++] = OP_TAG
  for (let i = path.length - 1; i >= 0; i--) {
    if (path[i].side === 'Left') {
      out.set(path[i].sibling, at)
      at += HASH_BYTES
    }
  }
  return at
}
