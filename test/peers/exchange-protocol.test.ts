import { test } from 'node:test'
import assert from 'node:assert/strict'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { concatBytes, fromHex, toHex } from '../../src/encoding/index.ts'
import {
  ADVERTISE_MAX_ACCEPTED, announcedBodyLength, decodePeerMessage, encodePeerMessage, formatExchangedPoint, MalformedPeerMessageError,
  MAX_MESSAGE_BODY_BYTES, parseExchangedPoint, peerIdBytes, peerIdFromBytes, POINT_MULTIADDR_MAX_BYTES, UnexpectedPeerMessageError
} from '../../src/peers/exchange/protocol.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'

/** protocols/peers.md §3–4: the envelope, the point strings and their bounds. */

const ID = vectors.identities[0].peer_id
const LIBP2P_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

/** A 4-byte length ‖ UTF-8 string, as every point travels. */
function str (s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s)
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, bytes.length)
  return concatBytes(len, bytes)
}

/** An envelope around a tag and a raw payload (no checks: for building bad messages). */
function envelope (tag: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(6)
  const view = new DataView(head.buffer)
  view.setUint32(0, 2 + payload.length)
  view.setUint16(4, tag)
  return concatBytes(head, payload)
}

test('the messages are Octez\'s envelope with multiaddr points: bytes as specified', () => {
  assert.equal(toHex(encodePeerMessage({ tag: 'Bootstrap' })), '000000020002')
  assert.equal(toHex(encodePeerMessage({ tag: 'Disconnect' })), '000000020001')
  const advertise = encodePeerMessage({ tag: 'Advertise', points: ['/ip4/127.0.0.1/tcp/9732'] })
  assert.equal(toHex(advertise), '0000001d0003' + '00000017' + toHex(new TextEncoder().encode('/ip4/127.0.0.1/tcp/9732')))
  const swap = encodePeerMessage({ tag: 'Swap_request', point: '/ip6/::1/tcp/9733', peerId: peerIdBytes(ID) })
  assert.deepEqual(decodePeerMessage(swap), { tag: 'Swap_request', point: '/ip6/::1/tcp/9733', peerId: peerIdBytes(ID) })
  assert.equal(peerIdFromBytes(peerIdBytes(ID)), ID)
  // Octez's own Advertise body (ip:port strings) decodes as an envelope; its points are not multiaddrs.
  const body = fromHex(vectors.messages.find(m => m.name === 'Advertise')?.hex ?? '')
  const octez = decodePeerMessage(envelope(3, body))
  assert.equal(octez.tag, 'Advertise')
  assert.throws(() => parseExchangedPoint((octez as { points: string[] }).points[1]), MalformedPeerMessageError)
})

test('an Advertise of 100 points of 256 bytes is the largest message; one more point or byte is malformed', () => {
  const long = `/ip4/10.0.0.1/tcp/9732/p2p/${LIBP2P_ID}`
  const point256 = long + '/'.repeat(POINT_MULTIADDR_MAX_BYTES - long.length)
  assert.equal(new TextEncoder().encode(point256).length, 256)
  const full = envelope(3, concatBytes(...Array.from({ length: ADVERTISE_MAX_ACCEPTED }, () => str(point256))))
  assert.equal(full.length - 4, MAX_MESSAGE_BODY_BYTES)
  assert.equal(announcedBodyLength(full.subarray(0, 4)), MAX_MESSAGE_BODY_BYTES)
  const decoded = decodePeerMessage(full)
  assert.equal(decoded.tag === 'Advertise' && decoded.points.length, 100)

  // 101 points: the length itself is already beyond any valid message.
  const over = envelope(3, concatBytes(...Array.from({ length: 101 }, () => str('/ip4/10.0.0.1/tcp/1'))))
  assert.throws(() => decodePeerMessage(over), MalformedPeerMessageError)
  const tooLong = envelope(3, concatBytes(str(point256 + '/')))
  assert.throws(() => decodePeerMessage(tooLong), MalformedPeerMessageError)
  // A length beyond the bound is refused from its 4 bytes, before anything is read.
  assert.throws(() => announcedBodyLength(fromHex('00010000')), MalformedPeerMessageError)
  assert.throws(() => announcedBodyLength(fromHex('00000001')), MalformedPeerMessageError)
  assert.throws(() => encodePeerMessage({ tag: 'Advertise', points: Array.from({ length: 101 }, () => '/ip4/1.2.3.4/tcp/1') }))
})

test('bytes that are not a peer message are malformed; a valid message of another protocol is unexpected', () => {
  for (const bad of ['00000002', '000000020009', '0000000300020000', '000000060003000000ff', '000000060003ffffffff']) {
    assert.throws(() => decodePeerMessage(fromHex(bad)), MalformedPeerMessageError, bad)
  }
  // A Swap_ack with a peer id one byte short.
  assert.throws(() => decodePeerMessage(envelope(5, concatBytes(str('/ip4/1.2.3.4/tcp/1'), new Uint8Array(15)))), MalformedPeerMessageError)
  // Invalid UTF-8 in a point.
  assert.throws(() => decodePeerMessage(envelope(3, concatBytes(fromHex('00000002'), fromHex('c328')))), MalformedPeerMessageError)
  // Get_current_branch (0x10) is a real message, but not on this protocol.
  const branch = encodeP2pMessage({ tag: 'Get_current_branch', chainId: fromHex('01020304') })
  assert.throws(() => decodePeerMessage(branch), UnexpectedPeerMessageError)
})

test('point strings: IP multiaddrs with a TCP port and an optional /p2p id; names and other forms are malformed', () => {
  assert.deepEqual(parseExchangedPoint('/ip4/192.0.2.7/tcp/9732'), { hostKind: 'ip4', host: '192.0.2.7', port: 9732 })
  assert.deepEqual(parseExchangedPoint(`/ip6/2001:db8::1/tcp/9733/p2p/${LIBP2P_ID}`),
    { hostKind: 'ip6', host: '2001:db8::1', port: 9733, libp2pPeerId: LIBP2P_ID })
  // Well-formed but nobody's address: skipped, not penalised.
  assert.equal(parseExchangedPoint('/ip4/0.0.0.0/tcp/9732'), undefined)
  assert.equal(parseExchangedPoint('/ip6/::/tcp/9732'), undefined)
  for (const bad of [
    '/dns4/seed.example.net/tcp/9732', '/ip4/192.0.2.7/udp/9732', '/ip4/192.0.2.7/tcp/0', '/ip4/192.0.2.7',
    '192.0.2.7:9732', '/ip4/192.0.2.7/tcp/9732/ws', 'nonsense', '', '/ip4/300.1.1.1/tcp/1'
  ]) assert.throws(() => parseExchangedPoint(bad), MalformedPeerMessageError, bad)
  assert.equal(formatExchangedPoint({ hostKind: 'ip6', host: '::1', port: 9732, libp2pPeerId: LIBP2P_ID }), `/ip6/::1/tcp/9732/p2p/${LIBP2P_ID}`)
})
