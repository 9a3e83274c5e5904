/**
 * The optional native PoW loop (native/pow/pow.c, built by `npm run build:native` into
 * native/pow/build/). When it is absent, or fails to load, or hashes differently from the
 * JavaScript reference on its self-check, the scanner keeps the sodium-native path; nothing else
 * changes, and every stamp a search returns is still checked by `checkProofOfWork` in the parent.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { incrementNonce } from '../crypto/index.ts'
import { leBytesToBigInt, powHash, POW_STAMP_BYTES } from './pow.ts'

/**
 * Where `npm run build:native` puts the addon. The same two levels up from src/identity/ (sources)
 * and dist/identity/ (compiled) both reach the package root.
 */
export const NATIVE_POW_ADDON_PATH = fileURLToPath(new URL('../../native/pow/build/pow.node', import.meta.url))

/**
 * The addon's one function: tries up to `count` stamps from the one in `input` (pk ‖ stamp, 56
 * bytes, advanced in place) against `target` (32 bytes, little-endian); returns the index of the
 * first passing stamp, left in `input`, or -1 with `input` holding the next stamp to try.
 */
export type NativePowScan = (input: Uint8Array, target: Uint8Array, count: number) => number

export type NativePowStatus =
  | { loaded: true, scan: NativePowScan, path: string }
  | { loaded: false, reason: string }

/** The 256-bit target as the 32 little-endian bytes the addon compares digests with. */
export function targetToLeBytes (target: bigint): Uint8Array {
  if (target < 0n || target >= 1n << 256n) throw new RangeError('PoW target must be a 256-bit unsigned integer')
  const out = new Uint8Array(32)
  let t = target
  for (let i = 0; i < 32; i++) {
    out[i] = Number(t & 0xffn)
    t >>= 8n
  }
  return out
}

/**
 * Runs the addon on stamps whose outcome the JavaScript reference (`powHash`, `incrementNonce`)
 * decides. The six stamps carry across two bytes at the fourth, and the smallest digest is the
 * fifth's, so the targets exercise the carry, a digest equal to the target (≤ must accept it), one
 * a unit above it (nothing passes: all 32 bytes are compared), the largest target (the first
 * stamp passes) and another digest. Returns why the addon disagrees, or undefined.
 */
function selfCheck (scan: NativePowScan): string | undefined {
  const publicKey = Uint8Array.from({ length: 32 }, (_, i) => (i * 73 + 16) & 0xff)
  const start = Uint8Array.from({ length: POW_STAMP_BYTES }, (_, i) => (i * 29 + 5) & 0xff)
  start[POW_STAMP_BYTES - 2] = 0xff
  start[POW_STAMP_BYTES - 1] = 0xfd
  const steps = 6
  const stamps: Uint8Array[] = [start]
  for (let i = 1; i <= steps; i++) stamps.push(incrementNonce(stamps[i - 1]))
  const hashes = stamps.slice(0, steps).map((s) => leBytesToBigInt(powHash(publicKey, s)))
  const smallest = hashes.reduce((a, b) => (b < a ? b : a))
  const cases: bigint[] = [smallest, smallest - 1n, (1n << 256n) - 1n, hashes[2]]
  for (const target of cases) {
    const input = new Uint8Array(32 + POW_STAMP_BYTES)
    input.set(publicKey, 0)
    input.set(start, 32)
    const expected = hashes.findIndex((h) => h <= target)
    let got: number
    try {
      got = scan(input, targetToLeBytes(target), steps)
    } catch (e) {
      return `scan threw: ${(e as Error).message}`
    }
    const stampAfter = stamps[expected === -1 ? steps : expected]
    if (got !== expected) return `self-check: stopped at attempt ${got}, the reference at ${expected}`
    if (!input.subarray(32).every((b, i) => b === stampAfter[i])) return 'self-check: the stamp left in the input is not the reference\'s'
    if (!input.subarray(0, 32).every((b, i) => b === publicKey[i])) return 'self-check: the public key was changed'
  }
  return undefined
}

/** Loads the addon at `path` and checks it; never throws. */
export function loadNativePow (path: string = NATIVE_POW_ADDON_PATH): NativePowStatus {
  if (!existsSync(path)) return { loaded: false, reason: `${path} not built (npm run build:native)` }
  let scan: unknown
  try {
    scan = (createRequire(import.meta.url)(path) as { scan?: unknown }).scan
  } catch (e) {
    return { loaded: false, reason: `cannot load ${path}: ${(e as Error).message.split('\n')[0]}` }
  }
  if (typeof scan !== 'function') return { loaded: false, reason: `${path} has no scan function` }
  const problem = selfCheck(scan as NativePowScan)
  if (problem !== undefined) return { loaded: false, reason: `${path} failed its ${problem}` }
  return { loaded: true, scan: scan as NativePowScan, path }
}
