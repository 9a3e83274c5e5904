/**
 * libp2p's event targets with Node's listener table only (src/node/lean-event-targets.ts): the
 * listener rules libp2p relies on hold as with main-event's own methods, and two libp2p hosts over
 * real TCP + Noise + yamux on loopback open, use and close streams without a listener left on
 * the connection.
 * Applied first, as the `tzp2p` launcher applies it, before any libp2p object exists (this file
 * runs in its own process).
 */
import { leanEventTargets } from '../../src/node/lean-event-targets.ts'
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { byteStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import { TypedEventEmitter } from 'main-event'

const unsupported = leanEventTargets()

interface Events { ping: CustomEvent<number> }

const hosts: Libp2p[] = []
after(async () => { await Promise.all(hosts.map(async h => { await h.stop() })) })

async function startHost (): Promise<Libp2p> {
  const host = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  hosts.push(host)
  return host
}

/** Polls until `check` holds; the deadline only keeps a broken test from hanging. */
async function until (what: string, check: () => boolean, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${deadlineMs} ms: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('lean event targets', () => {
  it('applies to the installed main-event', () => {
    assert.equal(unsupported, undefined)
    const method = (prototype: object, name: string): unknown => Object.getOwnPropertyDescriptor(prototype, name)?.value
    assert.equal(method(TypedEventEmitter.prototype, 'addEventListener'), method(EventTarget.prototype, 'addEventListener'))
    assert.equal(method(TypedEventEmitter.prototype, 'removeEventListener'), method(EventTarget.prototype, 'removeEventListener'))
    assert.equal(leanEventTargets(), undefined, 'a second call changes nothing')
  })

  it('keeps the listener rules: once per listener, once, signal, handleEvent, removal, listenerCount', () => {
    const target = new TypedEventEmitter<Events>()
    const heard: string[] = []
    const plain = (evt: CustomEvent<number>): void => { heard.push(`plain ${evt.detail}`) }
    target.addEventListener('ping', plain)
    target.addEventListener('ping', plain)
    assert.equal(target.listenerCount('ping'), 1, 'the same listener added twice is added once')
    target.addEventListener('ping', () => { heard.push('once') }, { once: true })
    const controller = new AbortController()
    target.addEventListener('ping', () => { heard.push('until aborted') }, { signal: controller.signal })
    const object = { handleEvent: (evt: CustomEvent<number>): void => { heard.push(`object ${evt.detail}`) } }
    target.addEventListener('ping', object)
    assert.equal(target.listenerCount('ping'), 4)

    target.safeDispatchEvent('ping', { detail: 1 })
    assert.deepEqual(heard, ['plain 1', 'once', 'until aborted', 'object 1'])
    assert.equal(target.listenerCount('ping'), 3, 'the once listener is gone')

    controller.abort()
    assert.equal(target.listenerCount('ping'), 2, 'the aborted signal removed its listener')
    target.addEventListener('ping', () => { heard.push('never') }, { signal: controller.signal })
    assert.equal(target.listenerCount('ping'), 2, 'an aborted signal adds nothing')

    target.removeEventListener('ping', plain)
    target.removeEventListener('ping', object)
    assert.equal(target.listenerCount('ping'), 0)
    heard.length = 0
    target.safeDispatchEvent('ping', { detail: 2 })
    assert.deepEqual(heard, [])
    assert.equal(target.listenerCount('unknown'), 0)
  })

  it('carries libp2p streams over TCP, Noise and yamux, and closed streams leave no listener on the connection', async () => {
    const server = await startHost()
    const client = await startHost()
    await server.handle('/echo/1.0.0', async stream => {
      for await (const chunk of stream) stream.send(chunk)
      await stream.close()
    })
    const connection = await client.dial(server.getMultiaddrs()[0])
    const baseline = getEventListeners(connection, 'close').length
    for (let i = 0; i < 5; i++) {
      const stream = await connection.newStream('/echo/1.0.0')
      const bytes = byteStream(stream)
      const sent = new Uint8Array(1000).fill(i)
      await bytes.write(sent)
      assert.deepEqual(Uint8Array.from((await bytes.read({ bytes: sent.length })).subarray()), sent)
      await stream.close()
      await until('the stream closed on both ends', () => stream.status === 'closed')
    }
    await until('no stream left open', () => connection.streams.length === 0)
    assert.equal(getEventListeners(connection, 'close').length, baseline, 'no close listener left on the connection')
    await connection.close()
    await until('the connection closed', () => connection.status === 'closed')
  })
})
