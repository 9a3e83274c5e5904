/**
 * Hostile peers on the Octez port, each played by a scripted socket (test/octez/raw-peer.ts), and
 * what each one ends as: the typed error, whether Octez would greylist, and the socket closed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import {
  HandshakeError, NotEnoughProofOfWorkError, PeerRefusedError, PeerRejectedError, RejectedByPeerError
} from '../../src/handshake/errors.ts'
import type { Identity } from '../../src/identity/identity.ts'
import {
  dialOctez, listenOctez, type OctezCloseInfo, type OctezConnection, type OctezDecide, type OctezIncomingFailure,
  type OctezListener
} from '../../src/octez/index.ts'
import { encodeConnectionFrame } from '../../src/wire/connection-message.ts'
import { connectionMetadataCodec } from '../../src/wire/metadata.ts'
import { identityFailingPow, identityWithPow } from '../helpers/node.ts'
import { connectionMessageOf, RawOctezPeer, TEST_CHAIN } from './raw-peer.ts'

interface Target {
  listener: OctezListener
  identity: Identity
  failures: OctezIncomingFailure[]
  nextFailure: () => Promise<OctezIncomingFailure>
  nextConnection: () => Promise<OctezConnection>
}

async function target (options: { expectedPow?: number, authenticationTimeoutMs?: number, decide?: OctezDecide, identity?: Identity } = {}): Promise<Target> {
  const identity = options.identity ?? identityWithPow(0)
  const failures: OctezIncomingFailure[] = []
  const failureWaiters: Array<(f: OctezIncomingFailure) => void> = []
  const connections: OctezConnection[] = []
  const connectionWaiters: Array<(c: OctezConnection) => void> = []
  const listener = await listenOctez({
    host: '127.0.0.1',
    port: 0,
    identity,
    chainName: TEST_CHAIN,
    expectedPow: options.expectedPow ?? 0,
    authenticationTimeoutMs: options.authenticationTimeoutMs,
    decide: options.decide,
    onConnection: c => { const w = connectionWaiters.shift(); if (w !== undefined) w(c); else connections.push(c) },
    onFailure: f => { failures.push(f); failureWaiters.shift()?.(f) }
  })
  return {
    listener,
    identity,
    failures,
    nextFailure: async () => await new Promise(resolve => {
      const f = failures.shift()
      if (f !== undefined) resolve(f); else failureWaiters.push(resolve)
    }),
    nextConnection: async () => await new Promise(resolve => {
      const c = connections.shift()
      if (c !== undefined) resolve(c); else connectionWaiters.push(resolve)
    })
  }
}

/** A scripted peer authenticated with the target; returns it and the target's side of the connection. */
/** A fresh listener for `use`, closed afterwards whatever happens. */
async function withTarget<T> (options: Parameters<typeof target>[0], use: (t: Target) => Promise<T>): Promise<T> {
  const t = await target(options)
  try {
    return await use(t)
  } finally {
    await t.listener.close()
  }
}

async function authenticated (t: Target): Promise<{ peer: RawOctezPeer, conn: OctezConnection }> {
  const peer = await RawOctezPeer.dial(t.listener.port)
  const accepted = t.nextConnection()
  const { ack } = await peer.handshake(identityWithPow(0), false)
  assert.deepEqual(ack, { tag: 'Ack' })
  return { peer, conn: await accepted }
}

/** Reads an iteration to its end (or its error), discarding the values. */
async function drain (iterable: AsyncIterable<unknown>): Promise<void> {
  const iterator = iterable[Symbol.asyncIterator]()
  let step = await iterator.next()
  while (step.done !== true) step = await iterator.next()
}

async function closedWithError (conn: OctezConnection): Promise<OctezCloseInfo> {
  const info = await conn.closed
  assert.equal(info.by, 'error')
  // The iteration surfaces the same error.
  await assert.rejects(drain(conn.messages()), info.error)
  return info
}

/**
 * Authenticates a scripted peer to a fresh listener, lets it `misbehave` after the Ack, and
 * returns how our end of the connection closed, once the peer has seen it close.
 */
async function misbehaveAfterAck (misbehave: (peer: RawOctezPeer) => void): Promise<OctezCloseInfo> {
  return await withTarget({}, async t => {
    const { peer, conn } = await authenticated(t)
    misbehave(peer)
    const info = await closedWithError(conn)
    await peer.ended
    peer.close()
    return info
  })
}

