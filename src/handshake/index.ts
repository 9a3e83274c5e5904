export {
  handshake, HandshakeService, HANDSHAKE_PROTOCOL, DEFAULT_AUTHENTICATION_TIMEOUT_MS, AUTHENTICATED_TAG,
  TEZOS_PEER_ID_METADATA, type HandshakeInit, type HandshakeComponents, type HandshakeFailure, type HandshakeListener
} from './service.ts'
export { authenticate, MAX_ACK_BYTES, MAX_NACK_POINTS_SENT, type HandshakeRun, type HandshakeResult, type LocalHandshakeParty, type AdmissionPolicy, type RemoteCandidate } from './authenticate.ts'
export { AuthenticatedPeers, type AuthenticatedPeer } from './authenticated-peers.ts'
export { authenticatedOnly, assertAuthenticated, UnauthenticatedStreamError, type AuthenticationState } from './guard.ts'
export {
  HandshakeError, NotEnoughProofOfWorkError, MalformedHandshakeError, HandshakeDecipherError, HandshakeTimeoutError,
  HandshakeClosedError, RejectedByPeerError, PeerRejectedError, PeerRefusedError, SelfConnectionError, HandshakeProtocolError
} from './errors.ts'
export {
  selectVersion, announcedVersion, SUPPORTED_DISTRIBUTED_DB_VERSIONS, SUPPORTED_P2P_VERSIONS, type LocalVersions,
  type VersionSelection
} from './versions.ts'
export {
  ChunkCipher, HandshakeTransport, MAX_CHUNK_BYTES, MAX_CHUNK_PLAINTEXT_BYTES, MAX_CONNECTION_MESSAGE_BYTES,
  MIN_CONNECTION_MESSAGE_BYTES
} from './channel.ts'
export { ConnectionAdmission, type AdmissionInit } from './admission.ts'
