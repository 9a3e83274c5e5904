import { EncodeError, type Reader, type Writer } from '../encoding/index.ts'
import { BLOCK_HEADER_MAX_BYTES, blockHeaderCodec, type BlockHeader } from './block-header.ts'
import { HASH_BYTES, readChainId, readHash, writeChainId, writeHash } from './hashes.ts'
import { blockLocatorCodec, type BlockLocator } from './locator.ts'
import { mempoolCodec, type Mempool } from './mempool.ts'
import { operationsHashPathCodec, type MerklePath } from './merkle.ts'
import { OPERATION_MAX_BYTES, operationCodec, type Operation } from './operation.ts'
import { decodeKeepingBytes } from './received-bytes.ts'
import { protocolCodec, type ProtocolSources } from './protocol-sources.ts'

/** A request lists at most 10 keys (`list ~max_length:10`). */
export const DDB_MAX_KEYS_PER_REQUEST = 10
/** Operations_for_blocks: the operation list after the path may not exceed 1 MiB. */
export const OPERATION_LIST_MAX_BYTES = 1024 * 1024

/** A validation pass of one block: the key of Get_operations_for_blocks. */
export interface OperationsKey {
  blockHash: Uint8Array
  /** int8 on the wire. */
  validationPass: number
}

/** The Distributed-DB ("shell") messages of Octez `src/lib_shell/distributed_db_message.ml`, tags 0x10–0x91. */
export type DistributedDbMessage =
  | { tag: 'Get_current_branch', chainId: Uint8Array }
  | { tag: 'Current_branch', chainId: Uint8Array, locator: BlockLocator }
  | { tag: 'Deactivate', chainId: Uint8Array }
  | { tag: 'Get_current_head', chainId: Uint8Array }
  | { tag: 'Current_head', chainId: Uint8Array, header: BlockHeader, mempool: Mempool }
  | { tag: 'Get_block_headers', blockHashes: Uint8Array[] }
  | { tag: 'Block_header', header: BlockHeader }
  | { tag: 'Get_operations', operationHashes: Uint8Array[] }
  | { tag: 'Operation', operation: Operation }
  | { tag: 'Get_protocols', protocolHashes: Uint8Array[] }
  | { tag: 'Protocol', protocol: ProtocolSources }
  | { tag: 'Get_operations_for_blocks', keys: OperationsKey[] }
  | { tag: 'Operations_for_blocks', blockHash: Uint8Array, validationPass: number, path: MerklePath, operations: Operation[] }
  | { tag: 'Get_checkpoint', chainId: Uint8Array }
  | { tag: 'Checkpoint', chainId: Uint8Array, header: BlockHeader }
  | { tag: 'Get_protocol_branch', chainId: Uint8Array, protoLevel: number }
  | { tag: 'Protocol_branch', chainId: Uint8Array, protoLevel: number, locator: BlockLocator }
  | { tag: 'Get_predecessor_header', blockHash: Uint8Array, offset: number }
  | { tag: 'Predecessor_header', blockHash: Uint8Array, offset: number, header: BlockHeader }

export type DistributedDbTag = DistributedDbMessage['tag']
type Of<T extends DistributedDbTag> = Extract<DistributedDbMessage, { tag: T }>

/** How one message's payload (everything after the 2-byte tag) is written and read. */
export interface MessageCase<M> {
  code: number
  encode: (w: Writer, m: M) => void
  /** Reads from a reader bounded to the message; the caller checks that it ends there. */
  decode: (r: Reader) => M
}

function hashList (what: string, w: Writer, hashes: Uint8Array[]): void {
  if (hashes.length > DDB_MAX_KEYS_PER_REQUEST) {
    throw new EncodeError(what, `${hashes.length} keys, at most ${DDB_MAX_KEYS_PER_REQUEST}`)
  }
  w.dynamic(w => { for (const h of hashes) writeHash(w, h, what) }, what)
}

function readHashList (what: string, r: Reader): Uint8Array[] {
  return r.list(what, DDB_MAX_KEYS_PER_REQUEST * HASH_BYTES, DDB_MAX_KEYS_PER_REQUEST, sub => readHash(sub, what))
}

