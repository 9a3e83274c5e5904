import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { byteStream } from '@libp2p/utils'
import { authenticatedOnly } from '../../src/handshake/guard.ts'
import { addressOf, startNode, stopAll } from '../helpers/node.ts'
import { startRawHost } from './raw-peer.ts'

const TEST_PROTOCOL = '/tzp2p/test-echo/1.0.0'
const FAILING_PROTOCOL = '/tzp2p/test-failing/1.0.0'

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

      // A handler that fails aborts its stream, as libp2p does with a handler it awaits.
      await b.libp2p.handle(FAILING_PROTOCOL, authenticatedOnly(b.handshake, async (failing) => {
        for await (const chunk of failing) {
          if (chunk.byteLength > 0) throw new Error('the handler failed')
        }
      }))
      const failing = await connection.newStream(FAILING_PROTOCOL)
      const closed = new Promise<Error | undefined>(resolve => { failing.addEventListener('close', evt => { resolve(evt.error) }, { once: true }) })
      failing.send(new TextEncoder().encode('boom'))
      // The deadline only keeps a broken guard from hanging the test.
      let deadline: ReturnType<typeof setTimeout> | undefined
      const error = await Promise.race([closed, new Promise<never>((_resolve, reject) => {
        deadline = setTimeout(() => { reject(new Error('the failing handler\'s stream was not reset within 20 s')) }, 20_000)
      })]).finally(() => { clearTimeout(deadline) })
      assert.ok(error !== undefined, 'the stream was reset, not closed cleanly')
      assert.equal(failing.status, 'reset')
    } finally {
      await stopAll(a, b, raw)
    }
  })
})
