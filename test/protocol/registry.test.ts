import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { b58Decode, b58Encode, blake2b256 } from '../../src/crypto/index.ts'
import { decodeExact, encode, toHex } from '../../src/encoding/index.ts'
import { demoSetup } from '../helpers/demo-chain.ts'
import { ProtocolWatch } from '../../src/chain/protocol-watch.ts'
import { UnknownProtocolError } from '../../src/chain/errors.ts'
import { RateLimiter } from '../../src/stream/rate-limit.ts'
import { createAcceptAllProtocol } from '../../src/protocol/accept-all.ts'
import { createDemoProtocol } from '../../src/protocol/demo/index.ts'
import {
  canonicalManifestJson, makeManifest, ManifestError, manifestHash, manifestSources, parseManifest, type ProtocolManifest
} from '../../src/protocol/manifest.ts'
import type { Protocol } from '../../src/protocol/protocol.ts'
import { ProtocolRegistry, ProtocolRegistryError } from '../../src/protocol/registry.ts'
import { answersFor } from '../../src/sync/answers.ts'
import { InvalidAnswerError } from '../../src/sync/checks.ts'
import { SyncClient } from '../../src/sync/client.ts'
import { PROTOCOL_REQUEST_INTERVAL_MS, SYNC_THROTTLES } from '../../src/sync/definitions.ts'
import { ProtocolFetcher } from '../../src/sync/protocol-fetcher.ts'
import { decodeP2pMessage, octezP2pMessageCodec, type P2pMessage } from '../../src/wire/p2p-message.ts'
import { protocolCodec, protocolHash } from '../../src/wire/protocol-sources.ts'
import { openChain } from '../chain/helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const setup = demoSetup({ name: 'registry', accounts: 2, verifyWorkers: 0 })
const v2 = createDemoProtocol({ bakerPublicKey: setup.baker.publicKey, bootstrapAccounts: [], verifyWorkers: 0, version: 2 })

test('a manifest is carried as Octez Protocol sources, and the protocol hash is BLAKE2b-256 of their encoding', () => {
  const m = makeManifest('demo', 3, new TextEncoder().encode('x'))
  assert.equal(m.source, toHex(blake2b256(new TextEncoder().encode('x'))))
  const json = canonicalManifestJson(m)
  assert.equal(json, `{"name":"demo","version":3,"source":"${m.source}"}`)
  // Byte layout (Protocol message, tag 0x41; `Protocol.encoding` in Octez `src/lib_base/protocol.ml`):
  // env version uint16 ‖ components as a 4-byte-length list of
  // { name string ‖ interface option (0x00 = none) ‖ implementation string }.
  const name = Buffer.from('Tzp2p_manifest')
  const impl = Buffer.from(json)
  const component = Buffer.concat([u32(name.length), name, Buffer.from([0x00]), u32(impl.length), impl])
  const expected = Buffer.concat([Buffer.from([0x00, 0x00]), u32(component.length), component])
  assert.equal(toHex(encode(protocolCodec, manifestSources(m))), expected.toString('hex'))
  assert.equal(manifestHash(m), b58Encode('protocolHash', blake2b256(expected)))
  assert.match(manifestHash(m), /^P[1-9A-HJ-NP-Za-km-z]{50}$/)
  // In a P2P envelope: 4-byte length ‖ tag 0x0041 ‖ the sources.
  const envelope = encode(octezP2pMessageCodec, { tag: 'Protocol', protocol: manifestSources(m) })
  assert.equal(toHex(envelope), toHex(Buffer.concat([u32(2 + expected.length), Buffer.from([0x00, 0x41]), expected])))
  const back = decodeExact(octezP2pMessageCodec, envelope) as Extract<P2pMessage, { tag: 'Protocol' }>
  assert.deepEqual(parseManifest(back.protocol), m)
})

