import type { Stream } from '@libp2p/interface'
import { boundNonces, precomputeChannelKey, randomBytes, DecipherError } from '../crypto/index.ts'
import { DecodeError, decodeExact, encode } from '../encoding/index.ts'
import { peerIdOfPublicKey, type Identity } from '../identity/identity.ts'
import { checkProofOfWork } from '../identity/pow.ts'
import { ackCodec, NACK_MAX_POINTS, type AckMessage, type NackMotive } from '../wire/ack.ts'
import {
  decodeConnectionFrame, encodeConnectionFrame, MESSAGE_NONCE_BYTES, type ConnectionMessage, type NetworkVersion
} from '../wire/connection-message.ts'
import { CONNECTION_METADATA_BYTES, connectionMetadataCodec, type ConnectionMetadata } from '../wire/metadata.ts'
import { POINT_MAX_ENCODED_BYTES } from '../wire/point.ts'
import { ChunkCipher, HandshakeTransport } from './channel.ts'
import {
  HandshakeDecipherError, MalformedHandshakeError, NotEnoughProofOfWorkError, PeerRefusedError, PeerRejectedError,
  RejectedByPeerError, SelfConnectionError
} from './errors.ts'
import { announcedVersion, selectVersion, type LocalVersions } from './versions.ts'

/** Largest Ack/Nack plaintext: tag 1 + motive 2 + list length 4 + 100 points of ≤ 51 bytes. */
export const MAX_ACK_BYTES = 1 + 2 + 4 + NACK_MAX_POINTS * POINT_MAX_ENCODED_BYTES

/** What the local node brings to every handshake. */
export interface LocalHandshakeParty {
  identity: Identity
  /** `makePowTarget(expectedPow)`, demanded from every remote. */
  powTarget: bigint
  expectedPow: number
  versions: LocalVersions
  metadata: ConnectionMetadata
  /** Our listening port as announced in the connection message; 0 = none. */
  advertisedPort: number
}

/** The remote as known after chunk #0, when the connect decision is taken. */
export interface RemoteCandidate {
  tezosPeerId: string
  publicKey: Uint8Array
  advertisedPort: number
  announced: NetworkVersion
  metadata: ConnectionMetadata
}

/** The node's connect policy, consulted in Octez's order (`raw_authenticate`, `src/lib_p2p/p2p_connect_handler.ml`). */
export interface AdmissionPolicy {
  /** Banned or greylisted Tezos peer id: close without a Nack. */
  isRefused: (tezosPeerId: string) => boolean
  /**
   * Capacity and duplicates: a motive (Too_many_connections, Already_connected) to Nack with, or
   * undefined to accept — in which case the policy holds a slot for this peer until `release`.
   */
  admit: (remote: RemoteCandidate) => NackMotive | undefined
  /** Points to hand a rejected peer (Octez sends at most 50). */
  knownPoints: () => string[]
}

export interface HandshakeRun {
  stream: Stream
  /** Aborted by the authentication deadline. */
  signal: AbortSignal
  /** True on the listening side of the libp2p connection (Octez `incoming`). */
  incoming: boolean
  /** libp2p PeerId multihash bytes of both ends, bound into the nonces (protocols/handshake.md §5.2). */
  localLibp2pPeerId: Uint8Array
  remoteLibp2pPeerId: Uint8Array
  /** The remote address, printed only into errors. */
  remoteAddress: { toString: () => string }
  local: LocalHandshakeParty
  policy: AdmissionPolicy
  /**
   * Told the Tezos peer id the remote claims as soon as its connection message is read, and again
   * with `proven` once a chunk sealed under that key has opened: only a proven id may be
   * greylisted, or anyone could get an honest peer greylisted by sending its public key.
   */
  onIdentified?: (tezosPeerId: string, proven: boolean) => void
}

export interface HandshakeResult extends RemoteCandidate {
  /** The versions selected for this connection. */
  version: NetworkVersion
}

/** Octez sends at most this many points in a Nack, keeping well under the receiver's limit of 100. */
export const MAX_NACK_POINTS_SENT = 50

/**
 * The channel key with a remote's public key (`Crypto_box.precompute`). A low-order public key has
 * no shared secret, which is exactly what a deciphering failure means to the handshake. Both wires.
 */
export function handshakeChannelKey (remotePublicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  try {
    return precomputeChannelKey(remotePublicKey, secretKey)
  } catch (err) {
    if (err instanceof DecipherError) throw new HandshakeDecipherError('the channel key (invalid public key)', { cause: err })
    throw err
  }
}

function decodeOrMalformed<T> (what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    if (err instanceof DecodeError) throw new MalformedHandshakeError(`${what}: ${err.message}`, { cause: err })
    throw err
  }
}

