import { concatBytes } from '../../encoding/index.ts'
import { ed25519Sign, ed25519Verify } from '../demo/keys.ts'
import { encodeContents, encodeOperationData, SIGNATURE_BYTES, type Contents, type InlinedEndorsement } from './encoding.ts'

/**
 * Signatures of demo v3 operations, with Tezos's watermarks (`Signature.watermark` in
 * `src/lib_crypto/signature.ml`): 0x01 block headers, 0x02 endorsements, 0x03 any other
 * operation. Tezos adds the chain id after the block and endorsement watermarks; the protocol does
 * not know the chain id, and the branch (signed with every operation) already binds an operation to
 * one chain, so demo v3 leaves it out. A signature of one kind thus never passes as another.
 */
export const WATERMARK = { block: 0x01, endorsement: 0x02, generic: 0x03 } as const

export function operationSignedBytes (branch: Uint8Array, contents: Uint8Array, isEndorsement: boolean): Uint8Array {
  return concatBytes(Uint8Array.of(isEndorsement ? WATERMARK.endorsement : WATERMARK.generic), branch, contents)
}

/** Builds signed operation data: contents ‖ signature of `watermark ‖ branch ‖ contents`. */
export function signOperation (branch: Uint8Array, contents: Contents, secretKey: Uint8Array): Uint8Array {
  const body = encodeContents(contents)
  const signature = ed25519Sign(operationSignedBytes(branch, body, contents.kind === 'endorsement'), secretKey)
  return encodeOperationData({ contents, signature })
}

/** Anonymous operation data (no signature). */
export function anonymousOperation (contents: Contents): Uint8Array {
  return encodeOperationData({ contents })
}

/** Checks a signed operation's signature against `publicKey` (data = contents ‖ 64-byte signature). */
export function checkOperationSignature (branch: Uint8Array, data: Uint8Array, isEndorsement: boolean, publicKey: Uint8Array): boolean {
  if (data.length < SIGNATURE_BYTES) return false
  const body = data.subarray(0, data.length - SIGNATURE_BYTES)
  return ed25519Verify(data.subarray(data.length - SIGNATURE_BYTES), operationSignedBytes(branch, body, isEndorsement), publicKey)
}

/** An endorsement as double endorsement evidence inlines it. */
export function inlineEndorsement (branch: Uint8Array, level: number, slot: number, secretKey: Uint8Array): InlinedEndorsement {
  const endorsement = { kind: 'endorsement' as const, level, slot }
  const signature = ed25519Sign(operationSignedBytes(branch, encodeContents(endorsement), true), secretKey)
  return { branch, endorsement, signature }
}

export function checkInlinedEndorsement (e: InlinedEndorsement, publicKey: Uint8Array): boolean {
  return ed25519Verify(e.signature, operationSignedBytes(e.branch, encodeContents(e.endorsement), true), publicKey)
}
