import { EncodeError, encode, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { blake2b256 } from '../crypto/index.ts'
import { HASH_BYTES, readHash, writeHash } from './hashes.ts'

/** `Operation.bounded_encoding` as the Distributed DB uses it: 128 KiB per operation. */
export const OPERATION_MAX_BYTES = 128 * 1024

/** `Operation.t`: the block it was forged against, then protocol-specific bytes (signature included). */
export interface Operation {
  branch: Uint8Array
  data: Uint8Array
}

export const operationCodec: Codec<Operation> = {
  name: 'operation',
  maxSize: OPERATION_MAX_BYTES,
  encode (w: Writer, op: Operation): void {
    if (HASH_BYTES + op.data.length > OPERATION_MAX_BYTES) {
      throw new EncodeError('operation', `${HASH_BYTES + op.data.length} bytes exceed the bound ${OPERATION_MAX_BYTES}`)
    }
    writeHash(w, op.branch, 'operation.branch')
    w.raw(op.data)
  },
  decode (r: Reader): Operation {
    if (r.remaining > OPERATION_MAX_BYTES) {
      r.fail('operation', `${r.remaining} bytes exceed the bound ${OPERATION_MAX_BYTES}`)
    }
    const branch = readHash(r, 'operation.branch')
    const data = r.rest('operation.data')
    return { branch, data }
  }
}

/** `Operation.hash`: BLAKE2b-256 of branch ‖ data. */
export function operationHash (op: Operation): Uint8Array {
  return blake2b256(encode(operationCodec, op))
}

export function operationHashOfBytes (operationBytes: Uint8Array): Uint8Array {
  return blake2b256(operationBytes)
}
