/**
 * A scripted Octez-wire peer for tests: a plain TCP socket whose bytes the test writes step by step
 * with the project's codecs, so it can send what an honest node never would. It records every byte
 * it receives and tells when the other side closes.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { octezNonces, precomputeChannelKey, randomBytes } from '../../src/crypto/index.ts'
import { encode, decodeExact } from '../../src/encoding/index.ts'
import type { Identity } from '../../src/identity/identity.ts'
import { ChunkCipher } from '../../src/handshake/channel.ts'
import { SocketReader } from '../../src/octez/socket-reader.ts'
import { ackCodec, type AckMessage } from '../../src/wire/ack.ts'
import {
  decodeConnectionFrame, encodeConnectionFrame, type ConnectionMessage, type NetworkVersion
} from '../../src/wire/connection-message.ts'
import { connectionMetadataCodec, type ConnectionMetadata } from '../../src/wire/metadata.ts'
import { encodeP2pMessage, type P2pMessage } from '../../src/wire/p2p-message.ts'
import { decodeEnvelopeBody } from '../../src/stream/envelope-stream.ts'

export const TEST_CHAIN = 'TZP2P_OCTEZ_TEST'

export function connectionMessageOf (identity: Identity, version: Partial<NetworkVersion> = {}, port = 0): ConnectionMessage {
  return {
    port,
    publicKey: identity.publicKey,
    proofOfWorkStamp: identity.powStamp,
    messageNonce: randomBytes(24),
    version: { chainName: TEST_CHAIN, distributedDbVersion: 2, p2pVersion: 1, ...version }
  }
}

export class RawOctezPeer {
  readonly socket: Socket
  readonly reader: SocketReader
  /** Every byte received, in order (also those the test reads). */
  readonly received: Uint8Array[] = []
  /** Resolves when the other side has closed (FIN, reset or socket close). */
  readonly ended: Promise<void>
  cipher?: ChunkCipher
  ownFrame?: Uint8Array
  remoteFrame?: Uint8Array

  constructor (socket: Socket) {
    this.socket = socket
    socket.on('data', (d: Buffer) => { this.received.push(new Uint8Array(d)) })
    socket.on('error', () => {})
    this.ended = new Promise(resolve => {
      socket.once('end', () => { resolve() })
      socket.once('close', () => { resolve() })
    })
    this.reader = new SocketReader(socket, new AbortController().signal)
  }

  static async dial (port: number, host = '127.0.0.1'): Promise<RawOctezPeer> {
    const socket = connect({ host, port, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawOctezPeer(socket)
  }

  /** A one-connection listener: `accepted` resolves with the scripted side of the first connection. */
  static async listen (): Promise<{ port: number, accepted: Promise<RawOctezPeer>, close: () => void }> {
    let onAccept!: (peer: RawOctezPeer) => void
    const accepted = new Promise<RawOctezPeer>(resolve => { onAccept = resolve })
    const server = createServer(socket => { socket.setNoDelay(true); onAccept(new RawOctezPeer(socket)) })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    return { port: (server.address() as AddressInfo).port, accepted, close: () => { server.close() } }
  }

  receivedBytes (): Uint8Array {
    return Buffer.concat(this.received)
  }

  write (bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  writeConnectionMessage (message: ConnectionMessage): void {
    this.ownFrame = encodeConnectionFrame(message)
    this.write(this.ownFrame)
  }

  async readConnectionMessage (): Promise<ConnectionMessage> {
    const header = await this.reader.readExact(2)
    const body = await this.reader.readExact((header[0] << 8) | header[1])
    this.remoteFrame = Buffer.concat([header, body])
    return decodeConnectionFrame(this.remoteFrame)
  }

  /** Derives the channel exactly as Octez does, once both frames went by. */
  deriveCipher (identity: Identity, remotePublicKey: Uint8Array, incoming: boolean): ChunkCipher {
    const nonces = octezNonces(this.ownFrame!, this.remoteFrame!, incoming)
    this.cipher = new ChunkCipher(precomputeChannelKey(remotePublicKey, identity.secretKey), nonces.local, nonces.remote)
    return this.cipher
  }

  writeChunk (plaintext: Uint8Array): void {
    this.write(this.cipher!.seal(plaintext))
  }

  async readChunk (): Promise<Uint8Array> {
    const header = await this.reader.readExact(2)
    return this.cipher!.open(await this.reader.readExact((header[0] << 8) | header[1]), 'chunk')
  }

  /**
   * The whole honest handshake up to and including our Ack or Nack; returns what the other side
   * answered (its Ack or Nack), unless `readAck` is false.
   */
  async handshake (identity: Identity, incoming: boolean, options: {
    version?: Partial<NetworkVersion>
    metadata?: ConnectionMetadata
    ack?: AckMessage
    readAck?: boolean
  } = {}): Promise<{ remote: ConnectionMessage, remoteMetadata: ConnectionMetadata, ack?: AckMessage }> {
    this.writeConnectionMessage(connectionMessageOf(identity, options.version))
    const remote = await this.readConnectionMessage()
    this.deriveCipher(identity, remote.publicKey, incoming)
    this.writeChunk(encode(connectionMetadataCodec, options.metadata ?? { disableMempool: false, privateNode: false }))
    const remoteMetadata = decodeExact(connectionMetadataCodec, await this.readChunk())
    const ownAck: AckMessage = options.ack ?? { tag: 'Ack' }
    this.writeChunk(encode(ackCodec, ownAck))
    if (options.readAck === false) return { remote, remoteMetadata }
    const ack = decodeExact(ackCodec, await this.readChunk())
    return { remote, remoteMetadata, ack }
  }

  writeMessage (message: P2pMessage): void {
    this.writeChunk(encodeP2pMessage(message))
  }

  /** The next P2P message from the other side (one envelope, possibly over several chunks). */
  async readMessage (): Promise<P2pMessage> {
    let bytes = await this.readChunk()
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)
    while (bytes.length < 4 + length) bytes = Buffer.concat([bytes, await this.readChunk()])
    return decodeEnvelopeBody(bytes.subarray(4, 4 + length))
  }

  close (): void {
    this.reader.detach()
    this.socket.destroy()
  }
}
