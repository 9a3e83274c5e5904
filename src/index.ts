/**
 * tzp2p: the Tezos peer-to-peer layer on libp2p. The package root is what an embedder imports:
 * the node (`createNode`, its options and events), what a custom Protocol is written with, the
 * RPC server, the wire structures and the small helpers they need (hashes, base58, hex).
 */
export {
  createNode, InvalidNodeOptionsError, DEFAULT_CHAIN_NAME, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_P2P_PORT,
  type TzNode, type NodeOptions, type NodeEventMap, type NodeServices, type DialTezosOptions
} from './node/index.ts'
export { boundYoungGeneration } from './node/young-generation.ts'
export { boundBufferPool, NODE_BUFFER_POOL_SIZE } from './node/buffer-pool.ts'
export { saveHeapMemory } from './node/heap-headroom.ts'
export { leanEventTargets } from './node/lean-event-targets.ts'
export {
  NoChainError, NoBakerError,
  type ChainNodeOptions, type ChainNodeEvents, type ChainNodeFields, type OperationEvent, type SyncStatus
} from './node/chain-node.ts'
export type { ConnectionManagerApi, ConnectionManagerEvents, PointDiscovered, PointSource } from './node/connection-manager.ts'
export type { NodePeerApi, PeerInfo } from './node/node-peers.ts'
export { MISBEHAVIOURS, misbehaviourOf, type Misbehaviour, type PeerRef, type ReportOutcome, type ReportPeer } from './misbehaviour/index.ts'
export { MISBEHAVIOUR_COSTS, type MisbehaviourCost, type PeerPenalized, type PeerPolicyOptions } from './peers/policy.ts'
export {
  HANDSHAKE_PROTOCOL, authenticatedOnly, assertAuthenticated, UnauthenticatedStreamError,
  HandshakeError, NotEnoughProofOfWorkError, MalformedHandshakeError, HandshakeDecipherError, HandshakeTimeoutError,
  HandshakeClosedError, RejectedByPeerError, PeerRejectedError, PeerRefusedError, SelfConnectionError, HandshakeProtocolError,
  type AuthenticatedPeer, type AuthenticationState, type HandshakeFailure
} from './handshake/index.ts'
export { Greylist, type GreylistOptions, type GreylistEntry } from './peers/greylist.ts'
export { BanList, type BanRecord } from './peers/bans.ts'
export type { P2pLimits, ReconnectionConfig } from './peers/limits.ts'
export { parsePoint, type PointAddress } from './net/point.ts'
export type { Identity } from './identity/identity.ts'
export { generateIdentity, loadOrCreateNodeKeys, type PowProgress } from './identity/index.ts'

// The chain a node runs and the Protocol interface that validates it.
export { namedGenesis, GenesisConfigError, type GenesisConfig, type Genesis } from './chain/genesis.ts'
export type { Chain, HeadChange, AddBlocksResult } from './chain/chain.ts'
export type { ChainReader } from './chain/chain-reader.ts'
export type { StoredHeader } from './chain/store.ts'
export { MempoolRefusedError, type Mempool, type AddResult, type MempoolRefusalCode } from './chain/mempool.ts'
export { TooEarlyToBakeError, CannotBakeError, type BakeResult, type ProtocolActivation } from './chain/baker.ts'
export { UnknownProtocolError } from './chain/errors.ts'
export type { ProtocolLevel } from './chain/protocol-levels.ts'
export type { MissingProtocolRecord, MissingProtocolState } from './chain/protocol-watch.ts'
export { ProtocolRegistry, ProtocolRegistryError } from './protocol/registry.ts'
export {
  makeManifest, manifestHash, manifestSources, parseManifest, canonicalManifestJson, ManifestError, type ProtocolManifest
} from './protocol/manifest.ts'
export type {
  Protocol, GenesisState, OperationVerdict, ApplyBlockInput, AppliedBlock, MakeBlockInput, BakedBlock
} from './protocol/protocol.ts'
export {
  InvalidBlockError, InvalidOperationError, VALID, invalid,
  type InvalidBlockCode, type InvalidOperationCode, type OperationFault, type Verdict
} from './protocol/errors.ts'
export { ScratchState, EMPTY_STATE, type StateReader, type StateWrite } from './protocol/state.ts'
export { levelFitness, newBlockProtoLevel, newShellHeader, protocolHashOf, operationsHashOf, stateWritesDigest, MAX_VALIDATION_PASSES } from './protocol/common.ts'
export { createAcceptAllProtocol, type AcceptAllConfig } from './protocol/accept-all.ts'
export {
  createDemoProtocol, signTransfer, ed25519FromName, DEMO_V2_TRANSFER_CHARGE, type DemoProtocolConfig, type DemoVersion, type BootstrapAccount
} from './protocol/demo/index.ts'
export {
  createDemoV3Protocol, signOperation, anonymousOperation, endorsementOf, revelationsDue, NoBakingRightError, TooEarlyForPriorityError,
  type DemoV3Config, type DemoV3Protocol, type DemoV3Parameters, type LevelRights
} from './protocol/demo-v3/index.ts'

// Wire structures and helpers.
export { blockHeaderCodec, blockHash, type BlockHeader, type ShellHeader } from './wire/block-header.ts'
export { operationCodec, operationHash, OPERATION_MAX_BYTES, type Operation } from './wire/operation.ts'
export { compareFitness, type Fitness } from './wire/fitness.ts'
export { blockHeaderJson, operationJson, type JsonObject } from './wire/json.ts'
export { blake2b, blake2b256, b58Encode, b58Decode, type Base58Kind } from './crypto/index.ts'
export { encode, decodeExact, toHex, fromHex, bytesEqual, concatBytes, Reader, Writer, DecodeError, EncodeError, type Codec } from './encoding/index.ts'

// The HTTP RPC, status page and metrics of a node.
export { startRpcServer, RpcListenError, DEFAULT_RPC_LISTEN, type RpcServer, type RpcServerOptions, type ListenAddress } from './rpc/server.ts'
export { parseAclAddress, InvalidAclAddressError, SECURE_POLICY, ALLOW_ALL_POLICY, type RpcAclEntry, type AclAddress } from './rpc/acl-policy.ts'
export { whitelist, blacklist, parseAclRule, InvalidAclRuleError, type AclPolicy, type AclRule } from './rpc/acl-rules.ts'
