import { blake2b256 } from '../crypto/index.ts'

/** Length of a proof-of-work stamp (a NaCl nonce). */
export const POW_STAMP_BYTES = 24

/** Octez's `p2p.expected-proof-of-work` default on public networks. */
export const DEFAULT_EXPECTED_POW = 26

export class InvalidDifficultyError extends RangeError {
  override readonly name = 'InvalidDifficultyError'
  constructor (difficulty: number) {
    super(`proof-of-work difficulty must be a number between 0 and 256, got ${difficulty}`)
  }
}

/**
 * `Crypto_box.make_pow_target`, bit-exact: a 256-bit target whose top `floor(d)` bits are zero,
 * with the fractional part of `d` shaping the 54-bit mantissa below them. Octez computes the
 * mantissa with an OCaml float `2. ** (54. -. frac)` truncated to Int64; JavaScript doubles are
 * the same IEEE-754 binary64, so `Math.trunc(2 ** (54 - frac))` gives the same integer.
 */
export function makePowTarget (difficulty: number): bigint {
  if (!(difficulty >= 0 && difficulty <= 256)) throw new InvalidDifficultyError(difficulty)
  const shift = Math.trunc(difficulty)
  const frac = difficulty - shift
  const m = frac === 0 ? (1n << 54n) - 1n : BigInt(Math.trunc(2 ** (54 - frac)))
  if (shift < 202) {
    const s = BigInt(202 - shift)
    return (m << s) | ((1n << s) - 1n)
  }
  return m >> BigInt(shift - 202)
}

/** Reads bytes as an unsigned little-endian integer (OCaml `Z.of_bits`). */
export function leBytesToBigInt (b: Uint8Array): bigint {
  let x = 0n
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i])
  return x
}

/** BLAKE2b-256(public key ‖ stamp): the value compared against the target. */
export function powHash (publicKey: Uint8Array, stamp: Uint8Array): Uint8Array {
  return blake2b256([publicKey, stamp])
}

/** Octez `check_proof_of_work`: accept iff LE(BLAKE2b-256(pk ‖ stamp)) ≤ target. */
export function checkProofOfWork (publicKey: Uint8Array, stamp: Uint8Array, target: bigint): boolean {
  return leBytesToBigInt(powHash(publicKey, stamp)) <= target
}

/**
 * The largest difficulty a stamp satisfies, rounded to `decimals` places (how identity files are
 * reported). Binary search, two digits finer than asked, over the monotone `makePowTarget`.
 */
export function powDifficultyOf (publicKey: Uint8Array, stamp: Uint8Array, decimals = 2): number {
  const h = leBytesToBigInt(powHash(publicKey, stamp))
  const scale = 10 ** (decimals + 2)
  let lo = 0
  let hi = 256 * scale
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (h <= makePowTarget(mid / scale)) lo = mid
    else hi = mid - 1
  }
  return Math.round(lo / 100) / 10 ** decimals
}

/**
 * A difficulty as tzp2p prints it everywhere: two decimals (`26.00`, `2.69`), as Octez prints PoW
 * levels (`%.2f`, src/bin_node/identity_file.ml). Given `powDifficultyFloor`'s value, the figure
 * is never above what the stamp reaches.
 */
export function formatPowDifficulty (difficulty: number): string {
  return difficulty.toFixed(2)
}

/**
 * The largest multiple of 10^-decimals that the stamp satisfies (rounded down, unlike
 * `powDifficultyOf`), so that a stamp below an expected difficulty is never reported as reaching it.
 */
export function powDifficultyFloor (publicKey: Uint8Array, stamp: Uint8Array, decimals = 2): number {
  const h = leBytesToBigInt(powHash(publicKey, stamp))
  const scale = 10 ** decimals
  let lo = 0
  let hi = 256 * scale
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (h <= makePowTarget(mid / scale)) lo = mid
    else hi = mid - 1
  }
  return lo / scale
}

/**
 * Mean number of stamps to try before one passes: the hash is uniform over 2^256 values and
 * `target + 1` of them pass. About 2^d for an integer difficulty d.
 */
export function expectedPowAttempts (target: bigint): number {
  return 2 ** 256 / (Number(target) + 1)
}
