/**
 * Envelope reads (src/stream/envelope-stream.ts) on real yamux streams over TCP + Noise on
 * loopback: a message that arrives in pieces is read whole once its last byte is in, a clean end
 * between messages reads as `undefined`, an end inside a message is a `TruncatedMessageError`, an
 * oversized announcement is refused from its length prefix, and a read waiting for bytes ends with
 * its signal's reason.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { EnvelopeStream, MessageTooLargeError, TruncatedMessageError } from '../../src/stream/envelope-stream.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { startRawHost } from '../handshake/raw-peer.ts'

const PROTOCOL = '/tzp2p/test-envelopes/1.0.0'
const hosts: Libp2p[] = []
after(async () => { await Promise.all(hosts.map(async h => { await h.stop() })) })

/** A stream pair: `local` is the dialer's end, `remote` the listener's. */
async function streamPair (): Promise<{ local: Stream, remote: Stream }> {
  // Plain libp2p hosts (TCP, Noise, yamux, no connection monitor), as the raw handshake tests use.
  const start = async (): Promise<Libp2p> => {
    const host = await startRawHost()
    hosts.push(host)
    return host
  }
  const listener = await start()
  const dialer = await start()
  const remote = Promise.withResolvers<Stream>()
  await listener.handle(PROTOCOL, stream => { remote.resolve(stream) })
  const connection = await dialer.dial(listener.getMultiaddrs()[0])
  const local = await connection.newStream(PROTOCOL)
  // The listener learns of the stream with its first data frame.
  local.send(new Uint8Array(0))
  return { local, remote: await remote.promise }
}

const ping = encodeP2pMessage({ tag: 'Bootstrap' })
const MAX = 1024

describe('EnvelopeStream reads', () => {
  it('reads messages that arrive whole, in pieces and back to back, then a clean end', async () => {
    const { local, remote } = await streamPair()
    const reader = new EnvelopeStream(remote, PROTOCOL, MAX)
    local.send(ping)
    assert.equal((await reader.read())?.message.tag, 'Bootstrap')

    // One byte at a time: the read waits until the whole envelope is in.
    const pending = reader.read()
    for (const byte of ping) local.send(Uint8Array.of(byte))
    assert.equal((await pending)?.message.tag, 'Bootstrap')

    local.send(Buffer.concat([ping, ping]))
    assert.equal((await reader.read())?.message.tag, 'Bootstrap')
    assert.equal((await reader.read())?.message.tag, 'Bootstrap')
    await local.close()
    assert.equal(await reader.read(), undefined)
  })

  it('fails a read cut inside a message, and refuses an oversized length prefix', async () => {
    const cut = await streamPair()
    const reader = new EnvelopeStream(cut.remote, PROTOCOL, MAX)
    cut.local.send(ping.subarray(0, ping.length - 1))
    await cut.local.close()
    await assert.rejects(reader.read(), TruncatedMessageError)

    const big = await streamPair()
    const bigReader = new EnvelopeStream(big.remote, PROTOCOL, MAX)
    const prefix = new Uint8Array(4)
    new DataView(prefix.buffer).setUint32(0, MAX)
    big.local.send(prefix)
    await assert.rejects(bigReader.read(), MessageTooLargeError)
  })

  it('ends a waiting read with its signal\'s reason, and reads on afterwards', async () => {
    const { local, remote } = await streamPair()
    const reader = new EnvelopeStream(remote, PROTOCOL, MAX)
    const controller = new AbortController()
    const waiting = reader.read({ signal: controller.signal })
    local.send(ping.subarray(0, 3))
    const reason = new Error('given up')
    controller.abort(reason)
    await assert.rejects(waiting, error => error === reason)
    local.send(ping.subarray(3))
    assert.equal((await reader.read())?.message.tag, 'Bootstrap', 'the bytes already in are kept for the next read')
  })
})
