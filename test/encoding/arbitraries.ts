/** fast-check arbitraries for every wire structure, within the bounds the codecs enforce. */
import fc from 'fast-check'
import type {
  AckMessage, NackMotive, BlockHeader, BlockLocator, ConnectionMessage, ConnectionMetadata, Mempool, MerklePath, NetworkVersion,
  Operation, P2pMessage, ProtocolSources, ShellHeader
} from '../../src/wire/index.ts'

/** Records with an ordinary prototype, so that they deep-equal decoded values. */
function record<T> (model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true })
}

export const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
export const hash = bytes(32)
export const chainId = bytes(4)
export const peerId = bytes(16)
const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength })
/** Point strings are ASCII in practice; ≤ 47 bytes fits Octez's `check_size 51`. */
export const point = fc.string({ unit: 'binary-ascii', maxLength: 47 })
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const uint8 = fc.integer({ min: 0, max: 0xff })
const uint16 = fc.integer({ min: 0, max: 0xffff })

export const networkVersion: fc.Arbitrary<NetworkVersion> = record({ chainName: text(60), distributedDbVersion: uint16, p2pVersion: uint16 })

export const connectionMessage: fc.Arbitrary<ConnectionMessage> = record({
  port: uint16, publicKey: bytes(32), proofOfWorkStamp: bytes(24), messageNonce: bytes(24), version: networkVersion
})

export const connectionMetadata: fc.Arbitrary<ConnectionMetadata> = record({ disableMempool: fc.boolean(), privateNode: fc.boolean() })

const knownMotive: fc.Arbitrary<NackMotive> = fc.constantFrom('No_motive', 'Too_many_connections', 'Unknown_chain_name',
  'Deprecated_p2p_version', 'Deprecated_distributed_db_version', 'Already_connected')

export const ack: fc.Arbitrary<AckMessage> = fc.oneof(
  fc.constant({ tag: 'Ack' } as const),
  fc.constant({ tag: 'Nack_v_0' } as const),
  record({
    tag: fc.constant('Nack' as const),
    motive: fc.oneof(knownMotive, fc.integer({ min: 6, max: 0x7fff }).map((unknown): NackMotive => ({ unknown })),
      fc.integer({ min: -0x8000, max: -1 }).map((unknown): NackMotive => ({ unknown }))),
    points: fc.array(point, { maxLength: 100 })
  })
)

export const fitness = fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 4 })

export const shellHeader: fc.Arbitrary<ShellHeader> = record({
  level: int32,
  proto: uint8,
  predecessor: hash,
  timestamp: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  validationPass: uint8,
  operationsHash: hash,
  fitness,
  context: hash
})

export const blockHeader: fc.Arbitrary<BlockHeader> = record({ shell: shellHeader, protocolData: fc.uint8Array({ maxLength: 80 }) })
export const operation: fc.Arbitrary<Operation> = record({ branch: hash, data: fc.uint8Array({ maxLength: 80 }) })
export const mempool: fc.Arbitrary<Mempool> = record({ knownValid: fc.array(hash, { maxLength: 4 }), pending: fc.array(hash, { maxLength: 4 }) })
export const locator: fc.Arbitrary<BlockLocator> = record({ headHeader: blockHeader, history: fc.array(hash, { maxLength: 6 }) })
export const merklePath: fc.Arbitrary<MerklePath> = fc.array(record({ side: fc.constantFrom('Left' as const, 'Right' as const), sibling: hash }), { maxLength: 3 })

export const protocol: fc.Arbitrary<ProtocolSources> = record({
  expectedEnvVersion: uint16,
  components: fc.array(fc.record({ name: text(12), interface: text(20), implementation: text(30) }, { requiredKeys: ['name', 'implementation'], noNullPrototype: true }), { maxLength: 3 })
})

export const p2pMessage: fc.Arbitrary<P2pMessage> = fc.oneof(
  fc.constant({ tag: 'Disconnect' } as const),
  fc.constant({ tag: 'Bootstrap' } as const),
  record({ tag: fc.constant('Advertise' as const), points: fc.array(point, { maxLength: 100 }) }),
  record({ tag: fc.constant('Swap_request' as const), point, peerId }),
  record({ tag: fc.constant('Swap_ack' as const), point, peerId }),
  record({ tag: fc.constant('Get_current_branch' as const), chainId }),
  record({ tag: fc.constant('Current_branch' as const), chainId, locator }),
  record({ tag: fc.constant('Deactivate' as const), chainId }),
  record({ tag: fc.constant('Get_current_head' as const), chainId }),
  record({ tag: fc.constant('Current_head' as const), chainId, header: blockHeader, mempool }),
  record({ tag: fc.constant('Get_block_headers' as const), blockHashes: fc.array(hash, { maxLength: 10 }) }),
  record({ tag: fc.constant('Block_header' as const), header: blockHeader }),
  record({ tag: fc.constant('Get_operations' as const), operationHashes: fc.array(hash, { maxLength: 10 }) }),
  record({ tag: fc.constant('Operation' as const), operation }),
  record({ tag: fc.constant('Get_protocols' as const), protocolHashes: fc.array(hash, { maxLength: 10 }) }),
  record({ tag: fc.constant('Protocol' as const), protocol }),
  record({ tag: fc.constant('Get_operations_for_blocks' as const), keys: fc.array(record({ blockHash: hash, validationPass: fc.integer({ min: -128, max: 127 }) }), { maxLength: 10 }) }),
  record({
    tag: fc.constant('Operations_for_blocks' as const),
    blockHash: hash,
    validationPass: fc.integer({ min: -128, max: 127 }),
    path: merklePath,
    operations: fc.array(operation, { maxLength: 4 })
  }),
  record({ tag: fc.constant('Get_checkpoint' as const), chainId }),
  record({ tag: fc.constant('Checkpoint' as const), chainId, header: blockHeader }),
  record({ tag: fc.constant('Get_protocol_branch' as const), chainId, protoLevel: uint8 }),
  record({ tag: fc.constant('Protocol_branch' as const), chainId, protoLevel: uint8, locator }),
  record({ tag: fc.constant('Get_predecessor_header' as const), blockHash: hash, offset: int32 }),
  record({ tag: fc.constant('Predecessor_header' as const), blockHash: hash, offset: int32, header: blockHeader }),
  record({ tag: fc.constant('Block_push' as const), chainId, enabled: fc.boolean() })
)

/** The arbitrary of each named encoding (`WIRE_ENCODINGS` names). */
export const ARBITRARIES: Record<string, fc.Arbitrary<unknown>> = {
  p2p_message: p2pMessage,
  connection_message: connectionMessage,
  'connection_message.frame': connectionMessage,
  network_version: networkVersion,
  connection_metadata: connectionMetadata,
  ack,
  block_header: blockHeader,
  'block_header.shell': shellHeader,
  operation,
  mempool,
  block_locator: locator,
  'operation_list_list_hash.path': merklePath,
  fitness,
  protocol,
  'p2p_point.id': point
}
