/**
 * tzp2p: the Tezos peer-to-peer layer on libp2p. The package root exports the node and its public
 * types; subsystems are reachable through their own modules.
 */
export {
  createNode, InvalidNodeOptionsError, DEFAULT_CHAIN_NAME, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_P2P_PORT,
  type TzNode, type NodeOptions, type NodeEventMap, type NodeServices, type DialTezosOptions
} from './node/index.ts'
export {
  HANDSHAKE_PROTOCOL, authenticatedOnly, assertAuthenticated, UnauthenticatedStreamError,
  HandshakeError, NotEnoughProofOfWorkError, MalformedHandshakeError, HandshakeDecipherError, HandshakeTimeoutError,
  HandshakeClosedError, RejectedByPeerError, PeerRejectedError, PeerRefusedError, SelfConnectionError, HandshakeProtocolError,
  type AuthenticatedPeer, type AuthenticationState, type HandshakeFailure
} from './handshake/index.ts'
export { Greylist, type GreylistOptions, type GreylistEntry } from './peers/greylist.ts'
export type { Identity } from './identity/identity.ts'
