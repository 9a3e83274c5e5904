import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { SelfConnectionError } from '../../src/handshake/errors.ts'
import type { PeerPenalized } from '../../src/peers/policy.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import type { P2pMessage } from '../../src/wire/p2p-message.ts'
import { identityFailingPow, identityWithPow, TEST_CHAIN } from '../helpers/node.ts'
import { freshLoopbackSource } from '../sync/nodes.ts'
import { startOctezChainNode, type OctezChainNode } from './node-helpers.ts'
import { waitFor } from '../helpers/wait.ts'
import { RawOctezPeer } from './raw-peer.ts'
import type { Identity } from '../../src/identity/identity.ts'
import type { ConnectionMetadata } from '../../src/wire/metadata.ts'

/** A scripted Octez-wire peer dialling from a loopback address of its own (so greylisting it spares the others). */
async function rawFrom (port: number): Promise<{ raw: RawOctezPeer, ip: string }> {
  const ip = freshLoopbackSource()
  const socket = connect({ host: '127.0.0.1', port, localAddress: ip, noDelay: true })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  return { raw: new RawOctezPeer(socket), ip }
}

/** A raw peer through the whole honest handshake, Ack both ways. */
async function authenticated (node: OctezChainNode, options: { identity?: Identity, metadata?: ConnectionMetadata } = {}): Promise<{ raw: RawOctezPeer, ip: string, identity: Identity }> {
  const identity = options.identity ?? identityWithPow(0)
  const { raw, ip } = await rawFrom(node.octezPort)
  const { ack } = await raw.handshake(identity, false, { version: { chainName: TEST_CHAIN }, ...(options.metadata === undefined ? {} : { metadata: options.metadata }) })
  assert.equal(ack?.tag, 'Ack')
  await waitFor(() => node.node.networkPeers.get(identity.peerId) !== undefined, { what: 'node.node.networkPeers.get(identity.peerId) !== undefined' })
  return { raw, ip, identity }
}

/** The next P2P message from the node. */
async function readMessage (raw: RawOctezPeer): Promise<P2pMessage> {
  return await raw.readMessage()
}

async function nextOf (raw: RawOctezPeer, tag: P2pMessage['tag']): Promise<P2pMessage> {
  for (;;) {
    const m = await readMessage(raw)
    if (m.tag === tag) return m
  }
}

function penalties (node: OctezChainNode): PeerPenalized[] {
  const seen: PeerPenalized[] = []
  node.node.on('peer:penalized', e => { seen.push(e) })
  return seen
}

