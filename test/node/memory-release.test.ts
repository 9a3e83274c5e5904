/**
 * The memory release after a burst of connections (src/node/memory-release.ts), driven by real TCP
 * connections on loopback: a burst is followed by one memory-reducing GC once connections stop,
 * fewer connections than a burst trigger none, and stopping unsubscribes from Node's channels.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { hasSubscribers } from 'node:diagnostics_channel'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { releaseMemoryAfterConnectionBursts, returnFreedMemory } from '../../src/node/memory-release.ts'

const sockets: Socket[] = []
const server: Server = createServer(socket => { sockets.push(socket) })
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as { port: number }).port
after(async () => {
  for (const s of sockets) s.destroy()
  await new Promise(resolve => server.close(resolve))
})

/** Opens `n` connections to the server and waits until each is established. */
async function openConnections (n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, async () => {
    const socket = connect(port, '127.0.0.1')
    sockets.push(socket)
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  }))
}

describe('memory release after connection bursts', () => {
  it('runs once after a burst, counting both ends of each connection, and not before a burst is complete', async () => {
    const releases: Array<{ connections: number, gcMs: number }> = []
    const { promise: released, resolve } = Promise.withResolvers<void>()
    // 4 connections are 8 sockets here: this process is both the dialler and the listener.
    const stop = releaseMemoryAfterConnectionBursts({ burst: 10, quietMs: 2000, minIntervalMs: 0, onRelease: r => { releases.push(r); resolve() } })
    try {
      await openConnections(4)
      assert.equal(releases.length, 0, 'no release before a burst')
      await openConnections(2)
      await released
      assert.equal(releases.length, 1)
      // All 12 unless the machine stalled for the quiet time between two of them.
      assert.ok(releases[0].connections >= 10 && releases[0].connections <= 12, `${releases[0].connections} sockets`)
      assert.ok(releases[0].gcMs >= 0)
    } finally {
      stop()
    }
  })

  it('stops listening to Node\'s socket channels when stopped, and leaves globalThis.gc alone', () => {
    const stop = releaseMemoryAfterConnectionBursts()
    assert.equal(hasSubscribers('net.server.socket'), true)
    assert.equal(hasSubscribers('net.client.socket'), true)
    stop()
    assert.equal(hasSubscribers('net.server.socket'), false)
    assert.equal(hasSubscribers('net.client.socket'), false)
    returnFreedMemory()
    assert.equal(typeof globalThis.gc, 'undefined')
  })

  it('refuses a negative setting', () => {
    assert.throws(() => releaseMemoryAfterConnectionBursts({ quietMs: -1 }), /quietMs must be a non-negative number, got -1/)
  })
})
