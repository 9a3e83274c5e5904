/**
 * The chunk layer on a real socket, seen from a scripted peer: how our side cuts what it writes
 * (65517 plaintext bytes per chunk, never two messages in one chunk) and how it reassembles what
 * it reads however the peer cuts it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, sealWithKey } from '../../src/crypto/index.ts'
import { decodeExact, fromHex } from '../../src/encoding/index.ts'
import {
  ChunkDecoder, chunkPlaintextSize, cutMessage, listenOctez, MAX_CHUNK_PLAINTEXT_BYTES, type OctezConnection
} from '../../src/octez/index.ts'
import { ChunkCipher } from '../../src/handshake/channel.ts'
import { blockHeaderCodec } from '../../src/wire/block-header.ts'
import { decodeP2pMessage, encodeP2pMessage, type P2pMessage } from '../../src/wire/p2p-message.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { identityWithPow } from '../helpers/node.ts'
import { RawOctezPeer, TEST_CHAIN } from './raw-peer.ts'

const header = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[0].hex))

async function withTarget (run: (peer: RawOctezPeer, conn: OctezConnection) => Promise<void>): Promise<void> {
  let onConnection!: (c: OctezConnection) => void
  const accepted = new Promise<OctezConnection>(resolve => { onConnection = resolve })
  const listener = await listenOctez({ host: '127.0.0.1', port: 0, identity: identityWithPow(0), chainName: TEST_CHAIN, expectedPow: 0, onConnection })
  const peer = await RawOctezPeer.dial(listener.port)
  try {
    const { ack } = await peer.handshake(identityWithPow(0), false)
    assert.deepEqual(ack, { tag: 'Ack' })
    const conn = await accepted
    try {
      await run(peer, conn)
    } finally {
      await conn.close()
    }
  } finally {
    peer.close()
    await listener.close()
  }
}

test('cutMessage: 65517 bytes make one chunk, 65518 two; chunk sizes follow binary_chunks_size', () => {
  assert.equal(MAX_CHUNK_PLAINTEXT_BYTES, 65517)
  assert.equal(chunkPlaintextSize(), 65517)
  assert.equal(cutMessage(new Uint8Array(65517), 65517).length, 1)
  assert.deepEqual(cutMessage(new Uint8Array(65518), 65517).map(p => p.length), [65517, 1])
  assert.equal(chunkPlaintextSize(19), 1)
  assert.throws(() => chunkPlaintextSize(18), RangeError)
  assert.throws(() => chunkPlaintextSize(65536), RangeError)
})

test('writing: a 200 kB message leaves in chunks of 65533 bytes (65517 + tag) and a short last one; the next message starts a new chunk', async () => {
  await withTarget(async (peer, conn) => {
    const big: P2pMessage = { tag: 'Block_header', header: { shell: header.shell, protocolData: randomBytes(200_000) } }
    const small: P2pMessage = { tag: 'Bootstrap' }
    await conn.send(big)
    await conn.send(small)
    const bigBytes = encodeP2pMessage(big)
    const expected = cutMessage(bigBytes, 65517).map(p => p.length)
    const lengths: number[] = []
    const plaintexts: Uint8Array[] = []
    for (let i = 0; i < expected.length + 1; i++) {
      const lengthBytes = await peer.reader.readExact(2)
      const e = (lengthBytes[0] << 8) | lengthBytes[1]
      lengths.push(e)
      plaintexts.push(peer.cipher!.open(await peer.reader.readExact(e), 'chunk'))
    }
    assert.deepEqual(lengths, [...expected.map(n => n + 16), encodeP2pMessage(small).length + 16])
    assert.deepEqual(decodeP2pMessage(new Uint8Array(Buffer.concat(plaintexts.slice(0, -1)))), big)
    assert.deepEqual(decodeP2pMessage(plaintexts[plaintexts.length - 1]), small)
  })
})

test('reading: envelopes split anywhere across chunks, two in one chunk, empty chunks between, all reassembled in order', async () => {
  await withTarget(async (peer, conn) => {
    const messages: P2pMessage[] = [
      { tag: 'Get_current_head', chainId: fromHex('9caecab9') },
      { tag: 'Block_header', header },
      { tag: 'Bootstrap' },
      { tag: 'Block_header', header: { shell: header.shell, protocolData: randomBytes(70_000) } }
    ]
    const stream = Buffer.concat(messages.map(m => encodeP2pMessage(m)))
    // Cuts inside a length prefix, inside a tag, across two envelopes, and a full 65517-byte chunk.
    const cuts = [2, 5, 40, 1, 65517]
    let at = 0
    for (let i = 0; at < stream.length; i++) {
      const n = cuts[i % cuts.length]
      peer.writeChunk(stream.subarray(at, at + n))
      peer.writeChunk(new Uint8Array(0))
      at += n
    }
    const received: P2pMessage[] = []
    for await (const m of conn.messages()) {
      received.push(m)
      if (received.length === messages.length) break
    }
    assert.deepEqual(received, messages)
  })
})

test('reading: a chunk of 65535 bytes (65519 of plaintext, more than a writer puts in one) is accepted', () => {
  const key = randomBytes(32)
  const nonce = randomBytes(24)
  const plaintext = randomBytes(65519)
  const boxed = sealWithKey(key, nonce, plaintext)
  assert.equal(boxed.length, 65535)
  const decoder = new ChunkDecoder(new ChunkCipher(key, nonce, nonce))
  const framed = Buffer.concat([Uint8Array.of(0xff, 0xff), boxed])
  assert.deepEqual(decoder.push(framed.subarray(0, 3)), [])
  const out = decoder.push(framed.subarray(3))
  assert.equal(out.length, 1)
  assert.deepEqual(Buffer.from(out[0]), Buffer.from(plaintext))
  assert.equal(decoder.buffered, 0)
})