function chainIdOnly<T extends 'Get_current_branch' | 'Deactivate' | 'Get_current_head' | 'Get_checkpoint'> (
  tag: T, code: number, what: string
): MessageCase<Of<T>> {
  return {
    code,
    encode: (w, m) => writeChainId(w, (m as { chainId: Uint8Array }).chainId, what),
    decode: r => ({ tag, chainId: readChainId(r, what) }) as Of<T>
  }
}

/** A header that is the message's last field: it runs to the end of the message. */
function writeTrailingHeader (w: Writer, h: BlockHeader): void {
  blockHeaderCodec.encode(w, h)
}

function writeOperations (w: Writer, ops: Operation[]): void {
  const start = w.length
  for (const op of ops) w.dynamic(w => operationCodec.encode(w, op), 'operations_for_blocks.operations', OPERATION_MAX_BYTES)
  if (w.length - start > OPERATION_LIST_MAX_BYTES) {
    throw new EncodeError('operations_for_blocks.operations', `${w.length - start} bytes exceed ${OPERATION_LIST_MAX_BYTES}`)
  }
}

function readOperations (r: Reader): Operation[] {
  if (r.remaining > OPERATION_LIST_MAX_BYTES) {
    r.fail('operations_for_blocks.operations', `${r.remaining} bytes exceed the bound ${OPERATION_LIST_MAX_BYTES}`)
  }
  return r.variableList('operations_for_blocks.operations', Number.MAX_SAFE_INTEGER,
    sub => sub.dynamic('operations_for_blocks.operations', OPERATION_MAX_BYTES, s => decodeKeepingBytes(s, operationCodec.decode)))
}