test('garbage chunk after the Ack: ChunkDecipherError (invalid-message), connection closed', async () => {
  const info = await misbehaveAfterAck(peer => {
    peer.write(Uint8Array.of(0, 100))
    peer.write(randomBytes(100))
  })
  assert.equal(info.error?.name, 'ChunkDecipherError')
  assert.equal(info.error?.misbehaviour, 'invalid-message')
})

test('chunk shorter than its tag: ShortChunkError, connection closed', async () => {
  const info = await misbehaveAfterAck(peer => { peer.write(Uint8Array.of(0, 15)) })
  assert.equal(info.error?.name, 'ShortChunkError')
})

test('oversized envelope length: MalformedMessageError (malformed-message) at once, nothing more is awaited', async () => {
  const info = await misbehaveAfterAck(peer => { peer.writeChunk(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0x00, 0x10)) })
  assert.equal(info.error?.name, 'MalformedMessageError')
  assert.equal(info.error?.misbehaviour, 'malformed-message')
})

test('unknown tag: MalformedMessageError as soon as the tag is in, without the announced body', async () => {
  const info = await misbehaveAfterAck(peer => { peer.writeChunk(Uint8Array.of(0x00, 0x00, 0x10, 0x00, 0x00, 0x99)) })
  assert.match(info.error?.message ?? '', /unknown message tag 0x0099/)
})

test('a payload that breaks its encoding: MalformedMessageError', async () => {
  // Get_current_branch with a 3-byte chain id.
  const info = await misbehaveAfterAck(peer => { peer.writeChunk(Uint8Array.of(0, 0, 0, 5, 0x00, 0x10, 1, 2, 3)) })
  assert.equal(info.error?.name, 'MalformedMessageError')
})

test('slowloris handshake: cut at the authentication timeout (HandshakeTimeoutError, not greylisted)', async () => {
  await withTarget({ authenticationTimeoutMs: 300 }, async t => {
    const peer = await RawOctezPeer.dial(t.listener.port)
    const frame = encodeConnectionFrame(connectionMessageOf(identityWithPow(0)))
    let ended = false
    void peer.ended.then(() => { ended = true })
    // One byte at a time, never the whole connection message, until the target hangs up.
    let at = 0
    const drip = setInterval(() => { if (!ended && at < frame.length - 1) peer.write(frame.subarray(at, ++at)) }, 20)
    try {
      await peer.ended
    } finally {
      clearInterval(drip)
    }
    const failure = await t.nextFailure()
    assert.equal(failure.error.name, 'HandshakeTimeoutError')
    assert.equal((failure.error as HandshakeError).misbehaviour, undefined)
    peer.close()
  })
})

test('wrong chain name: Nack Unknown_chain_name, then closed', async () => {
  await withTarget({}, async t => {
    const peer = await RawOctezPeer.dial(t.listener.port)
    const { ack } = await peer.handshake(identityWithPow(0), false, { version: { chainName: 'SOME_OTHER_CHAIN' }, readAck: true })
    assert.deepEqual(ack, { tag: 'Nack', motive: 'Unknown_chain_name', points: [] })
    await peer.ended
    const failure = await t.nextFailure()
    assert.ok(failure.error instanceof PeerRejectedError)
    assert.equal(failure.error.motive, 'Unknown_chain_name')
    peer.close()
  })
})

test('a p2p version 0 peer gets Nack_v_0; a decision with points Nacks with those points', async () => {
  const points = ['1.2.3.4:9732', '[2001:db8::1]:9733']
  await withTarget({ decide: () => ({ nack: 'Too_many_connections', points }) }, async t => {
    const old = await RawOctezPeer.dial(t.listener.port)
    const answered = await old.handshake(identityWithPow(0), false, { version: { p2pVersion: 0 } })
    assert.deepEqual(answered.ack, { tag: 'Nack_v_0' })
    old.close()
    const current = await RawOctezPeer.dial(t.listener.port)
    const { ack } = await current.handshake(identityWithPow(0), false)
    assert.deepEqual(ack, { tag: 'Nack', motive: 'Too_many_connections', points })
    current.close()
  })
})

test('too little proof of work: closed right after the connection messages, nothing else read or written', async () => {
  await withTarget({ expectedPow: 8 }, async t => {
    const peer = await RawOctezPeer.dial(t.listener.port)
    const weak = identityFailingPow(8)
    peer.writeConnectionMessage(connectionMessageOf(weak))
    await peer.readConnectionMessage()
    await peer.ended
    // Only our connection message came back: no metadata chunk was written after the PoW check.
    assert.equal(toHex(peer.receivedBytes()), toHex(peer.remoteFrame!))
    const failure = await t.nextFailure()
    assert.ok(failure.error instanceof NotEnoughProofOfWorkError)
    assert.equal(failure.error.misbehaviour, 'insufficient-pow')
    assert.equal(failure.tezosPeerId, undefined, 'no chunk opened: the peer id is not proven')
    peer.close()
  })
})

