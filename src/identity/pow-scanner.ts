import { createRequire } from 'node:module'
import sodium from 'sodium-native'
import { leBytesToBigInt, POW_STAMP_BYTES } from './pow.ts'
import { loadNativePow, targetToLeBytes, type NativePowScan, type NativePowStatus } from './pow-native.ts'

const PUBLIC_KEY_BYTES = 32
const INPUT_BYTES = PUBLIC_KEY_BYTES + POW_STAMP_BYTES
const DIGEST_BYTES = 32

/**
 * libsodium `crypto_generichash` as sodium-native's native binding exposes it: buffers passed as
 * (ArrayBuffer, offset, length) triples, returning libsodium's status.
 */
type RawGenericHash = (
  out: ArrayBuffer, outOffset: number, outLength: number,
  input: ArrayBuffer, inputOffset: number, inputLength: number,
  key: ArrayBuffer, keyOffset: number, keyLength: number
) => number

const NO_KEY = new ArrayBuffer(0)

/**
 * The PoW search is one 56-byte BLAKE2b per attempt, so the cost of reaching libsodium dominates.
 * sodium-native's public `crypto_generichash` validates its arguments in JavaScript and reads
 * `.buffer/.byteOffset/.byteLength` on every call; calling the native function underneath with
 * fixed, known-good arguments saves about a fifth of each attempt. It is an internal of
 * sodium-native, so it is used only if it exists and hashes a probe exactly like the public call;
 * otherwise the scanner falls back to the public function.
 */
function loadRawGenericHash (): RawGenericHash | undefined {
  try {
    const binding = createRequire(import.meta.url)('sodium-native/binding.js') as { crypto_generichash?: unknown }
    const raw = binding.crypto_generichash
    if (typeof raw !== 'function') return undefined
    const probe = new Uint8Array(INPUT_BYTES)
    sodium.randombytes_buf(Buffer.from(probe.buffer))
    const expected = Buffer.alloc(DIGEST_BYTES)
    sodium.crypto_generichash(expected, Buffer.from(probe))
    const out = new Uint8Array(DIGEST_BYTES)
    const status = (raw as RawGenericHash)(out.buffer, 0, DIGEST_BYTES, probe.buffer, 0, INPUT_BYTES, NO_KEY, 0, 0)
    return status === 0 && expected.equals(out) ? raw as RawGenericHash : undefined
  } catch {
    return undefined
  }
}

const rawGenericHash = loadRawGenericHash()

/**
 * The native loop (native/pow, built by `npm run build:native`) when it is there and passes its
 * self-check: it runs whole batches of attempts in C, so JavaScript crosses into native code once
 * per batch instead of once per hash. Loaded once per thread.
 */
export const NATIVE_POW = loadNativePow()

/** How a scanner reaches libsodium. */
export type PowEngine = 'native addon' | 'sodium-native'

/** The engine a scanner uses unless told otherwise. */
export const DEFAULT_POW_ENGINE: PowEngine = NATIVE_POW.loaded ? 'native addon' : 'sodium-native'

/** Which path to libsodium the default scanner uses (reported by the benchmark). */
export const POW_HASH_PATH: 'native addon (native/pow)' | 'sodium-native binding' | 'sodium-native crypto_generichash' =
  NATIVE_POW.loaded
    ? 'native addon (native/pow)'
    : rawGenericHash === undefined ? 'sodium-native crypto_generichash' : 'sodium-native binding'

/**
 * Attempts per call into the native loop (about 10 ms of work): the crossing is negligible, and a
 * worker being terminated, which can only stop between calls, stops promptly.
 */
const NATIVE_BATCH = 1 << 16

export class PowEngineUnavailableError extends Error {
  override readonly name = 'PowEngineUnavailableError'
}

/**
 * Walks stamps from a start value, incrementing as Octez's `Nonce.increment` (the 24 bytes as one
 * big-endian integer), and stops at the first whose BLAKE2b-256(pk ‖ stamp), read little-endian,
 * is ≤ the target. pk ‖ stamp lives in one reused 56-byte buffer and the digest in another, so an
 * attempt allocates nothing.
 *
 * The little-endian integer's most significant bytes are the digest's last ones, so most digests
 * are rejected by comparing byte 31 with the target's top byte; only digests whose top 32 bits are
 * ≤ the target's go through the exact BigInt comparison. The native engine does the same walk
 * and the same comparison (byte by byte from the most significant) in C, batch by batch.
 */