export const DDB_CASES: { readonly [T in DistributedDbTag]: MessageCase<Of<T>> } = {
  Get_current_branch: chainIdOnly('Get_current_branch', 0x10, 'get_current_branch'),
  Current_branch: {
    code: 0x11,
    encode: (w, m) => { writeChainId(w, m.chainId, 'current_branch.chain_id'); blockLocatorCodec.encode(w, m.locator) },
    decode: r => ({ tag: 'Current_branch', chainId: readChainId(r, 'current_branch.chain_id'), locator: blockLocatorCodec.decode(r) })
  },
  Deactivate: chainIdOnly('Deactivate', 0x12, 'deactivate'),
  Get_current_head: chainIdOnly('Get_current_head', 0x13, 'get_current_head'),
  Current_head: {
    code: 0x14,
    encode: (w, m) => {
      writeChainId(w, m.chainId, 'current_head.chain_id')
      w.dynamic(w => blockHeaderCodec.encode(w, m.header), 'current_head.current_block_header', BLOCK_HEADER_MAX_BYTES)
      mempoolCodec.encode(w, m.mempool)
    },
    decode: r => {
      const chainId = readChainId(r, 'current_head.chain_id')
      const header = r.dynamic('current_head.current_block_header', BLOCK_HEADER_MAX_BYTES, sub => blockHeaderCodec.decode(sub))
      const mempool = mempoolCodec.decode(r)
      return { tag: 'Current_head', chainId, header, mempool }
    }
  },
  Get_block_headers: {
    code: 0x20,
    encode: (w, m) => hashList('get_block_headers', w, m.blockHashes),
    decode: r => ({ tag: 'Get_block_headers', blockHashes: readHashList('get_block_headers', r) })
  },
  Block_header: {
    code: 0x21,
    encode: (w, m) => writeTrailingHeader(w, m.header),
    decode: r => ({ tag: 'Block_header', header: decodeKeepingBytes(r, blockHeaderCodec.decode) })
  },
  Get_operations: {
    code: 0x30,
    encode: (w, m) => hashList('get_operations', w, m.operationHashes),
    decode: r => ({ tag: 'Get_operations', operationHashes: readHashList('get_operations', r) })
  },
  Operation: {
    code: 0x31,
    encode: (w, m) => operationCodec.encode(w, m.operation),
    decode: r => ({ tag: 'Operation', operation: operationCodec.decode(r) })
  },
  Get_protocols: {
    code: 0x40,
    encode: (w, m) => hashList('get_protocols', w, m.protocolHashes),
    decode: r => ({ tag: 'Get_protocols', protocolHashes: readHashList('get_protocols', r) })
  },
  Protocol: {
    code: 0x41,
    encode: (w, m) => protocolCodec.encode(w, m.protocol),
    decode: r => {
      if (r.remaining > (protocolCodec.maxSize as number)) r.fail('protocol', `${r.remaining} bytes exceed the bound ${protocolCodec.maxSize}`)
      return { tag: 'Protocol', protocol: protocolCodec.decode(r) }
    }
  },
  Get_operations_for_blocks: {
    code: 0x60,
    encode: (w, m) => {
      if (m.keys.length > DDB_MAX_KEYS_PER_REQUEST) {
        throw new EncodeError('get_operations_for_blocks', `${m.keys.length} keys, at most ${DDB_MAX_KEYS_PER_REQUEST}`)
      }
      w.dynamic(w => {
        for (const k of m.keys) {
          writeHash(w, k.blockHash, 'get_operations_for_blocks.hash')
          w.int8(k.validationPass, 'get_operations_for_blocks.validation_pass')
        }
      }, 'get_operations_for_blocks')
    },
    decode: r => ({
      tag: 'Get_operations_for_blocks',
      keys: r.list('get_operations_for_blocks', DDB_MAX_KEYS_PER_REQUEST * (HASH_BYTES + 1), DDB_MAX_KEYS_PER_REQUEST, sub => ({
        blockHash: readHash(sub, 'get_operations_for_blocks.hash'),
        validationPass: sub.int8('get_operations_for_blocks.validation_pass')
      }))
    })
  },
  Operations_for_blocks: {
    code: 0x61,
    encode: (w, m) => {
      writeHash(w, m.blockHash, 'operations_for_blocks.hash')
      w.int8(m.validationPass, 'operations_for_blocks.validation_pass')
      operationsHashPathCodec.encode(w, m.path)
      writeOperations(w, m.operations)
    },
    decode: r => {
      const blockHash = readHash(r, 'operations_for_blocks.hash')
      const validationPass = r.int8('operations_for_blocks.validation_pass')
      const path = operationsHashPathCodec.decode(r)
      const operations = readOperations(r)
      return { tag: 'Operations_for_blocks', blockHash, validationPass, path, operations }
    }
  },
  Get_checkpoint: chainIdOnly('Get_checkpoint', 0x70, 'get_checkpoint'),
  Checkpoint: {
    code: 0x71,
    encode: (w, m) => { writeChainId(w, m.chainId, 'checkpoint.chain_id'); writeTrailingHeader(w, m.header) },
    decode: r => ({ tag: 'Checkpoint', chainId: readChainId(r, 'checkpoint.chain_id'), header: blockHeaderCodec.decode(r) })
  },
  Get_protocol_branch: {
    code: 0x80,
    encode: (w, m) => { writeChainId(w, m.chainId, 'get_protocol_branch.chain'); w.uint8(m.protoLevel, 'get_protocol_branch.proto_level') },
    decode: r => ({
      tag: 'Get_protocol_branch',
      chainId: readChainId(r, 'get_protocol_branch.chain'),
      protoLevel: r.uint8('get_protocol_branch.proto_level')
    })
  },
  Protocol_branch: {
    code: 0x81,
    encode: (w, m) => {
      writeChainId(w, m.chainId, 'protocol_branch.chain')
      w.uint8(m.protoLevel, 'protocol_branch.proto_level')
      blockLocatorCodec.encode(w, m.locator)
    },
    decode: r => ({
      tag: 'Protocol_branch',
      chainId: readChainId(r, 'protocol_branch.chain'),
      protoLevel: r.uint8('protocol_branch.proto_level'),
      locator: blockLocatorCodec.decode(r)
    })
  },
  Get_predecessor_header: {
    code: 0x90,
    encode: (w, m) => { writeHash(w, m.blockHash, 'get_predecessor_header.block'); w.int32(m.offset, 'get_predecessor_header.offset') },
    decode: r => ({
      tag: 'Get_predecessor_header',
      blockHash: readHash(r, 'get_predecessor_header.block'),
      offset: r.int32('get_predecessor_header.offset')
    })
  },
  Predecessor_header: {
    code: 0x91,
    encode: (w, m) => {
      writeHash(w, m.blockHash, 'predecessor_header.block')
      w.int32(m.offset, 'predecessor_header.offset')
      writeTrailingHeader(w, m.header)
    },
    decode: r => ({
      tag: 'Predecessor_header',
      blockHash: readHash(r, 'predecessor_header.block'),
      offset: r.int32('predecessor_header.offset'),
      header: decodeKeepingBytes(r, blockHeaderCodec.decode)
    })
  }
}
