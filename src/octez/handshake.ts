import type { Socket } from 'node:net'
import { BOX_TAG_BYTES, octezNonces, randomBytes } from '../crypto/index.ts'
import { DecodeError, decodeExact, encode } from '../encoding/index.ts'
import { handshakeChannelKey, MAX_NACK_POINTS_SENT, type LocalHandshakeParty, type RemoteCandidate } from '../handshake/authenticate.ts'
import { ChunkCipher } from '../handshake/channel.ts'
import {
  MalformedHandshakeError, NotEnoughProofOfWorkError, PeerRefusedError, PeerRejectedError,
  RejectedByPeerError, SelfConnectionError
} from '../handshake/errors.ts'
import { announcedVersion, selectVersion, type VersionSelection } from '../handshake/versions.ts'
import { peerIdOfPublicKey } from '../identity/identity.ts'
import { checkProofOfWork } from '../identity/pow.ts'
import { ackCodec, type AckMessage, type NackMotive } from '../wire/ack.ts'
import {
  CONNECTION_FRAME_HEADER_BYTES, MESSAGE_NONCE_BYTES, decodeConnectionFrame, encodeConnectionFrame,
  type ConnectionMessage, type NetworkVersion
} from '../wire/connection-message.ts'
import { connectionMetadataCodec } from '../wire/metadata.ts'
import { LENGTH_PREFIX_BYTES } from './chunks.ts'
import { HandshakeShortChunkError } from './errors.ts'
import { SocketReader } from './socket-reader.ts'

/** What the local node brings to every Octez-wire handshake: the libp2p handshake's, and a replay hook. */
export interface OctezLocalParty extends LocalHandshakeParty {
  /**
   * The connection message's nonce. Only for replaying a captured session byte for byte: a node
   * always leaves it out and gets fresh random bytes per connection, as Octez does.
   */
  messageNonce?: Uint8Array
}

/** The remote as known when the connect decision is taken (after its metadata). */
export interface OctezRemote extends RemoteCandidate {
  connectionMessage: ConnectionMessage
  /** The socket's remote address and port. */
  address: string
  port: number
  /** True when the remote dialled us. */
  incoming: boolean
  /** Octez's version selection against our versions: the version to use, or the Nack motive. */
  versionSelection: VersionSelection
}

/**
 * The node's connect decision, the second half of Octez's `raw_authenticate`
 * (`src/lib_p2p/p2p_connect_handler.ml`): `refuse` closes without a Nack (banned peer, wrong peer id
 * for a point), `nack` answers Nack with a motive and points to try instead, `accept` answers Ack.
 */
export type OctezDecision =
  | { accept: true }
  | { nack: NackMotive, points?: string[] }
  | { refuse: true }

export type OctezDecide = (remote: OctezRemote) => OctezDecision

export interface OctezHandshakeRun {
  socket: Socket
  /** Aborted by the authentication (or connection) deadline; its reason is what the run throws. */
  signal: AbortSignal
  incoming: boolean
  local: OctezLocalParty
  decide: OctezDecide
  /** Told the remote's peer id once a chunk sealed under its key has opened (only then is it proven). */
  onIdentified?: (tezosPeerId: string) => void
}

export interface OctezHandshakeResult {
  remote: OctezRemote
  /** The versions selected for this connection. */
  version: NetworkVersion
  /** Channel key and both nonces, advanced past the metadata and Ack chunks. */
  cipher: ChunkCipher
  /** Bytes the peer sent after its Ack, already received. */
  leftover: Uint8Array
}

function decodeOrMalformed<T> (what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    if (err instanceof DecodeError) throw new MalformedHandshakeError(`${what}: ${err.message}`, { cause: err })
    throw err
  }
}

async function readConnectionFrame (reader: SocketReader): Promise<Uint8Array> {
  const header = await reader.readExact(CONNECTION_FRAME_HEADER_BYTES)
  const length = (header[0] << 8) | header[1]
  // As Octez: any 2-byte length is read in full, then the body must decode exactly.
  const body = length === 0 ? new Uint8Array(0) : await reader.readExact(length)
  const frame = new Uint8Array(CONNECTION_FRAME_HEADER_BYTES + length)
  frame.set(header, 0)
  frame.set(body, CONNECTION_FRAME_HEADER_BYTES)
  return frame
}

async function readChunk (reader: SocketReader, cipher: ChunkCipher, what: string): Promise<Uint8Array> {
  const header = await reader.readExact(LENGTH_PREFIX_BYTES)
  const length = (header[0] << 8) | header[1]
  if (length < BOX_TAG_BYTES) throw new HandshakeShortChunkError(what, length)
  return cipher.open(await reader.readExact(length), `the ${what}`)
}

/**
 * Writes and resolves once the bytes are handed to the kernel, the socket failed (nothing to wait
 * for) or the deadline passed.
 */
