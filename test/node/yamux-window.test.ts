/**
 * The node's yamux (src/node/yamux-window.ts) over real TCP + Noise on loopback, against the
 * unmodified library: transfers complete both ways, a receiver running the node's muxer sends a
 * window update per half window instead of one per Data frame, and the small frames it writes in
 * one turn leave in one Noise message (src/node/muxer-write-batching.ts). Frames are counted as
 * each muxer decodes them off the wire, messages as each muxer hands them to Noise.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Stream, StreamMuxerFactory } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { nodeYamux, sparseWindowUpdatesUnsupported } from '../../src/node/yamux-window.ts'
import { addressOf, identityWithPow, startNode, stopAll } from '../helpers/node.ts'
import { connectionMessageOf, RawHandshake } from '../handshake/raw-peer.ts'

const PROTOCOL = '/tzp2p-test/sink/1.0.0'
/** yamux's initial (and, without growth, only) stream window: hashicorp/yamux `spec.md`, "Flow Control". */
const INITIAL_WINDOW = 256 * 1024
const DATA = 0
const WINDOW_UPDATE = 1

/**
 * Frames a host's muxers decoded, by type, over all its connections; and, by stream id, the Data
 * frames its muxers sent and the window updates they decoded.
 */
interface FrameTally {
  /** Messages the host's muxers handed to the encrypted connection (one Noise message each). */
  messagesSent: number
  data: number
  windowUpdates: number
  dataSentOnStream: Map<number, number>
  windowUpdatesOnStream: Map<number, number>
}

const newTally = (): FrameTally => ({ messagesSent: 0, data: 0, windowUpdates: 0, dataSentOnStream: new Map(), windowUpdatesOnStream: new Map() })
const bump = (counts: Map<number, number>, streamId: number): void => { counts.set(streamId, (counts.get(streamId) ?? 0) + 1) }

/** Wraps a muxer factory so that every frame its muxers decode from the wire is counted. */
function counting (inner: () => StreamMuxerFactory, tally: FrameTally): () => StreamMuxerFactory {
  return () => {
    const factory = inner()
    const create = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (maConn) => {
      const send = maConn.send.bind(maConn)
      maConn.send = (data) => {
        tally.messagesSent++
        return send(data)
      }
      const muxer = create(maConn)
      type Header = { type: number, streamID: number }
      const internals = muxer as unknown as {
        handleFrame: (frame: { header: Header }) => void
        sendFrame: (header: Header, data?: unknown) => boolean
      }
      const handleFrame = internals.handleFrame.bind(muxer)
      internals.handleFrame = (frame) => {
        if (frame.header.streamID !== 0 && frame.header.type === DATA) tally.data++
        if (frame.header.streamID !== 0 && frame.header.type === WINDOW_UPDATE) {
          tally.windowUpdates++
          bump(tally.windowUpdatesOnStream, frame.header.streamID)
        }
        handleFrame(frame)
      }
      const sendFrame = internals.sendFrame.bind(muxer)
      internals.sendFrame = (header, data) => {
        if (header.type === DATA) bump(tally.dataSentOnStream, header.streamID)
        return sendFrame(header, data)
      }
      return muxer
    }
    return factory
  }
}

interface Host { libp2p: Libp2p, frames: FrameTally }

/** A plain libp2p host that answers PROTOCOL by reading to the end and replying with the byte count. */
async function startHost (muxer: () => StreamMuxerFactory): Promise<Host> {
  const frames = newTally()
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [counting(muxer, frames)],
    connectionMonitor: { enabled: false }
  })
  await libp2p.handle(PROTOCOL, async (stream: Stream) => {
    let total = 0
    for await (const chunk of stream) total += chunk.byteLength
    const reply = new Uint8Array(4)
    new DataView(reply.buffer).setUint32(0, total)
    stream.send(reply)
    await stream.close()
  })
  await libp2p.start()
  return { libp2p, frames }
}

/** Sends the chunks on a new stream from `from` to `to`, one send each, and returns the byte count `to` read. */
async function transfer (from: Host, to: Host, chunks: Uint8Array[]): Promise<number> {
  const connection = await from.libp2p.dial(to.libp2p.getMultiaddrs()[0])
  const stream = await connection.newStream(PROTOCOL)
  const replyRead = (async () => {
    const parts: Uint8Array[] = []
    for await (const chunk of stream) parts.push(chunk.subarray())
    const reply = Buffer.concat(parts)
    assert.equal(reply.byteLength, 4, 'the sink replies with a 4-byte count')
    return reply.readUInt32BE(0)
  })()
  for (const chunk of chunks) {
    if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(30_000) })
  }
  await stream.close({ signal: AbortSignal.timeout(30_000) })
  return await replyRead
}

/** Frames counted on both hosts while `run` goes. */
async function framesDuring (sender: Host, receiver: Host, run: () => Promise<number>): Promise<{ received: number, dataReceived: number, updatesToSender: number }> {
  const data = receiver.frames.data
  const updates = sender.frames.windowUpdates
  const received = await run()
  return { received, dataReceived: receiver.frames.data - data, updatesToSender: sender.frames.windowUpdates - updates }
}

const SMALL_MESSAGES = 2_000
const smallMessages = (): Uint8Array[] => Array.from({ length: SMALL_MESSAGES }, (_, i) => new Uint8Array(100).fill(i & 0xff))
const BULK_BYTES = 4 * 1024 * 1024
const bulk = (): Uint8Array[] => Array.from({ length: BULK_BYTES / 65_536 }, (_, i) => new Uint8Array(65_536).fill(i & 0xff))
/**
 * At most one update per half window received, plus a handful for the stream's opening (its ACK,
 * and the multistream-select exchange before the payload).
 */
