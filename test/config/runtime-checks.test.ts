import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, devnetBakerKeypair, genesisFor, loadBakerKey, resolveConfig } from '../../src/config/index.ts'
import { createAcceptAllProtocol } from '../../src/protocol/accept-all.ts'
import { ed25519FromName, encodePublicKey } from '../../src/protocol/demo/keys.ts'
import { toHex } from '../../src/encoding/index.ts'
import { blake2b } from '../../src/crypto/index.ts'
import { namedGenesis, resolveGenesis, type GenesisConfig } from '../../src/chain/genesis.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

test('genesisFor: null takes the protocol\'s hash; a named protocol must be the one configured', () => {
  const acceptAll = resolveConfig({}, { protocol: 'accept-all' }, { env: {} })
  const hash = createAcceptAllProtocol(acceptAll.protocol.parameters).hash
  const genesis = genesisFor(acceptAll, hash)
  assert.deepEqual(genesis, { block: acceptAll.network.genesis.block, timestamp: 1735689600n, protocol: hash })
  const other = createAcceptAllProtocol({ validationPasses: 2 }).hash
  const pinned = resolveConfig({ network: { chain_name: 'N', genesis: { block: acceptAll.network.genesis.block, timestamp: 0, protocol: other } }, protocol: { name: 'accept-all' } }, {}, { env: {} })
  assert.throws(() => genesisFor(pinned, hash), (e: unknown) => {
    assert.ok(e instanceof ConfigError)
    assert.equal(e.key, 'network.genesis.protocol')
    assert.match(e.message, new RegExp(`names ${other}, but the configured accept-all protocol has hash ${hash}`))
    return true
  })
  assert.equal(genesisFor(pinned, other).protocol, other)
  // What the chain module takes, and the same devnet genesis as its named genesis "devnet".
  const forChain: GenesisConfig = genesis
  assert.equal(resolveGenesis(forChain).timestamp, 1735689600n)
  assert.equal(namedGenesis('devnet', 0, hash).block, genesis.block)
})

test('loadBakerKey: the devnet key by default, a seed file that must match baker-public-key, clear errors', async () => {
  const dir = await tempDir('config')
  try {
    const devnet = await loadBakerKey(resolveConfig({}, {}, { env: {} }))
    assert.deepEqual(devnet?.publicKey, devnetBakerKeypair().publicKey)
    assert.equal(await loadBakerKey(resolveConfig({}, { protocol: 'accept-all' }, { env: {} })), undefined)

    const seed = blake2b(new TextEncoder().encode('my baker'), 32)
    const mine = ed25519FromName('my baker')
    await writeFile(join(dir, 'baker.seed'), `${toHex(seed)}\n`)
    const params = { protocol: { parameters: { 'baker-public-key': encodePublicKey(mine.publicKey) } }, 'data-dir': dir }
    const withFile = resolveConfig({ ...params, baker: { enabled: true, 'key-file': 'baker.seed' } }, {}, { env: {} })
    assert.equal(withFile.baker.keyFile, join(dir, 'baker.seed'), 'relative to the data dir')
    assert.deepEqual((await loadBakerKey(withFile))?.secretKey, mine.secretKey)

    const expectError = async (json: Record<string, unknown>, pattern: RegExp): Promise<void> => {
      await assert.rejects(loadBakerKey(resolveConfig(json, {}, { env: {} })), (e: unknown) => {
        assert.ok(e instanceof ConfigError)
        assert.equal(e.key, 'baker.key-file')
        assert.match(e.message, pattern)
        return true
      })
    }
    await expectError(params, /not set, and protocol\.parameters\.baker-public-key is not the devnet baker/)
    await expectError({ ...params, baker: { 'key-file': 'missing.seed' } }, /missing\.seed cannot be read \(no such file\)/)
    await writeFile(join(dir, 'bad.seed'), 'edsk-not-hex')
    await expectError({ ...params, baker: { 'key-file': 'bad.seed' } }, /does not hold an Ed25519 seed — write the 32-byte seed as 64 hex characters/)
    await writeFile(join(dir, 'other.seed'), toHex(blake2b(new TextEncoder().encode('someone else'), 32)))
    await expectError({ ...params, baker: { 'key-file': 'other.seed' } }, /holds the key of edpk\S+, not protocol\.parameters\.baker-public-key edpk/)
  } finally {
    await removeDir(dir)
  }
})
