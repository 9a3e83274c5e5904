export { dialOctez, type DialOctezOptions } from './dial.ts'
export {
  listenOctez, DEFAULT_MAX_PENDING_INCOMING, type ListenOctezOptions, type OctezListener, type OctezIncomingFailure
} from './listen.ts'
export { OctezConnection, DEFAULT_MESSAGE_QUEUE_BYTES, type OctezCloseInfo, type OctezConnectionLimits } from './connection.ts'
export {
  authenticateOctez, type OctezDecide, type OctezDecision, type OctezRemote, type OctezLocalParty,
  type OctezHandshakeResult, type OctezHandshakeRun
} from './handshake.ts'
export {
  acceptCompatible, decideWithPolicy, DEFAULT_AUTHENTICATION_TIMEOUT_MS, DEFAULT_CONNECTION_TIMEOUT_MS,
  type OctezWireOptions
} from './options.ts'
export { ChunkDecoder, cutMessage, chunkPlaintextSize, CHUNK_EXTRA_BYTES, MAX_CHUNK_BYTES, MAX_CHUNK_PLAINTEXT_BYTES } from './chunks.ts'
export { EnvelopeAssembler, type ReceivedMessage } from './envelopes.ts'
export { ReaderThrottle, OCTEZ_READER_THROTTLES, type WindowThrottle } from './reader-throttle.ts'
export {
  OctezWireError, ShortChunkError, ChunkDecipherError, MalformedMessageError, OctezConnectionClosedError,
  HandshakeShortChunkError, OctezConnectError, type OctezMisbehaviour
} from './errors.ts'
