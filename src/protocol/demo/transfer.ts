import { Writer, DecodeError } from '../../encoding/index.ts'
import {
  ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, PUBLIC_KEY_HASH_BYTES, ed25519Sign, ed25519Verify, publicKeyHash
} from './keys.ts'

/**
 * The demo protocol's one operation: a signed transfer between Ed25519 accounts.
 *
 * An operation on the wire is Octez's `branch (32 B block hash) ‖ data`; the demo `data` is
 * exactly 161 bytes:
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 1 | tag `0x01` (transfer; any other tag is malformed) |
 * | 1 | 20 | source: public key hash (BLAKE2b-160 of the public key, b58 `tz1…`) |
 * | 21 | 32 | source Ed25519 public key (must hash to the source) |
 * | 53 | 20 | destination public key hash |
 * | 73 | 8 | amount, int64 big-endian, > 0 |
 * | 81 | 8 | fee, int64 big-endian, ≥ 0 (credited to the block's baker) |
 * | 89 | 8 | counter, int64 big-endian: exactly the source's previous counter + 1 |
 * | 97 | 64 | Ed25519 signature by the source key |
 *
 * The signature covers `0x03 ‖ branch ‖ data[0..97)` (the watermark byte 0x03 is the one Tezos
 * uses for operations, so a transfer signature can never pass as a block signature, which uses
 * 0x11). Signing the branch binds the operation to one chain; the counter makes every transfer
 * usable once.
 */

export const TRANSFER_TAG = 0x01
export const OPERATION_WATERMARK = 0x03
export const TRANSFER_UNSIGNED_BYTES = 1 + PUBLIC_KEY_HASH_BYTES + ED25519_PUBLIC_KEY_BYTES + PUBLIC_KEY_HASH_BYTES + 8 + 8 + 8
export const TRANSFER_BYTES = TRANSFER_UNSIGNED_BYTES + ED25519_SIGNATURE_BYTES
/** Where the source public key sits in the data (after the tag and the source hash). */
export const TRANSFER_PUBLIC_KEY_OFFSET = 1 + PUBLIC_KEY_HASH_BYTES

export interface Transfer {
  source: Uint8Array
  publicKey: Uint8Array
  destination: Uint8Array
  amount: bigint
  fee: bigint
  counter: bigint
  signature: Uint8Array
}

export type UnsignedTransfer = Omit<Transfer, 'signature'>

function writeUnsigned (w: Writer, t: UnsignedTransfer): void {
  w.uint8(TRANSFER_TAG)
  w.fixed(t.source, PUBLIC_KEY_HASH_BYTES, 'transfer.source')
  w.fixed(t.publicKey, ED25519_PUBLIC_KEY_BYTES, 'transfer.public_key')
  w.fixed(t.destination, PUBLIC_KEY_HASH_BYTES, 'transfer.destination')
  w.int64(t.amount, 'transfer.amount')
  w.int64(t.fee, 'transfer.fee')
  w.int64(t.counter, 'transfer.counter')
}

export function encodeTransfer (t: Transfer): Uint8Array {
  const w = new Writer(TRANSFER_BYTES)
  writeUnsigned(w, t)
  w.fixed(t.signature, ED25519_SIGNATURE_BYTES, 'transfer.signature')
  return w.finish()
}

/**
 * Decodes operation data; anything but exactly one well-formed transfer is a `DecodeError`. The
 * byte fields are views into `data` (operations are never changed in place once decoded; the
 * protocol's signature cache relies on the same), so a decode allocates no byte buffers.
 */
export function decodeTransfer (data: Uint8Array): Transfer {
  if (data.length !== TRANSFER_BYTES) throw new DecodeError('demo.transfer', 0, `a transfer is ${TRANSFER_BYTES} bytes, got ${data.length}`)
  const tag = data[0]
  if (tag !== TRANSFER_TAG) throw new DecodeError('demo.transfer.tag', 0, `unknown operation tag 0x${tag.toString(16).padStart(2, '0')}`)
  const destinationAt = TRANSFER_PUBLIC_KEY_OFFSET + ED25519_PUBLIC_KEY_BYTES
  const amountAt = destinationAt + PUBLIC_KEY_HASH_BYTES
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return {
    source: data.subarray(1, TRANSFER_PUBLIC_KEY_OFFSET),
    publicKey: data.subarray(TRANSFER_PUBLIC_KEY_OFFSET, destinationAt),
    destination: data.subarray(destinationAt, amountAt),
    amount: view.getBigInt64(amountAt),
    fee: view.getBigInt64(amountAt + 8),
    counter: view.getBigInt64(amountAt + 16),
    signature: data.subarray(TRANSFER_UNSIGNED_BYTES, TRANSFER_BYTES)
  }
}

/** The bytes a transfer signature covers: watermark ‖ branch ‖ unsigned data. */
export function transferSignedBytes (branch: Uint8Array, unsignedData: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + branch.length + unsignedData.length)
  out[0] = OPERATION_WATERMARK
  out.set(branch, 1)
  out.set(unsignedData, 1 + branch.length)
  return out
}

/** Builds and signs a transfer's data; `secretKey` is libsodium's 64-byte key of the source. */
export function signTransfer (branch: Uint8Array, t: Omit<UnsignedTransfer, 'source'>, secretKey: Uint8Array): Uint8Array {
  const unsigned: UnsignedTransfer = { ...t, source: publicKeyHash(t.publicKey) }
  const w = new Writer(TRANSFER_BYTES)
  writeUnsigned(w, unsigned)
  const body = w.finish()
  const signature = ed25519Sign(transferSignedBytes(branch, body), secretKey)
  const out = new Uint8Array(TRANSFER_BYTES)
  out.set(body)
  out.set(signature, TRANSFER_UNSIGNED_BYTES)
  return out
}

/** Checks the signature of raw transfer data (already known to be `TRANSFER_BYTES` long). */
export function checkTransferSignature (branch: Uint8Array, data: Uint8Array, t: Transfer): boolean {
  return ed25519Verify(t.signature, transferSignedBytes(branch, data.subarray(0, TRANSFER_UNSIGNED_BYTES)), t.publicKey)
}