async function writeAll (socket: Socket, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    signal.addEventListener('abort', () => { resolve() }, { once: true })
    socket.write(bytes, () => { resolve() })
  })
}

/**
 * Octez's socket authentication (`P2p_socket.authenticate`, then `nack` or `accept`), the same code
 * on both sides, in Octez's order:
 * 1. write our connection message (2-byte length ‖ body), read the remote's;
 * 2. check its proof of work before anything is derived from its key;
 * 3. channel key (`Crypto_box.precompute`) and the two nonces (`Crypto_box.generate_nonces`, the
 *    unbound derivation: nothing but the two frames and the direction string);
 * 4. write our metadata chunk, read the remote's;
 * 5. refuse a connection to ourselves (Octez checks it only here, after the first encrypted chunk);
 * 6. the connect decision: close (refuse), Nack (with motive and points when the remote's p2p
 *    version is ≥ 1, else Nack_v_0) and close, or Ack and read the remote's Ack or Nack.
 * Throws a `HandshakeError`; never closes the socket.
 */
export async function authenticateOctez (run: OctezHandshakeRun): Promise<OctezHandshakeResult> {
  const { socket, local } = run
  const reader = new SocketReader(socket, run.signal)
  let detached = false
  try {
    const ownMessage: ConnectionMessage = {
      port: local.advertisedPort,
      publicKey: local.identity.publicKey,
      proofOfWorkStamp: local.identity.powStamp,
      messageNonce: local.messageNonce ?? randomBytes(MESSAGE_NONCE_BYTES),
      version: announcedVersion(local.versions)
    }
    const ownFrame = encodeConnectionFrame(ownMessage)
    socket.write(ownFrame)
    const remoteFrame = await readConnectionFrame(reader)
    const remoteMessage = decodeOrMalformed('connection message', () => decodeConnectionFrame(remoteFrame))
    const tezosPeerId = peerIdOfPublicKey(remoteMessage.publicKey)
    if (!checkProofOfWork(remoteMessage.publicKey, remoteMessage.proofOfWorkStamp, local.powTarget)) {
      throw new NotEnoughProofOfWorkError(tezosPeerId, local.expectedPow)
    }

    const channelKey = handshakeChannelKey(remoteMessage.publicKey, local.identity.secretKey)
    const nonces = octezNonces(ownFrame, remoteFrame, run.incoming)
    const cipher = new ChunkCipher(channelKey, nonces.local, nonces.remote)

    socket.write(cipher.seal(encode(connectionMetadataCodec, local.metadata)))
    const metadataBytes = await readChunk(reader, cipher, 'metadata chunk')
    run.onIdentified?.(tezosPeerId)
    const metadata = decodeOrMalformed('metadata', () => decodeExact(connectionMetadataCodec, metadataBytes))
    if (tezosPeerId === local.identity.peerId) {
      throw new SelfConnectionError(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`)
    }

    const remote: OctezRemote = {
      tezosPeerId,
      publicKey: remoteMessage.publicKey,
      advertisedPort: remoteMessage.port,
      announced: remoteMessage.version,
      metadata,
      connectionMessage: remoteMessage,
      address: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      incoming: run.incoming,
      versionSelection: selectVersion(local.versions, remoteMessage.version)
    }
    const decision = run.decide(remote)
    if ('refuse' in decision) throw new PeerRefusedError(tezosPeerId)
    const selection = remote.versionSelection
    // Never Ack a peer we share no version with, whatever the decision says.
    const motive: NackMotive | undefined = !selection.ok ? selection.motive : 'nack' in decision ? decision.nack : undefined
    if (motive !== undefined || !selection.ok) {
      const chosen: NackMotive = motive ?? 'No_motive'
      const points = 'nack' in decision ? (decision.points ?? []) : []
      // P2p_version.feature_available Nack_with_list: p2p version 1 and later.
      const nack: AckMessage = remoteMessage.version.p2pVersion >= 1
        ? { tag: 'Nack', motive: chosen, points: points.slice(0, MAX_NACK_POINTS_SENT) }
        : { tag: 'Nack_v_0' }
      await writeAll(socket, cipher.seal(encode(ackCodec, nack)), run.signal)
      throw new PeerRejectedError(chosen)
    }

    socket.write(cipher.seal(encode(ackCodec, { tag: 'Ack' })))
    const ackBytes = await readChunk(reader, cipher, 'ack chunk')
    const ack = decodeOrMalformed('ack', () => decodeExact(ackCodec, ackBytes))
    if (ack.tag === 'Nack') throw new RejectedByPeerError(ack.motive, ack.points)
    if (ack.tag === 'Nack_v_0') throw new RejectedByPeerError('No_motive', [])
    const leftover = reader.detach()
    detached = true
    return { remote, version: selection.version, cipher, leftover }
  } finally {
    if (!detached) reader.detach()
  }
}
