import { Writer, bytesEqual } from '../../encoding/index.ts'
import { shellHeaderCodec, type ShellHeader } from '../../wire/block-header.ts'
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify } from './keys.ts'

/**
 * Demo block headers. The shell header is Octez's, with:
 * - `proto` = the protocol level the shell assigns (1 from the first block after genesis, one more
 *   after each activation);
 * - `fitness` = one 8-byte big-endian element holding the level;
 * - `validation_pass` = the protocol's configured number of passes (1..8);
 * - `context` = BLAKE2b-256(predecessor's context ‖ digest of the block's state writes) — see
 *   `stateWritesDigest`; the genesis context is BLAKE2b-256(32 zero bytes ‖ digest of the
 *   bootstrap accounts' writes). Every block thus commits to the whole state history.
 *
 * `protocol_data` is 96 bytes, or 128 for a block that activates a protocol:
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 32 | baker's Ed25519 public key (must be the configured baker key) |
 * | 32 | 64 | Ed25519 signature of `0x11 ‖ binary shell header [‖ next protocol hash]` by that key |
 * | 96 | 32 | (optional) hash of the protocol the following blocks run (Octez `next_protocol`) |
 *
 * The activation is the baker's decision and is signed with the header: the one configured baker
 * is the demo chain's authority, so every node agrees on where the switch happens.
 * The block hash is, as in Octez, BLAKE2b-256 of the whole header (shell ‖ protocol_data).
 */

export const BLOCK_WATERMARK = 0x11
export const DEMO_PROTOCOL_DATA_BYTES = ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES
export const DEMO_ACTIVATION_BYTES = 32

export interface DemoProtocolData {
  bakerPublicKey: Uint8Array
  signature: Uint8Array
  /** Raw protocol hash the block activates. */
  activation?: Uint8Array
}

/**
 * Undefined when the bytes are neither 96 nor 128 long. The fields are views into `data`
 * (headers are never changed in place once decoded): it is decoded up to three times per block
 * applied, so copies showed in the allocations per block.
 */
export function decodeDemoProtocolData (data: Uint8Array): DemoProtocolData | undefined {
  if (data.length !== DEMO_PROTOCOL_DATA_BYTES && data.length !== DEMO_PROTOCOL_DATA_BYTES + DEMO_ACTIVATION_BYTES) return undefined
  const out: DemoProtocolData = {
    bakerPublicKey: data.subarray(0, ED25519_PUBLIC_KEY_BYTES),
    signature: data.subarray(ED25519_PUBLIC_KEY_BYTES, DEMO_PROTOCOL_DATA_BYTES)
  }
  if (data.length > DEMO_PROTOCOL_DATA_BYTES) out.activation = data.subarray(DEMO_PROTOCOL_DATA_BYTES)
  return out
}

/** `0x11 ‖ binary shell header [‖ next protocol hash]`, written in one buffer (once per block checked). */
export function blockSignedBytes (shell: ShellHeader, activation?: Uint8Array): Uint8Array {
  const w = new Writer()
  w.uint8(BLOCK_WATERMARK)
  shellHeaderCodec.encode(w, shell)
  if (activation !== undefined) w.raw(activation)
  return w.finish()
}

export function signDemoBlock (shell: ShellHeader, bakerPublicKey: Uint8Array, bakerSecretKey: Uint8Array, activation?: Uint8Array): Uint8Array {
  const signature = ed25519Sign(blockSignedBytes(shell, activation), bakerSecretKey)
  const out = new Uint8Array(DEMO_PROTOCOL_DATA_BYTES + (activation === undefined ? 0 : DEMO_ACTIVATION_BYTES))
  out.set(bakerPublicKey)
  out.set(signature, ED25519_PUBLIC_KEY_BYTES)
  if (activation !== undefined) out.set(activation, DEMO_PROTOCOL_DATA_BYTES)
  return out
}

export function checkDemoBlockSignature (shell: ShellHeader, data: DemoProtocolData): boolean {
  return ed25519Verify(data.signature, blockSignedBytes(shell, data.activation), data.bakerPublicKey)
}

export function isBaker (data: DemoProtocolData, bakerPublicKey: Uint8Array): boolean {
  return bytesEqual(data.bakerPublicKey, bakerPublicKey)
}
