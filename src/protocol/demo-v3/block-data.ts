import { concatBytes, Reader, Writer, DecodeError, encode } from '../../encoding/index.ts'
import { shellHeaderCodec, type ShellHeader } from '../../wire/block-header.ts'
import type { Fitness } from '../../wire/fitness.ts'
import { ed25519Sign, ed25519Verify } from '../demo/keys.ts'
import { SIGNATURE_BYTES } from './encoding.ts'
import { WATERMARK } from './sign.ts'

/**
 * Demo v3 block protocol data, Emmy*'s (`Block_header_repr.contents` of protocols 005–011):
 *
 * | field | size |
 * | --- | --- |
 * | priority | uint16 |
 * | proof_of_work_nonce | 8 bytes (carried, not checked: the devnet has no PoW threshold) |
 * | seed_nonce_hash | option: `0x00`, or `0xFF ‖ 32 bytes` (BLAKE2b-256 of the baker's nonce) |
 * | next_protocol | option: `0x00`, or `0xFF ‖ 32-byte protocol hash` (tzp2p: the activation) |
 * | signature | 64 bytes: Ed25519 of `0x01 ‖ shell header ‖ the fields above` |
 *
 * The baker is not named: as in Tezos, it is the delegate holding `priority` at the block's level,
 * and the signature must be its key's.
 */
export interface BlockData {
  priority: number
  powNonce: Uint8Array
  seedNonceHash?: Uint8Array
  nextProtocol?: Uint8Array
  signature: Uint8Array
}

export type UnsignedBlockData = Omit<BlockData, 'signature'>

function writeUnsigned (w: Writer, d: UnsignedBlockData): void {
  w.uint16(d.priority, 'block.priority').fixed(d.powNonce, 8, 'block.proof_of_work_nonce')
  w.optional(d.seedNonceHash, (w, h) => { w.fixed(h, 32, 'block.seed_nonce_hash') })
  w.optional(d.nextProtocol, (w, h) => { w.fixed(h, 32, 'block.next_protocol') })
}

/** `DecodeError` unless the bytes are exactly one protocol data record. */
export function decodeBlockData (bytes: Uint8Array): BlockData {
  const r = new Reader(bytes)
  const priority = r.uint16('block.priority')
  const powNonce = r.fixed(8, 'block.proof_of_work_nonce')
  const seedNonceHash = r.optional('block.seed_nonce_hash', r => r.fixed(32, 'block.seed_nonce_hash'))
  const nextProtocol = r.optional('block.next_protocol', r => r.fixed(32, 'block.next_protocol'))
  const signature = r.fixed(SIGNATURE_BYTES, 'block.signature')
  r.expectEnd('demo_v3.block_protocol_data')
  return {
    priority,
    powNonce,
    ...(seedNonceHash === undefined ? {} : { seedNonceHash }),
    ...(nextProtocol === undefined ? {} : { nextProtocol }),
    signature
  }
}

export function encodeBlockData (d: BlockData): Uint8Array {
  const w = new Writer(128)
  writeUnsigned(w, d)
  w.fixed(d.signature, SIGNATURE_BYTES, 'block.signature')
  return w.finish()
}

export function blockSignedBytes (shell: ShellHeader, unsigned: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(WATERMARK.block), encode(shellHeaderCodec, shell), unsigned)
}

export function signBlockData (shell: ShellHeader, d: UnsignedBlockData, secretKey: Uint8Array): Uint8Array {
  const w = new Writer(128)
  writeUnsigned(w, d)
  const unsigned = w.finish()
  return concatBytes(unsigned, ed25519Sign(blockSignedBytes(shell, unsigned), secretKey))
}

export function checkBlockSignature (shell: ShellHeader, protocolData: Uint8Array, publicKey: Uint8Array): boolean {
  if (protocolData.length < SIGNATURE_BYTES) return false
  const unsigned = protocolData.subarray(0, protocolData.length - SIGNATURE_BYTES)
  return ed25519Verify(protocolData.subarray(protocolData.length - SIGNATURE_BYTES), blockSignedBytes(shell, unsigned), publicKey)
}

/**
 * Demo v3 fitness: two elements, the level as 8 bytes big-endian, then the endorsing power the
 * block carries (slots of endorsements of its predecessor) as 4 bytes big-endian. Octez compares
 * fitness lists by length, then element by element, each element by length then bytewise
 * (`src/lib_base/fitness.ml`; `src/wire/fitness.ts` here): with fixed widths, a higher level wins,
 * and at one level the block with more endorsements wins. The shell's "fitness increases" check
 * holds since the level does. Demo v1/v2 fitness has one element, so the first v3 block after an
 * activation is fitter than its predecessor. (Emmy+ and Emmy* counted blocks only; Emmy counted
 * endorsements too: this is the ordering issue 17 asks for.)
 */
export function v3Fitness (level: number, endorsingPower: number): Fitness {
  const l = new Uint8Array(8)
  new DataView(l.buffer).setBigInt64(0, BigInt(level))
  const e = new Uint8Array(4)
  new DataView(e.buffer).setUint32(0, endorsingPower)
  return [l, e]
}

/** The (level, endorsing power) of a demo v3 fitness; `DecodeError` for any other shape. */
export function decodeV3Fitness (f: Fitness): { level: number, endorsingPower: number } {
  if (f.length !== 2 || f[0].length !== 8 || f[1].length !== 4) {
    throw new DecodeError('demo_v3.fitness', 0, `expected [8-byte level, 4-byte endorsing power], got ${f.length} element(s) of ${f.map(e => e.length).join(', ')} byte(s)`)
  }
  const level = new DataView(f[0].buffer, f[0].byteOffset, 8).getBigInt64(0)
  const power = new DataView(f[1].buffer, f[1].byteOffset, 4).getUint32(0)
  return { level: Number(level), endorsingPower: power }
}