describe('hostile peers on the Octez port of a node', () => {
  let setup: DemoSetup
  let builder: DemoChainBuilder
  let victim: OctezChainNode
  let seen: PeerPenalized[]

  before(async () => {
    setup = demoSetup({ name: 'octez-node-hostile', verifyWorkers: 0 })
    builder = new DemoChainBuilder(setup)
    victim = await startOctezChainNode(setup, { authenticationTimeoutMs: 1000 })
    await victim.node.chain?.addBlocks(await builder.grow(5, 1))
    seen = penalties(victim)
  })

  after(async () => { await victim?.close() })

  it('an honest raw peer is sent Get_current_branch first (Octez activates a chain after it)', async () => {
    const { raw } = await authenticated(victim)
    try {
      const first = await readMessage(raw)
      assert.equal(first.tag, 'Get_current_branch')
    } finally { raw.close() }
  })

  it('a garbage chunk: the connection is closed and the peer scored (invalid-message), not greylisted', async () => {
    const { raw, ip, identity } = await authenticated(victim)
    raw.write(Buffer.concat([Buffer.from([0, 40]), Buffer.alloc(40, 7)]))
    await raw.ended
    await waitFor(() => seen.some(e => e.peerId === identity.peerId && e.kind === 'invalid-message'), { what: 'seen.some(e => e.peerId === identity.peerId && e.kind === \'invalid-message\')' })
    await waitFor(() => victim.node.networkPeers.get(identity.peerId) === undefined, { what: 'victim.node.networkPeers.get(identity.peerId) === undefined' })
    assert.equal(victim.node.greylist.isGreylisted(ip), false)
  })

  it('an oversized length: malformed, disconnected and greylisted (IP and peer id)', async () => {
    const { raw, ip, identity } = await authenticated(victim)
    raw.writeChunk(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0x10]))
    await raw.ended
    await waitFor(() => victim.node.greylist.isGreylisted(ip) && victim.node.greylist.isGreylisted(identity.peerId), { what: 'victim.node.greylist.isGreylisted(ip) && victim.node.greylist.isGreylisted(identity.pee...' })
    assert.ok(seen.some(e => e.peerId === identity.peerId && e.kind === 'malformed-message'))
  })

  it('a slowloris handshake: closed at the authentication timeout, not greylisted', async () => {
    const { raw, ip } = await rawFrom(victim.octezPort)
    raw.write(Buffer.from([0, 200, 1]))
    await raw.ended
    assert.equal(victim.node.greylist.isGreylisted(ip), false)
  })

  it('a wrong chain: Nack Unknown_chain_name, not greylisted', async () => {
    const { raw, ip } = await rawFrom(victim.octezPort)
    const { ack } = await raw.handshake(identityWithPow(0), false, { version: { chainName: 'SOME_OTHER_CHAIN' } })
    assert.equal(ack?.tag, 'Nack')
    assert.equal(ack?.tag === 'Nack' ? ack.motive : undefined, 'Unknown_chain_name')
    await raw.ended
    assert.equal(victim.node.greylist.isGreylisted(ip), false)
  })

  it('an unrequested answer is scored (unrequested-data) and the peer kept', async () => {
    const { raw, identity } = await authenticated(victim)
    try {
      raw.writeMessage({ tag: 'Block_header', header: builder.head.header })
      await waitFor(() => seen.some(e => e.peerId === identity.peerId && e.kind === 'unrequested-data'), { what: 'seen.some(e => e.peerId === identity.peerId && e.kind === \'unrequested-data\')' })
      assert.ok(victim.node.networkPeers.get(identity.peerId) !== undefined, 'still connected')
      assert.ok((victim.node.scores.score(identity.peerId)) < 0)
    } finally { raw.close() }
  })

  it('self-connection: detected, and the point is never dialled again', async () => {
    await assert.rejects(victim.node.octez?.dial('127.0.0.1', victim.octezPort) ?? Promise.reject(new Error('no wire')), SelfConnectionError)
    assert.ok(victim.node.octez?.points.own.has(`127.0.0.1:${victim.octezPort}`))
    await assert.rejects(victim.node.octez?.dial('127.0.0.1', victim.octezPort) ?? Promise.reject(new Error('no wire')), SelfConnectionError)
    assert.equal(victim.node.greylist.isGreylisted('127.0.0.1'), false)
  })

  it('Advertise feeds the Octez points; Bootstrap is answered with Advertise of known points', async () => {
    const teller = await authenticated(victim)
    const asker = await authenticated(victim)
    try {
      teller.raw.writeMessage({ tag: 'Advertise', points: ['192.0.2.8:9732', '[2001:db8::8]:9733', 'not a point'] })
      await waitFor(() => victim.node.octez?.points.get('192.0.2.8:9732') !== undefined, { what: 'victim.node.octez?.points.get(\'192.0.2.8:9732\') !== undefined' })
      assert.ok(victim.node.octez?.points.get('[2001:db8::8]:9733') !== undefined)
      asker.raw.writeMessage({ tag: 'Bootstrap' })
      const advertised = await nextOf(asker.raw, 'Advertise')
      const points = advertised.tag === 'Advertise' ? advertised.points : []
      assert.ok(points.includes('192.0.2.8:9732'), points.join(' '))
      assert.ok(points.includes('[2001:db8::8]:9733'), points.join(' '))
    } finally {
      teller.raw.close()
      asker.raw.close()
    }
  })

  it('a disable_mempool peer gets Current_head with an empty mempool; another peer gets the mempool', async () => {
    const [op] = builder.transfers([{ from: 1, to: 2, amount: 3n }])
    const { hash } = await victim.node.inject(encode(operationCodec, op))
    const quiet = await authenticated(victim, { metadata: { disableMempool: true, privateNode: false } })
    const chatty = await authenticated(victim)
    try {
      const chainId = victim.node.chain?.genesis.chainId ?? new Uint8Array(4)
      quiet.raw.writeMessage({ tag: 'Get_current_head', chainId })
      chatty.raw.writeMessage({ tag: 'Get_current_head', chainId })
      const toQuiet = await nextOf(quiet.raw, 'Current_head')
      const toChatty = await nextOf(chatty.raw, 'Current_head')
      assert.deepEqual(toQuiet.tag === 'Current_head' ? toQuiet.mempool : undefined, { knownValid: [], pending: [] })
      assert.deepEqual(toChatty.tag === 'Current_head' ? toChatty.mempool.knownValid.map(toHex) : undefined, [toHex(hash)])
    } finally {
      quiet.raw.close()
      chatty.raw.close()
    }
  })
})

