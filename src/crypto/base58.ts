import { createHash } from 'node:crypto'
import { createBase58check } from '@scure/base'
import { DecodeError, bytesEqual } from '../encoding/index.ts'

function sha256 (data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

const b58check = createBase58check(sha256)

/**
 * base58check prefixes of Octez's `Base58.Prefix` (`src/lib_crypto/base58.ml`) for the objects tzp2p handles.
 * `size` is the payload length; `starts` and `length` describe the encoded string.
 */
export const PREFIXES = {
  blockHash: { bytes: [0x01, 0x34], size: 32, starts: 'B', length: 51 },
  operationHash: { bytes: [0x05, 0x74], size: 32, starts: 'o', length: 51 },
  operationListHash: { bytes: [0x85, 0xe9], size: 32, starts: 'Lo', length: 52 },
  operationListListHash: { bytes: [0x1d, 0x9f, 0x6d], size: 32, starts: 'LLo', length: 53 },
  protocolHash: { bytes: [0x02, 0xaa], size: 32, starts: 'P', length: 51 },
  contextHash: { bytes: [0x4f, 0xc7], size: 32, starts: 'Co', length: 52 },
  chainId: { bytes: [0x57, 0x52, 0x00], size: 4, starts: 'Net', length: 15 },
  peerId: { bytes: [0x99, 0x67], size: 16, starts: 'id', length: 30 },
  blockPayloadHash: { bytes: [0x01, 0x6a, 0xf2], size: 32, starts: 'vh', length: 52 },
  // Ed25519 keys and signatures, used by the demo protocol's accounts.
  ed25519PublicKeyHash: { bytes: [0x06, 0xa1, 0x9f], size: 20, starts: 'tz1', length: 36 },
  ed25519PublicKey: { bytes: [0x0d, 0x0f, 0x25, 0xd9], size: 32, starts: 'edpk', length: 54 },
  ed25519Signature: { bytes: [0x09, 0xf5, 0xcd, 0x86, 0x12], size: 64, starts: 'edsig', length: 99 },
  // Demo v3 (src/protocol/demo-v3): originated contracts and blinded activation commitments.
  contractHash: { bytes: [0x02, 0x5a, 0x79], size: 20, starts: 'KT1', length: 36 },
  blindedPublicKeyHash: { bytes: [0x01, 0x02, 0x31, 0xdf], size: 20, starts: 'btz1', length: 37 }
} as const

export type Base58Kind = keyof typeof PREFIXES

export function b58Encode (kind: Base58Kind, payload: Uint8Array): string {
  const p = PREFIXES[kind]
  if (payload.length !== p.size) throw new RangeError(`${kind} payload must be ${p.size} bytes, got ${payload.length}`)
  const data = new Uint8Array(p.bytes.length + payload.length)
  data.set(p.bytes)
  data.set(payload, p.bytes.length)
  return b58check.encode(data)
}

/** Decodes and checks checksum, prefix and payload size; any mismatch is a `DecodeError`. */
export function b58Decode (kind: Base58Kind, s: string): Uint8Array {
  const p = PREFIXES[kind]
  let data: Uint8Array
  try {
    data = b58check.decode(s)
  } catch (e) {
    throw new DecodeError(kind, 0, `invalid base58check string ${JSON.stringify(s)}: ${(e as Error).message}`)
  }
  if (data.length !== p.bytes.length + p.size || !bytesEqual(data.subarray(0, p.bytes.length), Uint8Array.from(p.bytes))) {
    throw new DecodeError(kind, 0, `${JSON.stringify(s)} is not a ${kind} (expected a ${p.length}-character string starting with "${p.starts}")`)
  }
  return data.slice(p.bytes.length)
}