/**
 * Runs the Tezos handshake on one stream, the same code on both sides (Octez
 * `P2p_socket.authenticate` + the connect handler's decision): connection messages in clear,
 * proof-of-work check before any key is derived, channel key and libp2p-bound nonces, Metadata as
 * chunk #0, then Ack or Nack as chunk #1. Resolves once Ack went both ways; otherwise throws a
 * `HandshakeError` telling the caller whether to greylist. Never closes the stream or connection.
 */
export async function authenticate (run: HandshakeRun): Promise<HandshakeResult> {
  const { local, policy } = run
  const transport = new HandshakeTransport(run.stream, run.signal)

  try {
    const ownMessage: ConnectionMessage = {
      port: local.advertisedPort,
      publicKey: local.identity.publicKey,
      proofOfWorkStamp: local.identity.powStamp,
      messageNonce: randomBytes(MESSAGE_NONCE_BYTES),
      version: announcedVersion(local.versions)
    }
    const ownFrame = encodeConnectionFrame(ownMessage)
    transport.write(ownFrame)
    const remoteFrame = await transport.readConnectionFrame()
    const remote = decodeOrMalformed('connection message', () => decodeConnectionFrame(remoteFrame))

    const tezosPeerId = peerIdOfPublicKey(remote.publicKey)
    run.onIdentified?.(tezosPeerId, false)
    // Octez checks the work before deriving anything from the key: a peer without it costs one hash.
    if (!checkProofOfWork(remote.publicKey, remote.proofOfWorkStamp, local.powTarget)) {
      throw new NotEnoughProofOfWorkError(tezosPeerId, local.expectedPow)
    }

    const channelKey = handshakeChannelKey(remote.publicKey, local.identity.secretKey)
    const [dialer, listener] = run.incoming
      ? [run.remoteLibp2pPeerId, run.localLibp2pPeerId]
      : [run.localLibp2pPeerId, run.remoteLibp2pPeerId]
    const nonces = boundNonces(ownFrame, remoteFrame, run.incoming, dialer, listener)
    const cipher = new ChunkCipher(channelKey, nonces.local, nonces.remote)

    transport.write(cipher.seal(encode(connectionMetadataCodec, local.metadata)))
    const metadataChunk = await transport.readChunk('metadata chunk', CONNECTION_METADATA_BYTES)
    const metadataBytes = cipher.open(metadataChunk, 'the metadata chunk')
    run.onIdentified?.(tezosPeerId, true)
    const metadata = decodeOrMalformed('metadata', () => decodeExact(connectionMetadataCodec, metadataBytes))

    // As in Octez, our metadata has gone out before any decision, so the peer can reach its own
    // (it too sees it dialled itself); corking may still hold it if theirs was already here.
    if (tezosPeerId === local.identity.peerId) {
      await transport.flush().catch(() => {})
      throw new SelfConnectionError(run.remoteAddress.toString())
    }

    const candidate: RemoteCandidate = {
      tezosPeerId, publicKey: remote.publicKey, advertisedPort: remote.port, announced: remote.version, metadata
    }
    if (policy.isRefused(tezosPeerId)) {
      await transport.flush().catch(() => {})
      throw new PeerRefusedError(tezosPeerId)
    }
    const selection = selectVersion(local.versions, remote.version)
    const motive = selection.ok ? policy.admit(candidate) : selection.motive
    if (motive !== undefined || !selection.ok) {
      const chosen: NackMotive = motive ?? 'No_motive'
      // Peers on p2p version 0 predate Nack with motive and points.
      const nack: AckMessage = remote.version.p2pVersion > 0
        ? { tag: 'Nack', motive: chosen, points: policy.knownPoints().slice(0, MAX_NACK_POINTS_SENT) }
        : { tag: 'Nack_v_0' }
      transport.write(cipher.seal(encode(ackCodec, nack)))
      // Our decision stands even if the peer already hung up (it may have rejected us too).
      await transport.flush().catch(() => {})
      throw new PeerRejectedError(chosen)
    }

    transport.write(cipher.seal(encode(ackCodec, { tag: 'Ack' })))
    const ackChunk = await transport.readChunk('ack chunk', MAX_ACK_BYTES)
    const ackBytes = cipher.open(ackChunk, 'the ack chunk')
    const ack = decodeOrMalformed('ack', () => decodeExact(ackCodec, ackBytes))
    if (ack.tag === 'Nack') throw new RejectedByPeerError(ack.motive, ack.points)
    if (ack.tag === 'Nack_v_0') throw new RejectedByPeerError('No_motive', [])
    // Our Ack may still be queued if theirs was already here when we wrote it.
    await transport.flush()
    return { ...candidate, version: selection.version }
  } finally {
    transport.detach()
  }
}
