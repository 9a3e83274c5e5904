/**
 * Hostile peers after the handshake: attackers that authenticate like anyone (their own loopback
 * address each), then misbehave on /tzp2p/gossip, /tzp2p/sync and /tzp2p/peers. Each attack ends
 * with the attacker disconnected and greylisted where Octez greylists (malformed or oversized
 * messages, invalid blocks, wrong answers), or ignored where Octez ignores (future blocks,
 * throttled requests, silence), an honest peer still served, and no uncaught error.
 */
import { after, afterEach, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual, toHex } from '../../src/encoding/index.ts'
import { merklePath, operationListHash } from '../../src/wire/merkle.ts'
import { GOSSIP_PROTOCOL } from '../../src/gossip/definitions.ts'
import { PEER_EXCHANGE_PROTOCOL } from '../../src/peers/exchange/protocol.ts'
import { SYNC_CHANNEL_ANSWERING, SYNC_CHANNEL_PROTOCOL, SYNC_PROTOCOL } from '../../src/sync/definitions.ts'
import { END_OF_BATCH_BYTES } from '../../src/stream/envelope-stream.ts'
import type { SyncRequest } from '../../src/sync/answers.ts'
import { blockHash, type BlockHeader } from '../../src/wire/block-header.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { operationCodec, operationHash } from '../../src/wire/operation.ts'
import { encode } from '../../src/encoding/index.ts'
import { assertDisconnectedAndGreylisted, assertHonestServed, CrashWatch, lengthPrefix4, openStream, serveSyncByHand, startNodeAttacker, startVictim, type Victim } from './harness.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import type { BlockInput } from '../../src/chain/chain.ts'
import { waitFor } from '../helpers/wait.ts'

