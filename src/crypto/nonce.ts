import { blake2b256 } from './blake2b.ts'
import { BOX_NONCE_BYTES } from './box.ts'

const INIT_TO_RESP = new TextEncoder().encode('Init -> Resp')
const RESP_TO_INIT = new TextEncoder().encode('Resp -> Init')

/**
 * `Hacl.Nonce.increment`: the 24-byte nonce is a 192-bit big-endian counter; +1 with carry from
 * the last byte toward the first, wrapping at 2^192. Returns a new array.
 */
export function incrementNonce (nonce: Uint8Array): Uint8Array {
  if (nonce.length !== BOX_NONCE_BYTES) throw new RangeError(`nonce must be ${BOX_NONCE_BYTES} bytes`)
  const out = nonce.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = (out[i] + 1) & 0xff
    if (out[i] !== 0) break
  }
  return out
}

/** The two per-direction starting nonces of a connection: `local` seals what we send. */
export interface ChannelNonces {
  local: Uint8Array
  remote: Uint8Array
}

function nonceFrom (parts: Uint8Array[]): Uint8Array {
  return blake2b256(parts).slice(0, BOX_NONCE_BYTES)
}

/**
 * Octez `Crypto_box.generate_nonces` (the unbound form). `sentFrame`/`recvFrame` are whole
 * connection-message frames *including* their 2-byte length prefix; `incoming` is true on the
 * accepting side. As in Octez, the dialler seals with BLAKE2b(init‖resp‖"Resp -> Init") and the
 * acceptor with BLAKE2b(init‖resp‖"Init -> Resp").
 */
export function octezNonces (sentFrame: Uint8Array, recvFrame: Uint8Array, incoming: boolean): ChannelNonces {
  return derive([], sentFrame, recvFrame, incoming)
}

/**
 * tzp2p's libp2p-bound form (protocols/handshake.md §5.2): after the two frames the dialler's and
 * the listener's libp2p PeerId bytes (multihash) are hashed too, so a relayed connection message
 * yields nonces the relay cannot use. `dialerPeerId`/`listenerPeerId` are the same on both sides.
 */
export function boundNonces (
  sentFrame: Uint8Array,
  recvFrame: Uint8Array,
  incoming: boolean,
  dialerPeerId: Uint8Array,
  listenerPeerId: Uint8Array
): ChannelNonces {
  return derive([dialerPeerId, listenerPeerId], sentFrame, recvFrame, incoming)
}

function derive (binding: Uint8Array[], sent: Uint8Array, recv: Uint8Array, incoming: boolean): ChannelNonces {
  const [init, resp] = incoming ? [recv, sent] : [sent, recv]
  const initToResp = nonceFrom([init, resp, ...binding, INIT_TO_RESP])
  const respToInit = nonceFrom([init, resp, ...binding, RESP_TO_INIT])
  return incoming
    ? { local: initToResp, remote: respToInit }
    : { local: respToInit, remote: initToResp }
}
