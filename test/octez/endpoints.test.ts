/**
 * Two endpoints of our own over the Octez wire on loopback, each way round: handshake, messages both
 * ways after the Ack, a message spanning several chunks reassembled, queues, and close.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from '../../src/crypto/index.ts'
import { decodeExact, fromHex } from '../../src/encoding/index.ts'
import {
  dialOctez, listenOctez, MAX_CHUNK_PLAINTEXT_BYTES, type OctezConnection, type OctezListener, type OctezWireOptions
} from '../../src/octez/index.ts'
import { blockHeaderCodec } from '../../src/wire/block-header.ts'
import { encodeP2pMessage, type P2pMessage } from '../../src/wire/p2p-message.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { identityWithPow } from '../helpers/node.ts'
import { TEST_CHAIN } from './raw-peer.ts'

const chainId = fromHex('9caecab9')
const realHeader = decodeExact(blockHeaderCodec, fromHex(vectors.block_headers[0].hex))

function wire (overrides: Partial<OctezWireOptions> = {}): OctezWireOptions {
  return { identity: identityWithPow(0), chainName: TEST_CHAIN, expectedPow: 0, ...overrides }
}

interface Pair { dialled: OctezConnection, accepted: OctezConnection, listener: OctezListener }

async function connectPair (listenerSide: Partial<OctezWireOptions> = {}, dialSide: Partial<OctezWireOptions> = {}): Promise<Pair> {
  let onAccepted!: (c: OctezConnection) => void
  const acceptedP = new Promise<OctezConnection>(resolve => { onAccepted = resolve })
  const listener = await listenOctez({ host: '127.0.0.1', port: 0, ...wire(listenerSide), onConnection: onAccepted })
  const dialled = await dialOctez({ host: '127.0.0.1', port: listener.port, ...wire(dialSide) })
  return { dialled, accepted: await acceptedP, listener }
}

async function closePair (p: Pair): Promise<void> {
  await Promise.all([p.dialled.close(), p.accepted.close()])
  await p.listener.close()
}

async function take (conn: OctezConnection, n: number): Promise<P2pMessage[]> {
  const out: P2pMessage[] = []
  if (n === 0) return out
  for await (const m of conn.messages()) {
    out.push(m)
    if (out.length === n) break
  }
  return out
}

const bigHeader = (): P2pMessage => ({ tag: 'Block_header', header: { shell: realHeader.shell, protocolData: randomBytes(200_000) } })

for (const direction of ['A dials B', 'B dials A'] as const) {
  test(`two endpoints (${direction}): Ack both ways, then messages both ways, one spanning four chunks`, async () => {
    const a = wire({ metadata: { disableMempool: true, privateNode: false }, advertisedPort: 19732 })
    const b = wire({ metadata: { disableMempool: false, privateNode: true } })
    const p = direction === 'A dials B' ? await connectPair(b, a) : await connectPair(a, b)
    const [fromA, fromB] = direction === 'A dials B' ? [p.dialled, p.accepted] : [p.accepted, p.dialled]
    try {
      // Each side sees the other's identity, metadata and the versions both selected.
      assert.equal(fromB.tezosPeerId, a.identity.peerId)
      assert.equal(fromA.tezosPeerId, b.identity.peerId)
      assert.deepEqual(fromB.metadata, { disableMempool: true, privateNode: false })
      assert.deepEqual(fromA.metadata, { disableMempool: false, privateNode: true })
      assert.deepEqual(fromA.version, { chainName: TEST_CHAIN, distributedDbVersion: 2, p2pVersion: 1 })
      assert.deepEqual(fromB.version, fromA.version)
      assert.equal(fromB.connectionMessage.port, 19732)
      assert.equal(p.accepted.incoming, true)
      assert.equal(p.dialled.incoming, false)
      assert.equal(p.dialled.listeningPort, p.listener.port)

      const big = bigHeader()
      assert.ok(encodeP2pMessage(big).length > 3 * MAX_CHUNK_PLAINTEXT_BYTES)
      const toB: P2pMessage[] = [{ tag: 'Get_current_branch', chainId }, big, { tag: 'Bootstrap' }]
      const toA: P2pMessage[] = [{ tag: 'Get_current_head', chainId }, { tag: 'Advertise', points: ['127.0.0.1:9732', '[::1]:9733'] }]
      const receivedByB = take(fromA, toB.length)
      const receivedByA = take(fromB, toA.length)
      for (const m of toB) await fromB.send(m)
      for (const m of toA) await fromA.send(m)
      assert.deepEqual(await receivedByB, toB)
      assert.deepEqual(await receivedByA, toA)
    } finally {
      await closePair(p)
    }
  })
}

test('close: the other side sees the connection end, its iteration ends and sends fail', async () => {
  const p = await connectPair()
  try {
    const ending = take(p.accepted, 1)
    await p.dialled.send({ tag: 'Bootstrap' })
    assert.deepEqual(await ending, [{ tag: 'Bootstrap' }])
    const info = await p.dialled.close('done')
    assert.deepEqual(info, { by: 'local', reason: 'done' })
    const remote = await p.accepted.closed
    assert.equal(remote.by, 'remote')
    assert.equal(remote.error, undefined)
    assert.deepEqual(await take(p.accepted, 0), [])
    await assert.rejects(p.accepted.send({ tag: 'Bootstrap' }), { name: 'OctezConnectionClosedError' })
  } finally {
    await closePair(p)
  }
})

test('close with flush: every queued message is written before the FIN', async () => {
  const p = await connectPair()
  try {
    const messages: P2pMessage[] = Array.from({ length: 20 }, () => bigHeader())
    for (const m of messages) assert.equal(p.dialled.trySend(m), true)
    await p.dialled.close('done', { flush: true })
    const received: P2pMessage[] = []
    for await (const m of p.accepted.messages()) received.push(m)
    assert.equal(received.length, messages.length)
    assert.deepEqual(received, messages)
  } finally {
    await closePair(p)
  }
})

test('bounded queues: a full outgoing queue refuses trySend; an unread incoming queue pauses the socket', async () => {
  const queue = 300_000
  const p = await connectPair({ incomingQueueBytes: queue }, { outgoingQueueBytes: queue })
  try {
    // Two messages of 200 kB: the second does not fit behind the first.
    let refused = false
    for (let i = 0; i < 50 && !refused; i++) refused = !p.dialled.trySend(bigHeader())
    assert.ok(refused, 'trySend refused once the outgoing queue was full')
    // The reader stops at the bound: what is held stays near it while nobody reads.
    await new Promise<void>(resolve => {
      const check = (): void => { if (p.accepted.queued.incoming >= queue) resolve(); else setImmediate(check) }
      check()
    })
    assert.ok(p.accepted.queued.incoming < queue + 2 * 200_100)
    // send() waits for room and then goes through; reading drains everything.
    const last: P2pMessage = { tag: 'Get_current_head', chainId }
    const sending = p.dialled.send(last)
    let seen: P2pMessage | undefined
    for await (const m of p.accepted.messages()) {
      seen = m
      if (m.tag === 'Get_current_head') break
    }
    await sending
    assert.deepEqual(seen, last)
  } finally {
    await closePair(p)
  }
})

test('binary chunks size: a smaller chunk size on one side still reassembles on the other', async () => {
  const p = await connectPair({}, { binaryChunksSize: 19 + 100 })
  try {
    const m: P2pMessage = { tag: 'Block_header', header: realHeader }
    const got = take(p.accepted, 1)
    await p.dialled.send(m)
    assert.deepEqual(await got, [m])
  } finally {
    await closePair(p)
  }
})
