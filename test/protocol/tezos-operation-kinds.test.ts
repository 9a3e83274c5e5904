import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { LocalForger, ProtocolsHash } from '@taquito/local-forging'
import { fromHex } from '../../src/encoding/index.ts'
import { b58Decode } from '../../src/crypto/index.ts'
import { ed25519FromName, ed25519Sign, encodePublicKey, encodePublicKeyHash } from '../../src/protocol/demo/keys.ts'
import { describeTezosContents, kindOfTag, tezosOperationKinds } from '../../src/protocol/tezos/operation-kinds.ts'
import type { Operation } from '../../src/wire/operation.ts'

const vectors = JSON.parse(readFileSync(new URL('../fixtures/octez-public.json', import.meta.url), 'utf8')) as {
  operations: Array<{ hex: string, branch: string }>
}

const BRANCH = 'BKqTKfGwK3zHnVXX33X5PPHy1FDTnbkajj3eFtCXGFyfimQhT1H'
const alice = ed25519FromName('operation-kinds/alice')
const bob = ed25519FromName('operation-kinds/bob')

/** A signed operation as a wallet makes one: contents forged by the library, an Ed25519 signature over 0x03 ‖ bytes. */
async function signedOperation (contents: Array<Record<string, unknown>>): Promise<Operation> {
  const forged = fromHex(await new LocalForger().forge({ branch: BRANCH, contents }))
  const signature = ed25519Sign(new Uint8Array([3, ...forged]), alice.secretKey)
  return { branch: forged.subarray(0, 32), data: new Uint8Array([...forged.subarray(32), ...signature]) }
}

const source = encodePublicKeyHash(alice.publicKeyHash)
const manager = { source, fee: '1420', counter: '7', gas_limit: '10600', storage_limit: '300' }

describe('Tezos operations by kind', () => {
  it('decodes a batch of manager operations with the library and strips the signature', async () => {
    const op = await signedOperation([
      { kind: 'reveal', ...manager, public_key: encodePublicKey(alice.publicKey) },
      { kind: 'transaction', ...manager, counter: '8', amount: '1000000', destination: encodePublicKeyHash(bob.publicKeyHash) },
      { kind: 'delegation', ...manager, counter: '9', delegate: encodePublicKeyHash(bob.publicKeyHash) }
    ])
    const d = describeTezosContents(op, ProtocolsHash.PsParisCZ)
    assert.equal(d.decoded, true)
    assert.ok(d.decoded)
    assert.deepEqual(d.contents.map(c => c.kind), ['reveal', 'transaction', 'delegation'])
    assert.equal(d.contents[1].amount, '1000000')
    assert.equal(d.contents[1].destination, encodePublicKeyHash(bob.publicKeyHash))
    assert.equal(d.signature.length, 128)
    assert.deepEqual(tezosOperationKinds(op), ['reveal', 'transaction', 'delegation'])
  })

  it('decodes an origination and an activation', async () => {
    const origination = await signedOperation([{
      kind: 'origination', ...manager, balance: '5000000',
      script: { code: [{ prim: 'parameter', args: [{ prim: 'unit' }] }, { prim: 'storage', args: [{ prim: 'unit' }] }, { prim: 'code', args: [[{ prim: 'CDR' }, { prim: 'NIL', args: [{ prim: 'operation' }] }, { prim: 'PAIR' }]] }], storage: { prim: 'Unit' } }
    }])
    assert.deepEqual(tezosOperationKinds(origination, ProtocolsHash.PtNairobi), ['origination'])
    const activation = await signedOperation([{ kind: 'activate_account', pkh: 'tz1LoKbFyYHTkCnj9mgRKFb9g8pP4Lr3zniP', secret: '9b7f631e52f877a1d363474404da8130b0b940ee' }])
    assert.deepEqual(tezosOperationKinds(activation), ['activate_account'])
  })

  it("names a consensus operation by its protocol's era", async () => {
    const attestation = await signedOperation([{ kind: 'attestation', slot: 3, level: 100, round: 0, block_payload_hash: 'vh1g87ZG6scSYxKhspAUzprQVuLAyoa5qMBKcUfjgnQGnFb3dJcG' }])
    assert.deepEqual(tezosOperationKinds(attestation, ProtocolsHash.PsParisCZ), ['attestation'])
    assert.deepEqual(tezosOperationKinds(attestation, ProtocolsHash.PtNairobi), ['endorsement'])
    assert.deepEqual(tezosOperationKinds(attestation), ['attestation'], 'an unknown or absent protocol reads as the current one')
  })

  it("falls back to the tag's kind and the raw bytes for what the library does not decode (a real Emmy* endorsement)", () => {
    const v = vectors.operations[0]
    const bytes = fromHex(v.hex)
    const op: Operation = { branch: bytes.subarray(0, 32), data: bytes.subarray(32) }
    assert.deepEqual(op.branch, b58Decode('blockHash', v.branch))
    const d = describeTezosContents(op, ProtocolsHash.PsCARTHA)
    assert.equal(d.decoded, false)
    assert.ok(!d.decoded)
    assert.equal(d.kind, 'endorsement')
    assert.equal(d.tag, 0)
    assert.equal(d.raw, v.hex.slice(64))
  })

  it('names evidence by its tag, per era, and nothing for an unknown tag', () => {
    const evidence: Operation = { branch: new Uint8Array(32), data: new Uint8Array([3, ...new Uint8Array(100)]) }
    assert.deepEqual(tezosOperationKinds(evidence, ProtocolsHash.PtGRANADs), ['double_baking_evidence'])
    assert.equal(kindOfTag(2, ProtocolsHash.PtGRANADs), 'double_endorsement_evidence')
    assert.equal(kindOfTag(2, ProtocolsHash.PsParisCZ), 'double_attestation_evidence')
    assert.equal(kindOfTag(0, ProtocolsHash.PsParisCZ), undefined)
    assert.equal(kindOfTag(20, ProtocolsHash.PtKathman), 'preendorsement')
    assert.equal(kindOfTag(20, ProtocolsHash.ProxfordY), 'preattestation')
    const unknown: Operation = { branch: new Uint8Array(32), data: new Uint8Array([0xfe, 1, 2]) }
    const d = describeTezosContents(unknown)
    assert.deepEqual(d, { decoded: false, tag: 0xfe, raw: 'fe0102' })
    assert.deepEqual(describeTezosContents({ branch: new Uint8Array(32), data: new Uint8Array() }), { decoded: false, raw: '' })
  })
})
