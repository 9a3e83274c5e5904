import { encode, bytesEqual } from '../../encoding/index.ts'
import { shellHeaderCodec, type ShellHeader } from '../../wire/block-header.ts'
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, ed25519Sign, ed25519Verify } from './keys.ts'

/**
 * Demo block headers. The shell header is Octez's, with:
 * - `proto` = 1 (the demo protocol is active from the first block after genesis);
 * - `fitness` = one 8-byte big-endian element holding the level;
 * - `validation_pass` = the protocol's configured number of passes (1..8);
 * - `context` = BLAKE2b-256(predecessor's context ‖ digest of the block's state writes) — see
 *   `stateWritesDigest`; the genesis context is BLAKE2b-256(32 zero bytes ‖ digest of the
 *   bootstrap accounts' writes). Every block thus commits to the whole state history.
 *
 * `protocol_data` is exactly 96 bytes:
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 32 | baker's Ed25519 public key (must be the configured baker key) |
 * | 32 | 64 | Ed25519 signature of `0x11 ‖ binary shell header` by that key |
 *
 * The block hash is, as in Octez, BLAKE2b-256 of the whole header (shell ‖ protocol_data).
 */

export const BLOCK_WATERMARK = 0x11
export const DEMO_PROTOCOL_DATA_BYTES = ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES
export const DEMO_PROTO_LEVEL = 1

export interface DemoProtocolData {
  bakerPublicKey: Uint8Array
  signature: Uint8Array
}

/** Undefined when the bytes are not 96 long. */
export function decodeDemoProtocolData (data: Uint8Array): DemoProtocolData | undefined {
  if (data.length !== DEMO_PROTOCOL_DATA_BYTES) return undefined
  return {
    bakerPublicKey: data.slice(0, ED25519_PUBLIC_KEY_BYTES),
    signature: data.slice(ED25519_PUBLIC_KEY_BYTES)
  }
}

export function blockSignedBytes (shell: ShellHeader): Uint8Array {
  const body = encode(shellHeaderCodec, shell)
  const out = new Uint8Array(1 + body.length)
  out[0] = BLOCK_WATERMARK
  out.set(body, 1)
  return out
}

export function signDemoBlock (shell: ShellHeader, bakerPublicKey: Uint8Array, bakerSecretKey: Uint8Array): Uint8Array {
  const signature = ed25519Sign(blockSignedBytes(shell), bakerSecretKey)
  const out = new Uint8Array(DEMO_PROTOCOL_DATA_BYTES)
  out.set(bakerPublicKey)
  out.set(signature, ED25519_PUBLIC_KEY_BYTES)
  return out
}

export function checkDemoBlockSignature (shell: ShellHeader, data: DemoProtocolData): boolean {
  return ed25519Verify(data.signature, blockSignedBytes(shell), data.bakerPublicKey)
}

export function isBaker (data: DemoProtocolData, bakerPublicKey: Uint8Array): boolean {
  return bytesEqual(data.bakerPublicKey, bakerPublicKey)
}
