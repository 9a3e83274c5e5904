import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Command } from 'commander'
import { loadConfig, registerRunOptions } from '../../src/config/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import { chainOptionsFromConfig } from '../../src/runtime/chain-options.ts'
import { delegatesProtocolJson, writeDelegateFiles } from '../../src/runtime/devnet/delegates.ts'
import { asDemoV3 } from '../../src/protocol/demo-v3/index.ts'
import { publicKeyHash } from '../../src/protocol/demo/keys.ts'
import { withTempDir } from '../helpers/temp-dir.ts'

function runOptions (args: string[]): Record<string, unknown> {
  const command = registerRunOptions(new Command('run')).exitOverride()
  command.parse(args, { from: 'user' })
  return command.opts()
}

test('devnet --bakers: every node gets v3 from genesis with the first n accounts as delegates; a baker its own key', async () => {
  await withTempDir('devnet-delegates', async dir => {
    const flags = await writeDelegateFiles(dir, 1, 2, { equivocate: 1, doubleEndorse: 1 })
    assert.deepEqual(flags.filter(f => f.startsWith('--')), ['--baker', '--baker-key-file', '--baker-equivocate', '--baker-double-endorse'])
    const config = await loadConfig({ cliFlags: runOptions(['--data-dir', dir, ...flags]), env: {} })
    assert.ok(config.protocol.name === 'demo')
    assert.deepEqual(config.protocol.parameters.versions, [3])
    assert.deepEqual(config.protocol.parameters.bootstrapAccounts.map(a => a.publicKey !== undefined), [true, true, false, false, false, false, false, false])
    assert.equal(config.baker.equivocate, true)
    assert.equal(config.baker.doubleEndorse, true)
    const { chain } = await chainOptionsFromConfig(config)
    try {
      assert.ok(asDemoV3(chain.protocol) !== undefined, 'the genesis protocol is demo v3')
      // The baker key is devnet account 1's, not the authority's: a delegate's key is accepted with v3.
      assert.deepEqual(publicKeyHash(chain.baker!.key.subarray(32)), devnetAccountKeypairs()[1].publicKeyHash)
      assert.equal(chain.baker!.equivocate, true)
      assert.equal(chain.baker!.doubleEndorse, true)
    } finally {
      await chain.protocol.close?.()
    }
    // A node beyond the bakers bakes nothing but has the same protocol (the same genesis).
    const other = await writeDelegateFiles(dir, 3, 2)
    assert.deepEqual(other, [])
  })
  assert.throws(() => delegatesProtocolJson(9), /from 1 to 8/)
})