describe('hostile peers: gossip, sync and peer exchange', () => {
  /** The victim of the current test: the shared one, or a fresh one (`ownVictim`). */
  let victim: Victim
  let shared: Victim
  const crashes = new CrashWatch()
  const cleanups: Array<() => Promise<unknown>> = []

  before(async () => {
    crashes.start()
    shared = await startVictim({ name: 'hostile-chain', blocks: 3 })
    victim = shared
  })
  after(async () => {
    await shared?.close()
    crashes.stop()
  })
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
    victim = shared
    assert.deepEqual(crashes.errors, [], crashes.describe())
  })

  /**
   * A victim of the test's own: after an attack on its bootstrap, the victim's pipeline towards the
   * attacker's branch may still be winding down, which would delay the next test's heads.
   */
  async function ownVictim (name: string): Promise<void> {
    const v = await startVictim({ name, blocks: 3 })
    cleanups.push(v.close)
    victim = v
  }

  const chainId = (): Uint8Array => victim.node.chain?.genesis.chainId ?? new Uint8Array(4)
  const headLevel = (): number => victim.node.chain?.head.header.shell.level ?? -1

  /** An authenticated attacker without a chain: it speaks the protocols by hand. */
  async function plainAttacker (): Promise<{ node: TzNode, ip: string }> {
    const a = await startNodeAttacker()
    cleanups.push(a.close)
    await a.node.dial(victim.address)
    return a
  }

  /**
   * An authenticated attacker running the victim's chain plus `extra` blocks of its own (so the
   * victim wants them from it), serving its answers through `rewrite`.
   */
  async function chainAttacker (extra: BlockInput[], rewrite?: (envelope: Uint8Array, request: SyncRequest) => Uint8Array): Promise<{ node: TzNode, ip: string }> {
    const a = await startNodeAttacker({
      chain: {
        protocol: victim.setup.protocol,
        genesis: victim.setup.genesis,
        synchronisation: { threshold: 1 },
        ...(rewrite === undefined ? {} : { rewriteSyncAnswer: rewrite })
      }
    })
    cleanups.push(a.close)
    await a.node.chain?.addBlocks([...victim.builder.blocks, ...extra])
    return a
  }

  async function send (from: TzNode, protocol: string, ...chunks: Uint8Array[]): Promise<void> {
    const stream = await openStream(from, victim.node.peerId, protocol)
    for (const c of chunks) stream.send(c)
  }

  it('oversized envelope length prefixes on gossip, sync and peers streams: greylisted', async () => {
    for (const [protocol, length] of [[GOSSIP_PROTOCOL, 0xffff_fff0], [SYNC_PROTOCOL, 4096], [PEER_EXCHANGE_PROTOCOL, 0x7fff_ffff]] as const) {
      const attacker = await plainAttacker()
      await send(attacker.node, protocol, lengthPrefix4(length), new Uint8Array(64))
      await assertDisconnectedAndGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    }
    await assertHonestServed(victim)
  })

  it('garbage envelopes (unknown tag, truncated body) on gossip and sync: greylisted', async () => {
    const unknownTag = new Uint8Array([0, 0, 0, 6, 0xfe, 0xfe, 1, 2, 3, 4])
    // A Get_block_headers whose list length runs past the envelope.
    const badList = new Uint8Array([0, 0, 0, 10, 0, 0x20, 0, 0, 0, 0x40, 1, 2, 3, 4])
    for (const [protocol, bytes] of [[GOSSIP_PROTOCOL, unknownTag], [SYNC_PROTOCOL, badList]] as const) {
      const attacker = await plainAttacker()
      await send(attacker.node, protocol, bytes)
      await assertDisconnectedAndGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    }
    await assertHonestServed(victim)
  })

  it('an Advertise of 101 points opening a peers stream: does not decode, greylisted', async () => {
    const attacker = await plainAttacker()
    const points = Array.from({ length: 101 }, (_, i) => `/ip4/10.0.${i >> 8}.${i & 255}/tcp/9732`)
    // Built by hand: the project's encoder refuses to write more than 100 points.
    const body: number[] = [0, 3]
    for (const p of points) {
      const text = new TextEncoder().encode(p)
      body.push(...lengthPrefix4(text.length), ...text)
    }
    await send(attacker.node, PEER_EXCHANGE_PROTOCOL, lengthPrefix4(body.length), new Uint8Array(body))
    await assertDisconnectedAndGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    await assertHonestServed(victim)
  })

  it('request floods on sync: answers stop at the throttle and the stream limits; the victim keeps serving others', async () => {
    const attacker = await plainAttacker()
    const sync = victim.node.libp2p.services.sync
    assert.ok(sync !== undefined)
    const throttledBefore = sync.stats.throttled
    const connection = victim.node.libp2p.getConnections(attacker.node.peerId)[0]
    assert.ok(connection !== undefined)
    // 300 Get_current_head streams at once (Octez: one per 4 s), plus 300 header requests.
    let currentHeads = 0
    let refused = 0
    const head = victim.node.chain?.head.hash
    assert.ok(head !== undefined)
    const requests = [
      ...Array.from({ length: 300 }, () => encodeP2pMessage({ tag: 'Get_current_head', chainId: chainId() })),
      ...Array.from({ length: 300 }, () => encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: Array.from({ length: 10 }, () => head) }))
    ]
    await Promise.all(requests.map(async (request, i) => {
      try {
        const stream = await openStream(attacker.node, victim.node.peerId, SYNC_PROTOCOL)
        // Current_head answers are a few hundred bytes: one message event each.
        if (i < 300) stream.addEventListener('message', () => { currentHeads++ })
        stream.send(request)
        await stream.close()
        await new Promise<void>(resolve => {
          if (stream.status !== 'open') { resolve(); return }
          stream.addEventListener('close', () => { resolve() }, { once: true })
        })
      } catch {
        refused++
      }
    }))
    // At most 64 sync streams per connection are open at once: the rest are refused by the muxer's
    // stream limit; of those read, Get_current_head beyond its burst of 4 is dropped unanswered.
    assert.ok(refused > 0, 'the stream limit refused some streams')
    assert.ok(sync.stats.throttled > throttledBefore, 'the throttle dropped some requests')
    assert.ok(currentHeads < 300 && currentHeads <= sync.stats.served, `${currentHeads} Current_head answers`)
    await assertHonestServed(victim)
    // Throttled requests are dropped, not punished (as Octez): the attacker is still connected.
    assert.equal(victim.node.greylist.isGreylisted(attacker.ip), false)
    assert.ok(victim.node.peers.get(attacker.node.identity.peerId) !== undefined)
  })

  it('a sync channel pipelining batches whose answers it never reads: the victim stops reading at its flow-control window, resets the channel, and keeps serving others', { timeout: 120_000 }, async () => {
    const attacker = await plainAttacker()
    const sync = victim.node.libp2p.services.sync
    assert.ok(sync !== undefined)
    const head = victim.node.chain?.head.hash
    assert.ok(head !== undefined)
    const servedBefore = sync.stats.served
    // 1 200 batches of 10 headers each (12 000 keys: within the rate once it refills), about
    // 2.7 MB of answers, all written at once; the attacker never reads a byte.
    const BATCHES = 1200
    const batch = Buffer.concat([encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: Array.from({ length: 10 }, () => head) }), END_OF_BATCH_BYTES])
    const stream = await openStream(attacker.node, victim.node.peerId, SYNC_CHANNEL_PROTOCOL)
    const ended = new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
    stream.pause()
    for (let i = 0; i < BATCHES; i++) stream.send(batch)
    await waitFor(() => sync.stats.served > servedBefore, { what: 'the victim answered the first batches' })
    await assertHonestServed(victim)
    // The victim answers until its send window is full, with at most SYNC_CHANNEL_ANSWERING
    // batches in hand, then reads nothing more; 30 s later the write deadline resets the channel.
    await ended
    const served = sync.stats.served - servedBefore
    assert.ok(served >= SYNC_CHANNEL_ANSWERING && served < BATCHES / 2, `${served} of ${BATCHES} batches answered`)
    assert.equal(sync.channels.open, 0, 'the channel is gone')
    // Not reading is slowness, not a fault: the attacker is still connected.
    assert.equal(victim.node.greylist.isGreylisted(attacker.ip), false)
    await assertHonestServed(victim)
  })

  it('an invalid block (broken signature) announced as head: greylisted, not applied', async () => {
    const attacker = await plainAttacker()
    const next = await victim.builder.fork('invalid-block').bake([])
    const header: BlockHeader = structuredClone(next.header)
    header.protocolData = header.protocolData.slice()
    header.protocolData[header.protocolData.length - 1] ^= 0xff
    // It serves the block's (empty, correctly hashed) operations, so that the block reaches validation.
    const forged = blockHash(header)
    await serveSyncByHand(attacker.node, request => request.tag !== 'Get_operations_for_blocks'
      ? []
      : request.keys.filter(k => bytesEqual(k.blockHash, forged)).map(k => encodeP2pMessage({
        tag: 'Operations_for_blocks', blockHash: forged, validationPass: k.validationPass, path: merklePath([operationListHash([])], 0), operations: []
      })))
    const level = headLevel()
    await send(attacker.node, GOSSIP_PROTOCOL, encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header, mempool: { knownValid: [], pending: [] } }))
    await assertDisconnectedAndGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    assert.equal(headLevel(), level)
    await assertHonestServed(victim)
  })

  it('a far-future timestamp: the head is ignored, the peer is not blamed (as Octez)', async () => {
    const attacker = await plainAttacker()
    const gossip = victim.node.libp2p.services.gossip
    assert.ok(gossip !== undefined)
    const before = gossip.stats.futureBlocks
    const next = await victim.builder.fork('future').bake([], BigInt(Math.floor(Date.now() / 1000) + 3600))
    await send(attacker.node, GOSSIP_PROTOCOL, encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: next.header, mempool: { knownValid: [], pending: [] } }))
    await waitFor(() => gossip.stats.futureBlocks === before + 1, { what: 'future block counted' })
    assert.equal(await victim.node.chain?.hasBlock(blockHash(next.header)), false)
    assert.equal(victim.node.greylist.isGreylisted(attacker.ip), false)
    assert.ok(victim.node.peers.get(attacker.node.identity.peerId) !== undefined, 'still connected')
    await assertHonestServed(victim)
  })

  it('a bad Merkle path in Operations_for_blocks: greylisted, the block is not applied from it', async () => {
    await ownVictim('hostile-chain-path')
    const fork = victim.builder.fork('bad-path')
    const extra = await fork.grow(1, 2)
    const attacker = await chainAttacker(extra, (envelope, request) => {
      if (request.tag !== 'Get_operations_for_blocks') return envelope
      const copy = envelope.slice()
      // Length 4, tag 2, block hash 32, pass 1, then the path: byte 5 of it lies in a sibling hash.
      copy[4 + 2 + 33 + 5] ^= 0xff
      return copy
    })
    const level = headLevel()
    await attacker.node.dial(victim.address)
    await assertDisconnectedAndGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    assert.equal(headLevel(), level)
    assert.equal(await victim.node.chain?.hasBlock(blockHash(extra[0].header)), false)
    await assertHonestServed(victim)
  })

  it('answers with a block header that was not asked for: greylisted', async () => {
    await ownVictim('hostile-chain-unasked')
    const fork = victim.builder.fork('unasked')
    const extra = await fork.grow(3, 1)
    const other = await victim.builder.fork('unasked-other').bake([])
    const attacker = await chainAttacker(extra, (envelope, request) => {
      if (request.tag !== 'Get_block_headers' && request.tag !== 'Get_predecessor_header') return envelope
      // Whatever was asked, answer with the header of some other block.
      return request.tag === 'Get_block_headers'
        ? encodeP2pMessage({ tag: 'Block_header', header: other.header })
        : encodeP2pMessage({ tag: 'Predecessor_header', blockHash: request.blockHash, offset: request.offset, header: other.header })
    })
    const level = headLevel()
    await attacker.node.dial(victim.address)
    await assertDisconnectedAndGreylisted(victim, { ip: attacker.ip, peerId: attacker.node.peerId })
    assert.equal(await victim.node.chain?.hasBlock(blockHash(other.header)), false)
    assert.equal(headLevel(), level)
    await assertHonestServed(victim)
  })

  it('a peer that never answers sync requests: the victim gets the block from an honest peer, the silent one is not greylisted', async () => {
    await ownVictim('hostile-chain-silent')
    const fork = victim.builder.fork('silent')
    const extra = await fork.grow(1, 1)
    const target = toHex(blockHash(extra[0].header))
    // The silent attacker announces the new head, then reads requests (on sync streams, and on the
    // gossip stream where the operations of an announced block are asked) and never answers.
    const silent = await plainAttacker()
    const swallowed = await serveSyncByHand(silent.node, () => undefined)
    const swallowedOnGossip = await serveSyncByHand(silent.node, () => undefined, GOSSIP_PROTOCOL)
    await send(silent.node, GOSSIP_PROTOCOL, encodeP2pMessage({ tag: 'Current_head', chainId: chainId(), header: extra[0].header, mempool: { knownValid: [], pending: [] } }))
    await waitFor(() => [...swallowed.requests, ...swallowedOnGossip.requests].some(r => r.tag === 'Get_operations_for_blocks'), { what: 'the victim asked the silent peer' })
    // An honest peer with the same block arrives; the victim completes the block from it.
    const honest = await chainAttacker(extra)
    await honest.node.dial(victim.address)
    await waitFor(() => toHex(victim.node.chain?.head.hash ?? new Uint8Array()) === target, { what: 'victim reached the new head', timeoutMs: 45_000 })
    assert.equal(victim.node.greylist.isGreylisted(silent.ip), false)
    await assertHonestServed(victim)
  })

  it('mempool operations on the gossip stream: a flood of Get_operations is answered within the rate and the queue bound; an Operation nobody asked for is scored', async () => {
    await ownVictim('hostile-chain-mempool-channel')
    const [op] = victim.builder.transfers([{ from: 0, to: 1, amount: 1n }])
    await victim.node.inject(encode(operationCodec, op))
    const hash = operationHash(op)
    const attacker = await plainAttacker()
    const gossip = victim.node.libp2p.services.gossip
    const sync = victim.node.libp2p.services.sync
    assert.ok(gossip !== undefined && sync !== undefined)
    const throttledBefore = sync.stats.throttled
    // 3000 requests for the operation the victim holds, on the attacker's gossip stream, in a few writes.
    const request = encodeP2pMessage({ tag: 'Get_operations', operationHashes: Array.from({ length: 10 }, () => hash) })
    const flood = Array.from({ length: 30 }, () => Buffer.concat(Array.from({ length: 100 }, () => request)))
    await send(attacker.node, GOSSIP_PROTOCOL, ...flood)
    await waitFor(() => (gossip.receivedByTag.get('Get_operations') ?? 0) >= 3000 || victim.node.peers.get(attacker.node.identity.peerId) === undefined,
      { what: 'the victim read the flood (or dropped the flooder)', timeoutMs: 60_000 })
    // Beyond the sync responder's rate (1000 per second, burst 1000) requests go unanswered, and
    // answers wait in the peer's announcement queue, which holds 64 at most.
    assert.ok(sync.stats.throttled > throttledBefore, 'the rate dropped some requests')
    assert.ok(gossip.queueHighWater <= gossip.queuedWrites().perPeerBound, `queue high water ${gossip.queueHighWater}`)
    await assertHonestServed(victim)

    // An Operation answering nothing the victim asked: unrequested data, scored, the stream kept.
    const other = await plainAttacker()
    const [stray] = victim.builder.transfers([{ from: 2, to: 3, amount: 1n }])
    await send(other.node, GOSSIP_PROTOCOL, encodeP2pMessage({ tag: 'Operation', operation: stray }))
    await waitFor(() => victim.node.scores.score(other.node.identity.peerId) < 0, { what: 'the sender of the stray operation scored' })
    assert.equal(victim.node.mempool?.has(operationHash(stray)), false, 'an unrequested operation is not taken')
    await assertHonestServed(victim)
  })
})
