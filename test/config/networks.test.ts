import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Command } from 'commander'
import { b58Decode, b58Encode } from '../../src/crypto/index.ts'
import { ConfigError, configToJson, registerRunOptions, resolveConfig } from '../../src/config/index.ts'
import { resolveGenesis } from '../../src/chain/genesis.ts'
import { chainOptionsFromConfig } from '../../src/runtime/chain-options.ts'
import { createAcceptAllProtocol } from '../../src/protocol/accept-all.ts'

function runOptions (args: string[]): Record<string, unknown> {
  const command = registerRunOptions(new Command('run')).exitOverride()
  command.parse(args, { from: 'user' })
  return command.opts()
}

const resolveArgs = (args: string[], json: Record<string, unknown> = {}): ReturnType<typeof resolveConfig> =>
  resolveConfig(json, runOptions(args), { env: {}, cwd: '/' })

function configError (f: () => unknown): ConfigError {
  try {
    f()
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e))
    return e
  }
  assert.fail('no ConfigError')
}

const chainIdOf = (c: ReturnType<typeof resolveConfig>): string => b58Encode('chainId', resolveGenesis({
  block: c.network.genesis.block, timestamp: c.network.genesis.timestampSeconds, protocol: c.network.genesis.protocol as string
}).chainId)

test('--network mainnet --protocol shell: Octez\'s mainnet (chain name, genesis, bootstrap names, chain id NetXdQprcVkpaWU, PoW 26)', () => {
  const c = resolveArgs(['--network', 'mainnet', '--protocol', 'shell'])
  assert.equal(c.network.preset, 'mainnet')
  assert.equal(c.network.chainName, 'TEZOS_MAINNET')
  assert.deepEqual(c.network.genesis, {
    block: 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2',
    timestamp: '2018-06-30T16:07:32Z',
    timestampSeconds: 1530374852n,
    protocol: 'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P'
  })
  // Its bootstrap names are Octez nodes: dialled on Octez's wire, not on libp2p.
  assert.deepEqual(c.p2p.octezPeers, ['boot.tzinit.org:9732', 'boot.tzboot.net:9732', 'boot.tzbeta.net:9732'])
  assert.deepEqual(c.p2p.bootstrapPeers, [])
  assert.equal(c.p2p.expectedPow, 26)
  assert.equal(chainIdOf(c), 'NetXdQprcVkpaWU')
  assert.deepEqual(c.protocol, { name: 'shell', parameters: { validationPasses: 4, maxOperationsTtl: 600 } })
  // Written back, the preset name stands for it all.
  assert.equal(configToJson(c).network, 'mainnet')
})

test('"network": "ghostnet" in the file, with protocol.name shell: Octez\'s ghostnet, chain id NetXnHfVqm9iesp', () => {
  const c = resolveArgs([], { network: 'ghostnet', protocol: { name: 'shell' } })
  assert.equal(c.network.chainName, 'TEZOS_ITHACANET_2022-01-25T15:00:00Z')
  assert.equal(c.network.genesis.block, 'BLockGenesisGenesisGenesisGenesisGenesis1db77eJNeJ9')
  assert.equal(c.network.genesis.timestamp, '2022-01-25T15:00:00Z')
  assert.equal(c.network.genesis.protocol, 'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P')
  assert.deepEqual(c.p2p.octezPeers, [
    'ghostnet.teztnets.com:9732', 'ghostnet.tzinit.org:9732', 'ghostnet.tzboot.net:9732', 'ghostnet.boot.ecadinfra.com:9732', 'ghostnet.stakenow.de:9733'
  ])
  assert.deepEqual(c.p2p.bootstrapPeers, [])
  // --no-bootstrap-peers drops them; an explicit --octez-peer stays, and p2p.bootstrap-peers stay libp2p peers.
  const none = resolveArgs(['--no-bootstrap-peers', '--octez-peer', '192.0.2.7'], { network: 'ghostnet', protocol: { name: 'shell' } })
  assert.deepEqual(none.p2p.octezPeers, ['192.0.2.7:9732'])
  const own = resolveArgs([], { network: 'ghostnet', protocol: { name: 'shell' }, p2p: { 'bootstrap-peers': ['192.0.2.8'] } })
  assert.deepEqual(own.p2p.octezPeers, [])
  assert.deepEqual(own.p2p.bootstrapPeers.map(p => `${p.host}:${p.port}`), ['192.0.2.8:9732'])
  assert.equal(chainIdOf(c), 'NetXnHfVqm9iesp')
})

test('a Tezos network without --protocol shell is one clear line', () => {
  for (const network of ['mainnet', 'ghostnet']) {
    const e = configError(() => resolveArgs(['--network', network]))
    assert.equal(e.message.split('\n').length, 1, e.message)
    assert.match(e.message, new RegExp(`"${network}" needs --protocol shell`))
  }
  const e = configError(() => resolveArgs(['--network', 'shadownet']))
  assert.match(e.message, /no preset for Tezos's shadownet/)
})

test('--checkpoint: a block hash, with --protocol shell only; written back as shell.checkpoint', async () => {
  const hash = b58Encode('blockHash', new Uint8Array(32).fill(7))
  const c = resolveArgs(['--network', 'mainnet', '--protocol', 'shell', '--checkpoint', hash])
  assert.equal(c.shell.checkpoint, hash)
  assert.deepEqual((configToJson(c).shell as Record<string, unknown>).checkpoint, hash)
  const options = await chainOptionsFromConfig(c)
  assert.deepEqual(options.chain.checkpoint, b58Decode('blockHash', hash))
  assert.equal(options.chain.protocol.name, 'shell')
  assert.equal(options.chain.protocol.hash, 'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P')

  const demo = configError(() => resolveArgs(['--checkpoint', hash]))
  assert.match(demo.message, /shell\.checkpoint.*needs --protocol shell/)
  const bad = configError(() => resolveArgs(['--protocol', 'shell', '--checkpoint', 'BLnotAHash']))
  assert.match(bad.message, /--checkpoint/)
})

test('--protocol shell follows a custom network naming any genesis protocol; other protocols must match it', async () => {
  const anyProtocol = b58Encode('protocolHash', new Uint8Array(32).fill(3))
  const network = { chain_name: 'SOME_CHAIN', genesis: { block: b58Encode('blockHash', new Uint8Array(32).fill(1)), timestamp: '2024-01-01T00:00:00Z', protocol: anyProtocol } }
  const c = resolveArgs(['--protocol', 'shell'], { network })
  const options = await chainOptionsFromConfig(c)
  assert.equal(options.chain.genesis.protocol, anyProtocol)
  assert.equal(options.chain.protocol.hash, anyProtocol)

  const acceptAll = resolveArgs(['--protocol', 'accept-all'], { network })
  await assert.rejects(chainOptionsFromConfig(acceptAll), (e: Error) => e instanceof ConfigError && e.message.includes(createAcceptAllProtocol().hash))

  const noProtocol = configError(() => resolveArgs(['--protocol', 'shell']))
  assert.match(noProtocol.message, /network\.genesis\.protocol: missing: --protocol shell follows the chain/)
  const baking = configError(() => resolveArgs(['--protocol', 'shell', '--baker'], { network }))
  assert.match(baking.message, /the shell protocol cannot bake/)
})