test('garbage metadata chunk: HandshakeDecipherError, greylisted as Octez does', async () => {
  await withTarget({}, async t => {
    const peer = await RawOctezPeer.dial(t.listener.port)
    peer.writeConnectionMessage(connectionMessageOf(identityWithPow(0)))
    await peer.readConnectionMessage()
    peer.write(Uint8Array.of(0, 18))
    peer.write(randomBytes(18))
    await peer.ended
    const failure = await t.nextFailure()
    assert.equal(failure.error.name, 'HandshakeDecipherError')
    assert.equal((failure.error as HandshakeError).misbehaviour, 'undecipherable')
    peer.close()
  })
})

test('refused peer: closed after the metadata, without a Nack', async () => {
  await withTarget({ decide: () => ({ refuse: true }) }, async t => {
    const peer = await RawOctezPeer.dial(t.listener.port)
    const identity = identityWithPow(0)
    peer.writeConnectionMessage(connectionMessageOf(identity))
    const remote = await peer.readConnectionMessage()
    peer.deriveCipher(identity, remote.publicKey, false)
    peer.writeChunk(encode(connectionMetadataCodec, { disableMempool: false, privateNode: false }))
    await peer.readChunk()
    await peer.ended
    // Connection frame and metadata chunk, and nothing after them: no Nack.
    assert.equal(peer.receivedBytes().length, peer.remoteFrame!.length + 2 + 16 + 2)
    const failure = await t.nextFailure()
    assert.ok(failure.error instanceof PeerRefusedError)
    peer.close()
  })
})

test('self-connection: both ends fail with SelfConnectionError after the metadata', async () => {
  await withTarget({}, async t => {
    await assert.rejects(dialOctez({ host: '127.0.0.1', port: t.listener.port, identity: t.identity, chainName: TEST_CHAIN, expectedPow: 0 }),
      { name: 'SelfConnectionError' })
    const failure = await t.nextFailure()
    assert.equal(failure.error.name, 'SelfConnectionError')
    assert.equal(failure.tezosPeerId, t.identity.peerId)
  })
})

test('dialling: a Nack with points is read correctly (RejectedByPeerError), Nack_v_0 as No_motive', async () => {
  for (const [nack, motive, points] of [
    [{ tag: 'Nack', motive: 'Already_connected', points: ['10.0.0.1:9732', '[::1]:19732'] }, 'Already_connected', ['10.0.0.1:9732', '[::1]:19732']],
    [{ tag: 'Nack_v_0' }, 'No_motive', []]
  ] as const) {
    const raw = await RawOctezPeer.listen()
    try {
      const identity = identityWithPow(0)
      const dialling = dialOctez({ host: '127.0.0.1', port: raw.port, identity: identityWithPow(0), chainName: TEST_CHAIN, expectedPow: 0 })
      const peer = await raw.accepted
      await peer.handshake(identity, true, { ack: nack as never, readAck: false })
      const err = await dialling.then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof RejectedByPeerError)
      assert.equal(err.motive, motive)
      assert.deepEqual(err.points, points)
      peer.close()
    } finally {
      raw.close()
    }
  }
})

test('dialling a peer that never answers: HandshakeTimeoutError at the connection timeout', async () => {
  const raw = await RawOctezPeer.listen()
  try {
    const dialling = dialOctez({
      host: '127.0.0.1', port: raw.port, identity: identityWithPow(0), chainName: TEST_CHAIN, expectedPow: 0, connectionTimeoutMs: 200
    })
    const peer = await raw.accepted
    await assert.rejects(dialling, { name: 'HandshakeTimeoutError' })
    await peer.ended
    peer.close()
  } finally {
    raw.close()
  }
})

test('metadata that does not decode: MalformedHandshakeError', async () => {
  await withTarget({}, async t => {
    const peer = await RawOctezPeer.dial(t.listener.port)
    const identity = identityWithPow(0)
    peer.writeConnectionMessage(connectionMessageOf(identity))
    const remote = await peer.readConnectionMessage()
    peer.deriveCipher(identity, remote.publicKey, false)
    peer.writeChunk(Buffer.concat([encode(connectionMetadataCodec, { disableMempool: false, privateNode: false }), Uint8Array.of(0)]))
    await peer.ended
    const failure = await t.nextFailure()
    assert.equal(failure.error.name, 'MalformedHandshakeError')
    peer.close()
  })
})
