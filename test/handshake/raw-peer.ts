/**
 * A hand-driven handshake for tests that play a misbehaving peer: a plain libp2p host (TCP, Noise,
 * yamux, no tzp2p services) whose handshake stream is written step by step by the test, with the
 * project's own codecs, so it can send what an honest node never would.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { boundNonces, octezNonces, precomputeChannelKey, randomBytes } from '../../src/crypto/index.ts'
import { encode, decodeExact } from '../../src/encoding/index.ts'
import type { Identity } from '../../src/identity/identity.ts'
import { ackCodec, type AckMessage } from '../../src/wire/ack.ts'
import { encodeConnectionFrame, decodeConnectionFrame, type ConnectionMessage } from '../../src/wire/connection-message.ts'
import { connectionMetadataCodec } from '../../src/wire/metadata.ts'
import { ChunkCipher, HandshakeTransport, MAX_CHUNK_PLAINTEXT_BYTES } from '../../src/handshake/channel.ts'
import { TEST_CHAIN } from '../helpers/node.ts'

export async function startRawHost (): Promise<Libp2p> {
  const host = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // No ping service: keep libp2p's connection monitor from opening streams of its own.
    connectionMonitor: { enabled: false }
  })
  await host.start()
  return host
}

export function connectionMessageOf (identity: Identity, overrides: Partial<ConnectionMessage> = {}): ConnectionMessage {
  return {
    port: 0,
    publicKey: identity.publicKey,
    proofOfWorkStamp: identity.powStamp,
    messageNonce: randomBytes(24),
    version: { chainName: TEST_CHAIN, distributedDbVersion: 2, p2pVersion: 1 },
    ...overrides
  }
}

/** One side of a handshake stream, driven by hand. */
export class RawHandshake {
  readonly stream: Stream
  readonly connection: Connection
  readonly transport: HandshakeTransport
  private readonly deadline = new AbortController()
  cipher?: ChunkCipher

  constructor (stream: Stream, connection: Connection) {
    this.stream = stream
    this.connection = connection
    this.transport = new HandshakeTransport(stream, this.deadline.signal)
  }

  static async open (host: Libp2p, connection: Connection): Promise<RawHandshake> {
    const stream = await connection.newStream('/tzp2p/handshake/1.0.0')
    return new RawHandshake(stream, connection)
  }

  async send (bytes: Uint8Array): Promise<void> {
    this.transport.write(bytes)
    await this.transport.flush()
  }

  async sendMessage (message: ConnectionMessage): Promise<Uint8Array> {
    const frame = encodeConnectionFrame(message)
    await this.send(frame)
    return frame
  }

  async readFrame (): Promise<Uint8Array> {
    return await this.transport.readConnectionFrame()
  }

  /**
   * Derives the channel as a node would: our secret key, the remote's public key from its frame,
   * and nonces bound to the libp2p PeerIds of this connection (or Octez's unbound ones).
   */
  deriveCipher (identity: Identity, sentFrame: Uint8Array, recvFrame: Uint8Array, host: Libp2p, bound = true): void {
    const remote = decodeConnectionFrame(recvFrame)
    const key = precomputeChannelKey(remote.publicKey, identity.secretKey)
    const incoming = this.connection.direction === 'inbound'
    const local = host.peerId.toMultihash().bytes
    const other = this.connection.remotePeer.toMultihash().bytes
    const nonces = bound
      ? boundNonces(sentFrame, recvFrame, incoming, incoming ? other : local, incoming ? local : other)
      : octezNonces(sentFrame, recvFrame, incoming)
    this.cipher = new ChunkCipher(key, nonces.local, nonces.remote)
  }

  async sendChunk (plaintext: Uint8Array): Promise<void> {
    if (this.cipher === undefined) throw new Error('derive the cipher first')
    await this.send(this.cipher.seal(plaintext))
  }

  async sendMetadata (): Promise<void> {
    await this.sendChunk(encode(connectionMetadataCodec, { disableMempool: false, privateNode: false }))
  }

  async sendAck (ack: AckMessage): Promise<void> {
    await this.sendChunk(encode(ackCodec, ack))
  }

  /** Reads and opens the next chunk. */
  async readChunk (what = 'chunk'): Promise<Uint8Array> {
    if (this.cipher === undefined) throw new Error('derive the cipher first')
    return this.cipher.open(await this.transport.readChunk(what, MAX_CHUNK_PLAINTEXT_BYTES), what)
  }

  async readAck (): Promise<AckMessage> {
    return decodeExact(ackCodec, await this.readChunk('ack'))
  }

  /** Reads one raw chunk (tag ‖ ciphertext, unopened) — what a relay forwards. */
  async readRawChunk (): Promise<Uint8Array> {
    return await this.transport.readChunk('chunk', MAX_CHUNK_PLAINTEXT_BYTES)
  }

  /** Re-frames a raw chunk for forwarding. */
  async forwardRawChunk (boxed: Uint8Array): Promise<void> {
    const out = new Uint8Array(2 + boxed.length)
    out[0] = boxed.length >> 8
    out[1] = boxed.length & 0xff
    out.set(boxed, 2)
    await this.send(out)
  }

  stop (): void {
    this.deadline.abort(new Error('raw handshake stopped'))
  }
}

/** Waits until a connection reports closed (safety net: the test's own timeout). */
export async function closed (connection: Connection): Promise<void> {
  if (connection.status !== 'open') return
  await new Promise<void>(resolve => { connection.addEventListener('close', () => { resolve() }, { once: true }) })
}
