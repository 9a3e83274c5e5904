/**
 * The node's Noise encrypter (src/node/noise-encrypter.ts) over real TCP + yamux on loopback,
 * against the stock library on the other end: the handshake authenticates the same peers, data
 * larger than one Noise message crosses both ways, and the upgraded connection's encrypted stream
 * no longer holds the remote's decoded handshake payload (the stock one does).
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { byteStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Connection } from '@libp2p/interface'
import { nodeNoise } from '../../src/node/noise-encrypter.ts'

const hosts: Libp2p[] = []
after(async () => { await Promise.all(hosts.map(async h => { await h.stop() })) })

async function startHost (encrypter: ReturnType<typeof noise>): Promise<Libp2p> {
  const host = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [encrypter],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false }
  })
  await host.handle('/echo/1.0.0', async stream => {
    for await (const chunk of stream) if (!stream.send(chunk)) await stream.onDrain()
    await stream.close()
  })
  hosts.push(host)
  return host
}

/** The handshake result the connection's encrypted stream (the muxer's underlying stream) keeps. */
function keptHandshake (connection: Connection): { payload?: unknown, encrypt?: unknown, decrypt?: unknown } {
  const muxer = (connection as unknown as { muxer?: { maConn?: { handshake?: { payload?: unknown } } } }).muxer
  const handshake = muxer?.maConn?.handshake
  assert.ok(handshake !== undefined, 'the connection has an encrypted stream with a handshake')
  return handshake
}

/** Polls until `check` holds; the deadline only keeps a broken test from hanging. */
async function until (what: string, check: () => boolean, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${deadlineMs} ms: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function echo (connection: Connection, size: number): Promise<void> {
  const stream = await connection.newStream('/echo/1.0.0')
  const bytes = byteStream(stream)
  const sent = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff)
  const [, received] = await Promise.all([bytes.write(sent), bytes.read({ bytes: size })])
  assert.deepEqual(Uint8Array.from(received.subarray()), sent)
  await stream.close()
}

describe('the node\'s Noise encrypter', () => {
  it('authenticates and carries data with the stock library, keeping only the cipher functions', async () => {
    const ours = await startHost(nodeNoise())
    const stock = await startHost(noise())
    for (const [from, to] of [[ours, stock], [stock, ours]] as const) {
      const connection = await from.dial(to.getMultiaddrs()[0])
      assert.equal(connection.remotePeer.toString(), to.peerId.toString())
      // More than one Noise message (at most 65 535 bytes each), both ways.
      await echo(connection, 200_000)
      await until('the other end has the connection', () => to.getConnections(from.peerId).length > 0)
      const oursEnd = from === ours ? connection : ours.getConnections(stock.peerId)[0]
      const stockEnd = from === stock ? connection : stock.getConnections(ours.peerId)[0]
      const kept = keptHandshake(oursEnd)
      assert.equal(kept.payload, undefined, 'our end dropped the decoded payload')
      assert.equal(typeof kept.encrypt, 'function')
      assert.equal(typeof kept.decrypt, 'function')
      assert.notEqual(keptHandshake(stockEnd).payload, undefined, 'the stock end keeps it')
      await echo(oursEnd, 70_000)
      await connection.close()
      // The next dial must make a new connection, not reuse this one while it closes.
      await until('the connection gone at both ends', () => from.getConnections(to.peerId).length === 0 && to.getConnections(from.peerId).length === 0)
    }
  })
})
