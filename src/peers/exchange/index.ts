export {
  peerExchange, PeerExchangeService, type PeerExchangeHost, type PeerExchangeInit, type PeerExchangeComponents, type SwapProposal
} from './service.ts'
export {
  PEER_EXCHANGE_PROTOCOL, POINT_MULTIADDR_MAX_BYTES, ADVERTISE_MAX_SENT, ADVERTISE_MAX_ACCEPTED, BOOTSTRAP_THROTTLE_MS,
  SWAP_THROTTLE_MS, REPLY_TIMEOUT_MS, MAX_MESSAGE_BODY_BYTES, MalformedPeerMessageError, UnexpectedPeerMessageError,
  encodePeerMessage, decodePeerMessage, parseExchangedPoint, formatExchangedPoint, peerExchangeCodec
} from './protocol.ts'
