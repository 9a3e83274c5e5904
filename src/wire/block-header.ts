import { EncodeError, encode, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { blake2b256 } from '../crypto/index.ts'
import { fitnessCodec, type Fitness } from './fitness.ts'
import { readHash, writeHash } from './hashes.ts'

/** `Block_header.bounded_encoding`: Distributed-DB messages refuse headers above 8 MiB. */
export const BLOCK_HEADER_MAX_BYTES = 8 * 1024 * 1024

/**
 * The `proto` of the first block after genesis: genesis carries protocol level 0, the blocks of the
 * first protocol 1, and each protocol change adds one.
 */
export const FIRST_PROTO_LEVEL = 1

/** `Block_header.shell_header`: the protocol-independent part every node understands. */
export interface ShellHeader {
  level: number
  /** Protocol level (incremented at each protocol change; see `FIRST_PROTO_LEVEL`). */
  proto: number
  predecessor: Uint8Array
  /** Seconds since the Unix epoch (int64 on the wire; kept exact as a bigint). */
  timestamp: bigint
  /** Number of operation lists (validation passes) in the block. */
  validationPass: number
  /** Merkle root (LLo) of the per-pass operation list hashes. */
  operationsHash: Uint8Array
  fitness: Fitness
  context: Uint8Array
}

/** A full header: shell ‖ protocol data (opaque bytes running to the end of the header). */
export interface BlockHeader {
  shell: ShellHeader
  protocolData: Uint8Array
}

export const shellHeaderCodec: Codec<ShellHeader> = {
  name: 'block_header.shell',
  encode (w: Writer, s: ShellHeader): void {
    w.int32(s.level, 'block_header.level')
    w.uint8(s.proto, 'block_header.proto')
    writeHash(w, s.predecessor, 'block_header.predecessor')
    w.int64(s.timestamp, 'block_header.timestamp')
    w.uint8(s.validationPass, 'block_header.validation_pass')
    writeHash(w, s.operationsHash, 'block_header.operations_hash')
    fitnessCodec.encode(w, s.fitness)
    writeHash(w, s.context, 'block_header.context')
  },
  decode (r: Reader): ShellHeader {
    const level = r.int32('block_header.level')
    const proto = r.uint8('block_header.proto')
    const predecessor = readHash(r, 'block_header.predecessor')
    const timestamp = r.int64('block_header.timestamp')
    const validationPass = r.uint8('block_header.validation_pass')
    const operationsHash = readHash(r, 'block_header.operations_hash')
    const fitness = fitnessCodec.decode(r)
    const context = readHash(r, 'block_header.context')
    return { level, proto, predecessor, timestamp, validationPass, operationsHash, fitness, context }
  }
}

/**
 * `Block_header.encoding` with the 8 MiB bound. The protocol data has no length prefix: decoding
 * takes every byte left in the reader's block, which is why the Distributed-DB messages wrap a
 * header in `dynamic_size` unless it is their last field.
 */
export const blockHeaderCodec: Codec<BlockHeader> = {
  name: 'block_header',
  maxSize: BLOCK_HEADER_MAX_BYTES,
  encode (w: Writer, h: BlockHeader): void {
    const start = w.length
    shellHeaderCodec.encode(w, h.shell)
    w.raw(h.protocolData)
    if (w.length - start > BLOCK_HEADER_MAX_BYTES) {
      throw new EncodeError('block_header', `${w.length - start} bytes exceed the bound ${BLOCK_HEADER_MAX_BYTES}`)
    }
  },
  decode (r: Reader): BlockHeader {
    // check_size over a variable-size value: the block it would span may not exceed the bound.
    if (r.remaining > BLOCK_HEADER_MAX_BYTES) {
      r.fail('block_header', `${r.remaining} bytes exceed the bound ${BLOCK_HEADER_MAX_BYTES}`)
    }
    const shell = shellHeaderCodec.decode(r)
    const protocolData = r.rest('block_header.protocol_data')
    return { shell, protocolData }
  }
}

/** `Block_header.hash`: BLAKE2b-256 of the whole binary header (shell ‖ protocol data). */
export function blockHash (header: BlockHeader): Uint8Array {
  return blake2b256(encode(blockHeaderCodec, header))
}

/** The hash of a header already held in binary form (no re-encoding). */
export function blockHashOfBytes (headerBytes: Uint8Array): Uint8Array {
  return blake2b256(headerBytes)
}
