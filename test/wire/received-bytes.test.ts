import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DecodeError, encode } from '../../src/encoding/index.ts'
import { blockHash, blockHashOfBytes, blockHeaderCodec } from '../../src/wire/block-header.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { decodeP2pMessage, encodeP2pMessage, type P2pMessage } from '../../src/wire/p2p-message.ts'
import { takeReceivedBytes } from '../../src/wire/received-bytes.ts'
import { hashReceivedHeader, hashReceivedPass } from '../../src/chain/received-hashes.ts'
import { blockHeader, bytes, operation } from '../encoding/arbitraries.ts'

const hash = bytes(32)
type Answer = Extract<P2pMessage, { tag: 'Predecessor_header' | 'Block_header' | 'Operations_for_blocks' }>

const answer: fc.Arbitrary<Answer> = fc.oneof(
  fc.record({ tag: fc.constant('Predecessor_header' as const), blockHash: hash, offset: fc.integer({ min: 0, max: 2 ** 31 - 1 }), header: blockHeader }),
  fc.record({ tag: fc.constant('Block_header' as const), header: blockHeader }),
  fc.record({
    tag: fc.constant('Operations_for_blocks' as const),
    blockHash: hash,
    validationPass: fc.integer({ min: 0, max: 3 }),
    path: fc.array(fc.record({ side: fc.constantFrom('Left' as const, 'Right' as const), sibling: hash }), { maxLength: 3 }),
    operations: fc.array(operation, { maxLength: 4 })
  })
)

/** What an answer's headers and operations encode to, and what was kept of the bytes they came from. */
function keptAndEncoded (m: P2pMessage): Array<[Uint8Array | undefined, Uint8Array]> {
  if (m.tag === 'Operations_for_blocks') return m.operations.map(op => [takeReceivedBytes(op), encode(operationCodec, op)])
  if (m.tag === 'Predecessor_header' || m.tag === 'Block_header') return [[takeReceivedBytes(m.header), encode(blockHeaderCodec, m.header)]]
  return []
}

describe('received bytes', () => {
  it('keeps the bytes each header and operation of an answer was decoded from, once', () => {
    fc.assert(fc.property(answer, sent => {
      const received = decodeP2pMessage(encodeP2pMessage(sent))
      for (const [kept, encoded] of keptAndEncoded(received)) assert.deepEqual(kept, encoded)
      // Taken once: the view is forgotten.
      for (const [kept] of keptAndEncoded(received)) assert.equal(kept, undefined)
    }), { numRuns: 300 })
  })

  it('hands on a view of a received Buffer, and a copy of a plain array', () => {
    fc.assert(fc.property(blockHeader, header => {
      const wire = encodeP2pMessage({ tag: 'Block_header', header })
      const fromBuffer = decodeP2pMessage(Buffer.from(wire)) as Extract<P2pMessage, { tag: 'Block_header' }>
      const view = takeReceivedBytes(fromBuffer.header) as Uint8Array
      assert.equal(view.buffer, fromBuffer.header.protocolData.buffer, 'the fields and the bytes view the same buffer')
      assert.deepEqual(new Uint8Array(view), encode(blockHeaderCodec, header))
      const fromArray = decodeP2pMessage(wire) as Extract<P2pMessage, { tag: 'Block_header' }>
      const copy = takeReceivedBytes(fromArray.header) as Uint8Array
      assert.notEqual(copy.buffer, wire.buffer)
      assert.deepEqual(copy, encode(blockHeaderCodec, header))
    }), { numRuns: 100 })
  })

  it('accepts only canonical encodings: whatever decodes after mutation re-encodes to the bytes it came from', () => {
    let decoded = 0
    fc.assert(fc.property(answer, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 3 }), (sent, flips) => {
      const wire = encodeP2pMessage(sent)
      // Bit flips after the 6-byte envelope head, where the fields are.
      for (const [at, bit] of flips) if (wire.length > 6) wire[6 + (at % (wire.length - 6))] ^= 1 << bit
      let received: P2pMessage
      try {
        received = decodeP2pMessage(wire)
      } catch (err) {
        if (err instanceof DecodeError) return
        throw err
      }
      decoded++
      for (const [kept, encoded] of keptAndEncoded(received)) assert.deepEqual(kept, encoded)
    }), { numRuns: 2000 })
    assert.ok(decoded > 100, `only ${decoded} mutated answers decoded`)
  })

  it('hashes a received header and pass to what encoding them gives', () => {
    fc.assert(fc.property(blockHeader, fc.array(operation, { maxLength: 4 }), hash, (header, operations, block) => {
      const h = decodeP2pMessage(encodeP2pMessage({ tag: 'Block_header', header })) as Extract<P2pMessage, { tag: 'Block_header' }>
      const hashed = hashReceivedHeader(h.header)
      assert.deepEqual(hashed.hash, blockHash(header))
      assert.deepEqual(hashed.bytes, encode(blockHeaderCodec, header))
      assert.deepEqual(blockHashOfBytes(hashed.bytes), hashed.hash)
      const pass = decodeP2pMessage(encodeP2pMessage({ tag: 'Operations_for_blocks', blockHash: block, validationPass: 0, path: [], operations })) as Extract<P2pMessage, { tag: 'Operations_for_blocks' }>
      assert.deepEqual(hashReceivedPass(pass.operations).encoded, operations.map(op => encode(operationCodec, op)))
    }), { numRuns: 200 })
  })
})
