import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { byteStream } from '@libp2p/utils'
import { authenticatedOnly } from '../../src/handshake/guard.ts'
import { addressOf, startNode, stopAll } from '../helpers/node.ts'
import { startRawHost } from './raw-peer.ts'

const TEST_PROTOCOL = '/tzp2p/test-echo/1.0.0'

describe('authenticated-only guard', () => {
  it('refuses tzp2p streams on a connection before the handshake and serves them after', async () => {
    const b = await startNode({ authenticationTimeoutMs: 3000 })
    const a = await startNode()
    const raw = await startRawHost()
    let served = 0
    try {
      await b.libp2p.handle(TEST_PROTOCOL, authenticatedOnly(b.handshake, async (stream) => {
        served++
        for await (const chunk of stream) stream.send(chunk)
        await stream.close()
      }))

      // A connection that never ran the handshake: the stream is reset, the handler never runs.
      const unauthenticated = await raw.dial(multiaddr(addressOf(b)))
      await assert.rejects(async () => {
        const refused = await unauthenticated.newStream(TEST_PROTOCOL)
        const refusedBytes = byteStream(refused)
        // Depending on timing the reset arrives before our write or before the echo would.
        await refusedBytes.write(new TextEncoder().encode('hello'))
        await refusedBytes.read({ bytes: 5 })
      })
      assert.equal(served, 0)
      assert.equal(unauthenticated.status, 'open', 'only the stream is refused; the deadline handles the connection')

      // The same protocol on an authenticated connection works.
      await a.dial(addressOf(b))
      const connection = a.libp2p.getConnections(b.peerId)[0]
      const stream = await connection.newStream(TEST_PROTOCOL)
      const bytes = byteStream(stream)
      await bytes.write(new TextEncoder().encode('hello'))
      const echoed = await bytes.read({ bytes: 5 })
      assert.equal(new TextDecoder().decode(echoed.subarray()), 'hello')
      assert.equal(served, 1)
      await stream.close()
    } finally {
      await stopAll(a, b, raw)
    }
  })
})