function u32 (n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

test('parseManifest refuses what is not a canonical tzp2p manifest, with a ManifestError', () => {
  const m: ProtocolManifest = { name: 'demo', version: 1, source: '00'.repeat(32) }
  const ok = manifestSources(m)
  const bad = [
    { expectedEnvVersion: 0, components: [] },
    { expectedEnvVersion: 0, components: [{ name: 'Main', implementation: 'let x = 1' }] },
    { expectedEnvVersion: 0, components: [{ ...ok.components[0], implementation: 'not json' }] },
    { expectedEnvVersion: 0, components: [{ ...ok.components[0], implementation: '{"name":"demo","source":"' + m.source + '","version":1}' }] },
    { expectedEnvVersion: 0, components: [{ ...ok.components[0], implementation: '{"name":"Demo!","version":1,"source":"' + m.source + '"}' }] },
    { expectedEnvVersion: 0, components: [{ ...ok.components[0], implementation: '{"name":"demo","version":0,"source":"' + m.source + '"}' }] },
    { expectedEnvVersion: 0, components: [{ ...ok.components[0], interface: 'sig end' }] }
  ]
  for (const b of bad) assert.throws(() => parseManifest(b), ManifestError, JSON.stringify(b))
})

test('the registry keys protocols by hash, refuses a hash that is not its manifest\'s, serves sources and finds by manifest', () => {
  const registry = new ProtocolRegistry([setup.protocol])
  const seen: string[] = []
  registry.onRegister((_, hash) => seen.push(hash))
  registry.register(v2)
  registry.register(v2)
  assert.deepEqual(seen, [v2.hash])
  assert.equal(registry.get(v2.hash), v2)
  assert.equal(toHex(protocolHash(registry.sourcesOf(v2.hash) as never)), toHex(b58Decode('protocolHash', v2.hash)))
  assert.equal(registry.findByManifest(v2.manifest as ProtocolManifest), v2)
  const other = createAcceptAllProtocol()
  assert.throws(() => registry.register({ ...other, hash: v2.hash }), ProtocolRegistryError)
  assert.throws(() => registry.register({ ...other, hash: setup.protocol.hash, manifest: undefined }), ProtocolRegistryError)
  assert.throws(() => registry.register({ ...other, hash: 'not a hash' }), ProtocolRegistryError)
  // An embedder's protocol without a manifest is installed but not served.
  const bare = { ...other, hash: b58Encode('protocolHash', blake2b256(Uint8Array.of(7))), manifest: undefined } as Protocol
  registry.register(bare)
  assert.equal(registry.get(bare.hash), bare)
  assert.equal(registry.sourcesOf(bare.hash), undefined)
})

test('Get_protocols is answered from installed protocols in the Octez encoding; Protocol answers are checked by hash', async () => {
  const dir = await tempDir('protocol')
  const opened = await openChain(dir, setup, { protocols: [v2] })
  try {
    const unknown = b58Decode('protocolHash', manifestHash({ name: 'demo', version: 9, source: '11'.repeat(32) }))
    const request = { tag: 'Get_protocols' as const, protocolHashes: [b58Decode('protocolHash', v2.hash), unknown] }
    const answers = await answersFor({ chain: opened.chain, tezosPeerId: 'idtUeH5GBZbAXyYCJRXcGbZiqNZSHS' }, 'idtUeH5GBZbAXyYCJRXcGbZiqNZSHS', [request])
    assert.equal(answers.length, 1)
    const m = decodeP2pMessage(answers[0]) as Extract<P2pMessage, { tag: 'Protocol' }>
    assert.equal(m.tag, 'Protocol')
    assert.equal(b58Encode('protocolHash', protocolHash(m.protocol)), v2.hash)
    assert.deepEqual(parseManifest(m.protocol), v2.manifest)

    // The client side: an answer that does not hash to a requested protocol is a wrong answer.
    const client = clientAnswering(() => Promise.resolve([m]))
    assert.deepEqual([...(await client.protocols('peer', [b58Decode('protocolHash', v2.hash)])).keys()], [toHex(b58Decode('protocolHash', v2.hash))])
    await assert.rejects(client.protocols('peer', [unknown]), InvalidAnswerError)
  } finally {
    await opened.close()
    await removeDir(dir)
  }
})

/** A SyncClient whose request goes to `answer` instead of a stream (the answers are real encoded-then-decoded messages). */
function clientAnswering (answer: (requests: unknown) => Promise<P2pMessage[]>): SyncClient {
  const client = new SyncClient({ chainId: new Uint8Array(4), peer: () => undefined })
  client.request = async (_peer, requests) => await answer(requests)
  return client
}

test('Get_protocols is throttled to one per 10 s per peer, as Octez', () => {
  let now = 0
  const limiter = new RateLimiter(SYNC_THROTTLES, () => now)
  assert.equal(limiter.take('a', 'Get_protocols'), true)
  assert.equal(limiter.take('a', 'Get_protocols'), false)
  assert.equal(limiter.take('b', 'Get_protocols'), true)
  now += 9_000
  assert.equal(limiter.take('a', 'Get_protocols'), false)
  now += 1_000
  assert.equal(limiter.take('a', 'Get_protocols'), true)
  assert.equal(PROTOCOL_REQUEST_INTERVAL_MS, 10_000)
})

test('the protocol fetcher installs a matching manifest under the received hash, marks others not-installed, and asks a peer at most once per 10 s', async () => {
  const dir = await tempDir('protocol')
  const serverRegistry = new ProtocolRegistry([v2])
  const opened = await openChain(dir, setup, { protocols: serverRegistry })
  try {
    // A protocol with the same manifest as v2 but another environment version: another hash, the same code.
    const alias = { ...manifestSources(v2.manifest as ProtocolManifest), expectedEnvVersion: 7 }
    const aliasHash = b58Encode('protocolHash', protocolHash(alias))
    const foreign = manifestSources({ name: 'other', version: 1, source: '22'.repeat(32) })
    const foreignHash = b58Encode('protocolHash', protocolHash(foreign))
    let asked = 0
    const client = clientAnswering((requests) => {
      asked++
      const hashes = (requests as Array<{ protocolHashes: Uint8Array[] }>)[0].protocolHashes.map(h => b58Encode('protocolHash', h))
      const out: P2pMessage[] = []
      for (const h of hashes) {
        if (h === aliasHash) out.push({ tag: 'Protocol', protocol: alias })
        if (h === foreignHash) out.push({ tag: 'Protocol', protocol: foreign })
      }
      // Through the wire codec, as a peer's bytes would arrive.
      return Promise.resolve(out.map(m => decodeP2pMessage(encode(octezP2pMessageCodec, m))))
    })
    let now = 1_000_000
    const watch = new ProtocolWatch()
    const local = new ProtocolRegistry([setup.protocol, v2])
    const penalized: string[] = []
    const fetcher = new ProtocolFetcher({ registry: local, watch, client, peers: () => ['p1', 'p2'], report: p => { penalized.push(p.tezosPeerId ?? ''); return { misbehaviour: 'invalid-data', disconnected: false, greylisted: false, trusted: false } }, logger: pino({ level: 'silent' }), now: () => now })
    watch.note(new UnknownProtocolError(aliasHash, 2, 'B…', 21), now)
    await fetcher.fetch(aliasHash)
    assert.equal(local.get(aliasHash), v2)
    assert.equal(watch.get(aliasHash)?.state, 'installed')

    watch.note(new UnknownProtocolError(foreignHash, 2, 'B…', 21), now)
    await fetcher.fetch(foreignHash)
    assert.equal(local.has(foreignHash), false)
    assert.equal(watch.get(foreignHash)?.state, 'not-installed')
    assert.deepEqual(watch.get(foreignHash)?.manifest, { name: 'other', version: 1, source: '22'.repeat(32) })
    assert.deepEqual(penalized, [])

    // p1 and p2 were both asked at this instant: neither is asked again within 10 s.
    const absent = manifestHash({ name: 'none', version: 1, source: '33'.repeat(32) })
    watch.note(new UnknownProtocolError(absent, 2, 'B…', 21), now)
    asked = 0
    await fetcher.fetch(absent)
    assert.equal(asked, 0)
    assert.equal(watch.get(absent)?.state, 'unavailable')
    now += 9_999
    await fetcher.fetch(absent)
    assert.equal(asked, 0)
    now += 1
    await fetcher.fetch(absent)
    assert.equal(asked, 2)
    assert.equal(watch.get(absent)?.state, 'unavailable')
    fetcher.stop()
  } finally {
    await opened.close()
    await removeDir(dir)
  }
})