export class PowScanner {
  /** pk ‖ stamp; the stamp part is the current candidate. */
  readonly input: Uint8Array
  readonly digest: Uint8Array
  readonly target: bigint
  /** Top 32 bits and top 8 bits of the 256-bit target. */
  private readonly targetTop32: number
  private readonly targetTop8: number
  /** Set once `scan` has stopped on a passing stamp. */
  found = false
  readonly engine: PowEngine
  /** The native loop and the target as its 32 little-endian bytes, with the native engine. */
  private readonly nativeScan: NativePowScan | undefined
  private readonly targetBytes: Uint8Array

  /**
   * `native` is the addon the native engine runs: the one this thread loaded unless another
   * (e.g. one just built into a temporary directory) is given.
   */
  constructor (publicKey: Uint8Array, startStamp: Uint8Array, target: bigint, engine: PowEngine = DEFAULT_POW_ENGINE, native: NativePowStatus = NATIVE_POW) {
    if (publicKey.length !== PUBLIC_KEY_BYTES) throw new RangeError(`public key must be ${PUBLIC_KEY_BYTES} bytes`)
    if (startStamp.length !== POW_STAMP_BYTES) throw new RangeError(`stamp must be ${POW_STAMP_BYTES} bytes`)
    if (target < 0n || target >= 1n << 256n) throw new RangeError('PoW target must be a 256-bit unsigned integer')
    // Own ArrayBuffers at offset 0, so the raw binding can be handed the buffers themselves.
    this.input = new Uint8Array(new ArrayBuffer(INPUT_BYTES))
    this.input.set(publicKey, 0)
    this.input.set(startStamp, PUBLIC_KEY_BYTES)
    this.digest = new Uint8Array(new ArrayBuffer(DIGEST_BYTES))
    this.target = target
    this.targetTop32 = Number(target >> 224n)
    this.targetTop8 = this.targetTop32 >>> 24
    this.targetBytes = targetToLeBytes(target)
    if (engine === 'native addon' && !native.loaded) {
      throw new PowEngineUnavailableError(`the native PoW addon is not available: ${native.reason}`)
    }
    this.engine = engine
    this.nativeScan = engine === 'native addon' && native.loaded ? native.scan : undefined
  }

  /** A copy of the current stamp (the passing one once `found`). */
  get stamp (): Uint8Array {
    return this.input.slice(PUBLIC_KEY_BYTES)
  }

  /**
   * Tries up to `count` stamps, starting with the current one. Returns the number of stamps tried;
   * when one passes, `found` becomes true and the input keeps that stamp (the count includes it).
   */
  scan (count: number): number {
    if (this.found) return 0
    if (this.nativeScan !== undefined) return this.scanNative(count)
    const input = this.input
    const digest = this.digest
    const inputBuffer = input.buffer as ArrayBuffer
    const digestBuffer = digest.buffer as ArrayBuffer
    const raw = rawGenericHash
    const digestView = Buffer.from(digestBuffer)
    const inputView = Buffer.from(inputBuffer)
    const top8 = this.targetTop8
    for (let i = 0; i < count; i++) {
      if (raw !== undefined) raw(digestBuffer, 0, DIGEST_BYTES, inputBuffer, 0, INPUT_BYTES, NO_KEY, 0, 0)
      else sodium.crypto_generichash(digestView, inputView)
      if (digest[31] <= top8 && this.isCandidateAccepted()) {
        this.found = true
        return i + 1
      }
      // Nonce.increment: +1 on the last byte, carrying leftwards only on the 1-in-256 overflow.
      const last = input[INPUT_BYTES - 1] + 1
      if (last < 256) input[INPUT_BYTES - 1] = last
      else carryIncrement(input)
    }
    return count
  }

  private scanNative (count: number): number {
    const scan = this.nativeScan as NativePowScan
    let tried = 0
    while (tried < count) {
      const batch = Math.min(NATIVE_BATCH, count - tried)
      const index = scan(this.input, this.targetBytes, batch)
      if (index >= 0) {
        this.found = true
        return tried + index + 1
      }
      tried += batch
    }
    return count
  }

  private isCandidateAccepted (): boolean {
    const d = this.digest
    const top32 = ((d[31] << 24) | (d[30] << 16) | (d[29] << 8) | d[28]) >>> 0
    if (top32 > this.targetTop32) return false
    return leBytesToBigInt(d) <= this.target
  }
}

function carryIncrement (input: Uint8Array): void {
  for (let i = INPUT_BYTES - 1; i >= PUBLIC_KEY_BYTES; i--) {
    const v = (input[i] + 1) & 0xff
    input[i] = v
    if (v !== 0) return
  }
}
