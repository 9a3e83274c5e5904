import { test } from 'node:test'
import assert from 'node:assert/strict'
import { libp2pLogger } from '../../src/node/libp2p-logger.ts'

test('without DEBUG, libp2p gets one logger that logs nothing for every component and scope', () => {
  const components = libp2pLogger({})
  assert.notEqual(components, undefined)
  const a = components!.forComponent('libp2p:yamux')
  const b = components!.forComponent('libp2p:tcp').newScope('connection')
  assert.equal(a.enabled, false)
  // Shared: a connection or stream adds no logger of its own.
  assert.equal(a, b)
  assert.equal(a.newScope('stream'), a)
  a('message %s', 'ignored')
  a.error('error %s', 'ignored')
  a.trace('trace %s', 'ignored')
})

test('with DEBUG set, libp2p keeps its own logger', () => {
  assert.equal(libp2pLogger({ DEBUG: 'libp2p:*' }), undefined)
  assert.notEqual(libp2pLogger({ DEBUG: '' }), undefined)
})