describe('a node run with --disable-mempool, and a node demanding more proof of work, on the Octez port', () => {
  it('greylists and disconnects a peer that sends it a non-empty mempool anyway', async () => {
    const setup = demoSetup({ name: 'octez-node-no-mempool', verifyWorkers: 0 })
    const builder = new DemoChainBuilder(setup)
    const node = await startOctezChainNode(setup, { disableMempool: true })
    try {
      await node.node.chain?.addBlocks(await builder.grow(2, 1))
      const { raw, ip, identity } = await authenticated(node)
      assert.equal(authenticatedMetadata(node, identity).disableMempool, false)
      const head = node.node.head()
      if (head === undefined) throw new Error('no head')
      raw.writeMessage({
        tag: 'Current_head',
        chainId: node.node.chain?.genesis.chainId ?? new Uint8Array(4),
        header: head.header,
        mempool: { knownValid: [new Uint8Array(32).fill(5)], pending: [] }
      })
      await raw.ended
      await waitFor(() => node.node.greylist.isGreylisted(identity.peerId) && node.node.greylist.isGreylisted(ip), { what: 'node.node.greylist.isGreylisted(identity.peerId) && node.node.greylist.isGreylisted(ip)' })
    } finally {
      await node.close()
    }
  })

  it('greylists the address of a peer whose proof of work is too little', async () => {
    const setup = demoSetup({ name: 'octez-node-pow', verifyWorkers: 0 })
    const node = await startOctezChainNode(setup, { expectedPow: 8, identity: identityWithPow(8) })
    try {
      const { raw, ip } = await rawFrom(node.octezPort)
      raw.writeConnectionMessage({
        port: 0, publicKey: identityFailingPow(8).publicKey, proofOfWorkStamp: new Uint8Array(24), messageNonce: new Uint8Array(24),
        version: { chainName: TEST_CHAIN, distributedDbVersion: 2, p2pVersion: 1 }
      })
      await raw.ended
      await waitFor(() => node.node.greylist.isGreylisted(ip), { what: 'node.node.greylist.isGreylisted(ip)' })
    } finally {
      await node.close()
    }
  })
})

/** The metadata the node recorded for a peer (what it announced). */
function authenticatedMetadata (node: OctezChainNode, identity: Identity): ConnectionMetadata {
  const peer = node.node.networkPeers.get(identity.peerId)
  if (peer === undefined) throw new Error('not connected')
  return peer.metadata
}

describe('a private node on the Octez port', () => {
  it('Nacks an incoming peer that is not at a trusted point, and advertises no points', async () => {
    const setup = demoSetup({ name: 'octez-node-private', verifyWorkers: 0 })
    const node = await startOctezChainNode(setup, { privateMode: true })
    try {
      const { raw } = await rawFrom(node.octezPort)
      const { ack } = await raw.handshake(identityWithPow(0), false, { version: { chainName: TEST_CHAIN } })
      assert.equal(ack?.tag, 'Nack')
      assert.deepEqual(ack?.tag === 'Nack' ? ack.points : undefined, [])
      await raw.ended
    } finally {
      await node.close()
    }
  })
})