const updateBound = (bytes: number): number => Math.floor(bytes / (INITIAL_WINDOW / 2)) + 4

describe('node yamux: window updates per half window', () => {
  let node: Host
  let plain: Host
  let plainReference: Host

  before(async () => {
    node = await startHost(nodeYamux())
    plain = await startHost(yamux())
    plainReference = await startHost(yamux())
  })
  after(async () => {
    await Promise.all([node, plain, plainReference].map(async host => { await host?.libp2p.stop() }))
  })

  it('is applied to the installed @chainsafe/libp2p-yamux (a new version must be checked against this module)', () => {
    assert.equal(sparseWindowUpdatesUnsupported(), undefined)
  })

  it('small messages from an unmodified peer: all arrive, with an update per half window instead of per frame', async () => {
    const bytes = SMALL_MESSAGES * 100
    const toNode = await framesDuring(plain, node, async () => await transfer(plain, node, smallMessages()))
    assert.equal(toNode.received, bytes)
    assert.ok(toNode.dataReceived >= SMALL_MESSAGES, `one Data frame per message (${toNode.dataReceived})`)
    assert.ok(toNode.updatesToSender <= updateBound(bytes), `${toNode.updatesToSender} window updates for ${toNode.dataReceived} Data frames`)

    // The same transfer to the unmodified library, for reference: one update per Data frame.
    const toPlain = await framesDuring(plain, plainReference, async () => await transfer(plain, plainReference, smallMessages()))
    assert.equal(toPlain.received, bytes)
    assert.ok(toPlain.updatesToSender >= SMALL_MESSAGES, `unmodified yamux: ${toPlain.updatesToSender} window updates for ${toPlain.dataReceived} Data frames`)
  })

  it('a bulk transfer larger than the window from an unmodified peer completes without stalling', async () => {
    const toNode = await framesDuring(plain, node, async () => await transfer(plain, node, bulk()))
    assert.equal(toNode.received, BULK_BYTES)
    assert.ok(toNode.updatesToSender <= updateBound(BULK_BYTES), `${toNode.updatesToSender} window updates for ${BULK_BYTES} bytes`)
  })

  it('the node sends small messages and a bulk transfer to an unmodified peer', async () => {
    assert.equal(await transfer(node, plain, smallMessages()), SMALL_MESSAGES * 100)
    assert.equal(await transfer(node, plain, bulk()), BULK_BYTES)
  })
})

/** Opens a stream from `from` to `to`, sends `count` small messages in one turn, closes; returns the messages `from` sent meanwhile and the byte count `to` read. */
async function sendInOneTurn (from: Host, to: Host, count: number): Promise<{ messages: number, received: number }> {
  const connection = await from.libp2p.dial(to.libp2p.getMultiaddrs()[0])
  const stream = await connection.newStream(PROTOCOL)
  const replyRead = (async () => {
    const parts: Uint8Array[] = []
    for await (const chunk of stream) parts.push(chunk.subarray())
    return Buffer.concat(parts).readUInt32BE(0)
  })()
  const before = from.frames.messagesSent
  for (let i = 0; i < count; i++) assert.ok(stream.send(new Uint8Array(100).fill(i)))
  await new Promise(resolve => setImmediate(resolve))
  const messages = from.frames.messagesSent - before
  await stream.close({ signal: AbortSignal.timeout(30_000) })
  return { messages, received: await replyRead }
}

describe('node yamux: the small frames of one turn in one Noise message', () => {
  let node: Host
  let plain: Host

  before(async () => {
    node = await startHost(nodeYamux())
    plain = await startHost(yamux())
  })
  after(async () => {
    await Promise.all([node, plain].map(async host => { await host?.libp2p.stop() }))
  })

  it('sends ten messages written in one turn as one Noise message, and an unmodified peer reads them all', async () => {
    const fromNode = await sendInOneTurn(node, plain, 10)
    assert.equal(fromNode.received, 1000)
    assert.equal(fromNode.messages, 1, `${fromNode.messages} Noise messages for 10 Data frames`)

    // The unmodified library, for reference: one Noise message per frame.
    const fromPlain = await sendInOneTurn(plain, node, 10)
    assert.equal(fromPlain.received, 1000)
    assert.ok(fromPlain.messages >= 10, `unmodified yamux: ${fromPlain.messages} Noise messages for 10 Data frames`)
  })
})

describe('a tzp2p node (createNode) and an unmodified yamux peer', () => {
  it('complete a handshake, the node answering the peer\'s Data frames without a window update each', async () => {
    const node = await startNode()
    const peer = await startHost(yamux())
    try {
      const identity = identityWithPow(0)
      const connection = await peer.libp2p.dial(multiaddr(addressOf(node)))
      const hs = await RawHandshake.open(peer.libp2p, connection)
      const sent = await hs.sendMessage(connectionMessageOf(identity))
      const received = await hs.readFrame()
      hs.deriveCipher(identity, sent, received, peer.libp2p)
      await hs.sendMetadata()
      await hs.readChunk('metadata')
      await hs.sendAck({ tag: 'Ack' })
      assert.equal((await hs.readAck()).tag, 'Ack')

      const streamId = Number(hs.stream.id)
      const dataSent = peer.frames.dataSentOnStream.get(streamId) ?? 0
      const updates = peer.frames.windowUpdatesOnStream.get(streamId) ?? 0
      // multistream-select, connection message, Metadata, Ack: the stock library answers each with
      // an update (one carrying the ACK flag); the node sends at most the ACK.
      assert.ok(dataSent >= 3, `the peer sent ${dataSent} Data frames on the handshake stream`)
      assert.ok(updates <= 1, `the node sent ${updates} window updates for ${dataSent} Data frames`)
    } finally {
      await stopAll(node, peer.libp2p)
    }
  })
})
