import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, mkdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import {
  ConfigError, ConfigFileError, DEFAULT_RPC_PORT, configToJson, defaultConfigJson, devnetBakerKeypair, devnetGenesisBlock,
  loadConfig, registerRunOptions, resolveConfig, type NodeConfig
} from '../../src/config/index.ts'
import { DEFAULT_P2P_LIMITS, limitsFromConnections } from '../../src/peers/limits.ts'
import { DEFAULT_EXPECTED_POW } from '../../src/identity/pow.ts'
import { DEFAULT_CHAIN_NAME } from '../../src/node/options.ts'
import { createAcceptAllProtocol, type AcceptAllConfig } from '../../src/protocol/accept-all.ts'
import type { DemoProtocolConfig } from '../../src/protocol/demo/index.ts'
import { b58Encode, blake2b256 } from '../../src/crypto/index.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { delegatesProtocolJson } from '../../src/runtime/devnet/delegates.ts'
import { devnetFundraiser, DEVNET_FUNDRAISER_AMOUNT, DEVNET_FUNDRAISER_COUNT } from '../../src/runtime/devnet/fundraisers.ts'
import { withTempDir } from '../helpers/temp-dir.ts'

/** Parses a `tzp2p run` command line with the real commander options. */
function runOptions (args: string[]): Record<string, unknown> {
  const command = registerRunOptions(new Command('run')).exitOverride()
  command.parse(args, { from: 'user' })
  return command.opts()
}

test('defaults: Octez values where Octez has the setting, loopback RPC, devnet network and demo protocol', () => {
  const c = resolveConfig({}, {}, { env: {}, cwd: '/' })
  assert.equal(c.dataDir, join(homedir(), '.tzp2p'))
  assert.equal(c.configFile, null)
  assert.equal(c.network.preset, 'devnet')
  assert.equal(c.network.chainName, DEFAULT_CHAIN_NAME)
  assert.equal(c.network.genesis.block, devnetGenesisBlock())
  assert.equal(c.network.genesis.timestamp, '2025-01-01T00:00:00Z')
  assert.equal(c.network.genesis.timestampSeconds, 1735689600n)
  assert.equal(c.network.genesis.protocol, null)
  assert.equal(c.p2p.listenMultiaddr, '/ip4/0.0.0.0/tcp/9732')
  assert.equal(c.p2p.advertisedNetPort, null)
  assert.equal(c.p2p.expectedPow, DEFAULT_EXPECTED_POW)
  assert.deepEqual(c.p2p.limits, DEFAULT_P2P_LIMITS)
  assert.deepEqual([c.p2p.bootstrapPeers, c.p2p.peers, c.p2p.bootstrapDns, c.p2p.dnsResolvers], [[], [], [], []])
  assert.equal(c.p2p.privateMode || c.p2p.disableMempool || c.p2p.disablePeerDiscovery, false)
  assert.deepEqual(c.rpc.listenAddrs, [{ hostKind: 'ip4', host: '127.0.0.1', port: DEFAULT_RPC_PORT }])
  assert.deepEqual(c.metricsAddrs, [])
  assert.deepEqual(c.shell, { synchronisationThreshold: 4, latencyMs: 50_000, checkpoint: null })
  assert.equal(c.protocol.name, 'demo')
  if (c.protocol.name === 'demo') {
    assert.deepEqual(c.protocol.parameters.bakerPublicKey, devnetBakerKeypair().publicKey)
    assert.equal(c.protocol.parameters.bootstrapAccounts.length, 8)
    assert.equal(c.protocol.parameters.bootstrapAccounts[0].balance, 1_000_000_000_000n)
    // The shape createDemoProtocol takes.
    const asDemo: DemoProtocolConfig = c.protocol.parameters
    assert.equal(asDemo.validationPasses, 1)
  }
  assert.deepEqual(c.baker, { enabled: false, intervalMs: 5000, keyFile: null, activations: [], equivocate: false, doubleEndorse: false })
  assert.deepEqual(c.log, { level: 'info', pretty: 'auto', output: 'stdout' })
  assert.deepEqual(c.warnings, [])
})

test('the devnet genesis block is BLAKE2b-256 of "tzp2p genesis devnet" (the chain module\'s named genesis)', () => {
  assert.equal(devnetGenesisBlock(), b58Encode('blockHash', blake2b256(new TextEncoder().encode('tzp2p genesis devnet'))))
})

test('$TZP2P_DATA_DIR sets the data dir unless the file or --data-dir does; relative paths start from cwd', () => {
  assert.equal(resolveConfig({}, {}, { env: { TZP2P_DATA_DIR: 'envdir' }, cwd: '/work' }).dataDir, '/work/envdir')
  assert.equal(resolveConfig({ 'data-dir': 'filedir' }, {}, { env: { TZP2P_DATA_DIR: 'envdir' }, cwd: '/work' }).dataDir, '/work/filedir')
  assert.equal(resolveConfig({ 'data-dir': 'filedir' }, runOptions(['--data-dir', '/abs/flag']), { env: { TZP2P_DATA_DIR: 'envdir' }, cwd: '/work' }).dataDir, '/abs/flag')
})

test('precedence: defaults < config file < flags, key by key', async () => {
  await withTempDir('config', async (dir) => {
    const file = join(dir, 'node.json')
    await writeFile(file, JSON.stringify({
      'data-dir': join(dir, 'data'),
      p2p: { 'listen-addr': '127.0.0.1:19732', 'expected-proof-of-work': 10, 'bootstrap-peers': ['10.0.0.1:9732'], 'bootstrap-dns': ['boot.example.net'], limits: { 'max-connections': 40, 'expected-connections': 20 } },
      rpc: { 'listen-addrs': ['127.0.0.1:18732', '[::1]:18732'] },
      log: { level: 'debug' }
    }))
    const c = await loadConfig({
      cliFlags: runOptions(['--config-file', file, '--expected-pow', '5', '--peer', '10.0.0.2', '--peer', '/dns4/seed.example.org/tcp/9733',
        '--bootstrap-dns', 'other.example.net:9800', '--rpc-addr', 'localhost:28732', '--private-mode', '--log-level', 'warning']),
      env: {}
    })
    assert.equal(c.configFile, file)
    assert.equal(c.dataDir, join(dir, 'data'))
    assert.equal(c.p2p.expectedPow, 5, 'the flag wins over the file')
    assert.equal(c.p2p.listenMultiaddr, '/ip4/127.0.0.1/tcp/19732', 'the file wins over the default')
    assert.deepEqual(c.p2p.bootstrapPeers.map(p => `${p.host}:${p.port}`), ['10.0.0.1:9732'])
    assert.deepEqual(c.p2p.peers.map(p => `${p.hostKind}/${p.host}:${p.port}`), ['ip4/10.0.0.2:9732', 'dns4/seed.example.org:9733'])
    assert.deepEqual(c.p2p.bootstrapDns, ['boot.example.net', 'other.example.net:9800'], '--bootstrap-dns adds to the file\'s list')
    assert.deepEqual(c.rpc.listenAddrs, [{ hostKind: 'dns', host: 'localhost', port: 28732 }], '--rpc-addr replaces the file\'s list')
    assert.equal(c.p2p.privateMode, true)
    assert.equal(c.log.level, 'warn', 'Octez\'s "warning" is pino\'s warn')
    assert.equal(c.p2p.limits.maxConnections, 40)
    assert.equal(c.p2p.limits.expectedConnections, 20)
    assert.equal(c.p2p.limits.minConnections, DEFAULT_P2P_LIMITS.minConnections)
  })
})

test('--connections 20 gives 10/20/30, tables of 160 and threshold 5, over the file\'s limits, as Octez', () => {
  const c = resolveConfig({ p2p: { limits: { 'min-connections': 3, 'expected-connections': 4, 'max-connections': 5, backlog: 7 } } }, runOptions(['--connections', '20']), { env: {} })
  assert.deepEqual([c.p2p.limits.minConnections, c.p2p.limits.expectedConnections, c.p2p.limits.maxConnections], [10, 20, 30])
  assert.deepEqual(c.p2p.limits.maxKnownPoints, { max: 160, target: 120 })
  assert.deepEqual(c.p2p.limits.maxKnownPeerIds, { max: 160, target: 120 })
  assert.equal(c.p2p.limits.backlog, 7, 'other file limits stay')
  assert.equal(c.shell.synchronisationThreshold, 5)
  assert.deepEqual(c.p2p.limits, { ...limitsFromConnections(20, { ...DEFAULT_P2P_LIMITS, backlog: 7 }).limits })
  // An explicit --synchronisation-threshold wins over the one --connections implies.
  assert.equal(resolveConfig({}, runOptions(['--connections', '20', '--synchronisation-threshold', '1']), { env: {} }).shell.synchronisationThreshold, 1)
  assert.deepEqual(resolveConfig({}, runOptions(['--connections', '1']), { env: {} }).p2p.limits.minConnections, 1)
  // Above 100 only with --disable-config-validation.
  assert.equal(resolveConfig({}, runOptions(['--connections', '150', '--disable-config-validation']), { env: {} }).p2p.limits.maxConnections, 225)
  assert.deepEqual(resolveConfig({}, runOptions(['--connections', '20', '--peer-table-size', '100']), { env: {} }).p2p.limits.maxKnownPoints, { max: 100, target: 75 })
})

test('--chain-name on the devnet keeps its genesis; --network, --protocol, --no-bootstrap-peers, Octez disable flags', () => {
  const c = resolveConfig({}, runOptions(['--chain-name', 'MY_NET', '--protocol', 'accept-all', '--disable-p2p-maintenance', '--disable-p2p-swap']), { env: {} })
  assert.equal(c.network.chainName, 'MY_NET')
  assert.equal(c.network.genesis.block, devnetGenesisBlock())
  assert.equal(c.protocol.name, 'accept-all')
  const params: AcceptAllConfig = c.protocol.parameters
  assert.equal(typeof createAcceptAllProtocol(params).hash, 'string')
  assert.equal(c.p2p.limits.maintenanceIdleTimeMs, null)
  assert.equal(c.p2p.limits.swapLingerMs, null)
  const custom = {
    network: { chain_name: 'X', genesis: { block: devnetGenesisBlock(), timestamp: 1700000000 }, default_bootstrap_peers: ['192.0.2.1'] },
    p2p: { 'bootstrap-peers': ['192.0.2.9:9999'] }
  }
  assert.deepEqual(resolveConfig({ network: custom.network }, {}, { env: {} }).p2p.bootstrapPeers.map(p => p.host), ['192.0.2.1'])
  assert.deepEqual(resolveConfig(custom, {}, { env: {} }).p2p.bootstrapPeers.map(p => p.host), ['192.0.2.9'])
  const none = resolveConfig(custom, runOptions(['--no-bootstrap-peers', '--peer', '192.0.2.7']), { env: {} })
  assert.deepEqual([none.p2p.bootstrapPeers, none.p2p.peers.map(p => p.host)], [[], ['192.0.2.7']])
  assert.equal(resolveConfig({ network: custom.network }, {}, { env: {} }).network.genesis.timestamp, '2023-11-14T22:13:20Z')
})

test('the config file is <data-dir>/config.json when none is named; a missing one means defaults', async () => {
  await withTempDir('config', async (dir) => {
    const none = await loadConfig({ cliFlags: runOptions(['--data-dir', dir]), env: {} })
    assert.equal(none.configFile, null)
    await writeFile(join(dir, 'config.json'), JSON.stringify({ p2p: { 'expected-proof-of-work': 3 } }))
    const found = await loadConfig({ cliFlags: runOptions(['--data-dir', dir]), env: {} })
    assert.equal(found.configFile, join(dir, 'config.json'))
    assert.equal(found.p2p.expectedPow, 3)
    const viaEnv = await loadConfig({ env: { TZP2P_DATA_DIR: dir } })
    assert.equal(viaEnv.p2p.expectedPow, 3)
  })
})

test('a config file named by --config-file that does not exist, or is a directory, is a clear error', async () => {
  await withTempDir('config', async (dir) => {
    const missing = join(dir, 'nope.json')
    await assert.rejects(loadConfig({ cliFlags: runOptions(['--config-file', missing]), env: {} }), (e: unknown) => {
      assert.ok(e instanceof ConfigFileError)
      assert.equal(e.code, 'ENOENT')
      assert.equal(e.flag, '--config-file')
      assert.match(e.message, new RegExp(`^config file ${missing}: --config-file: no such file — check the path, or create one with \`tzp2p config init`))
      return true
    })
    await mkdir(join(dir, 'sub'))
    await assert.rejects(loadConfig({ file: join(dir, 'sub'), env: {} }), (e: unknown) => e instanceof ConfigFileError && e.code === 'EISDIR' && /is a directory/.test(e.message))
  })
})

test('an Octez config file loads: Octez keys are read, keys without effect become warnings', () => {
  const octez = {
    'data-dir': '/var/lib/node',
    rpc: {
      'listen-addrs': ['127.0.0.1:8732'],
      'cors-origin': ['*'],
      'cors-headers': ['content-type'],
      // Octez writes rules without a space after the method, as its own encoding prints them.
      acl: [{ address: '192.168.1.5:8732', whitelist: ['GET/**', 'DELETE/chains/*/invalid_blocks/*'] }, { address: '192.168.0.3', blacklist: ['/monitor/**'] }]
    },
    p2p: {
      'expected-proof-of-work': 26.5,
      'bootstrap-peers': ['[2001:db8::1]:9732', 'boot.example.com#idrRoknJh9zwEePNswF3MPGFzmKaVp'],
      'listen-addr': '[::]:9732',
      'advertised-net-port': 19732,
      'discovery-addr': null,
      limits: { 'connection-timeout': 10, 'min-connections': 25, 'max-connections': 75, max_known_points: [400, 300], max_known_peer_ids: [400, 300], 'max-download-speed': 1024 },
      disable_mempool: true,
      greylisting_config: { factor: 1.5, 'initial-delay': 2, 'increase-cap': 3600 }
    },
    shell: { chain_validator: { synchronisation_threshold: 6, latency: 150 }, history_mode: 'rolling' },
    log: { output: 'stderr', level: 'notice' },
    metrics_addr: ['127.0.0.1']
  }
  const c = resolveConfig(octez, {}, { env: {} })
  assert.equal(c.p2p.expectedPow, 26.5)
  assert.equal(c.p2p.listenMultiaddr, '/ip6/::/tcp/9732')
  assert.equal(c.p2p.advertisedNetPort, 19732)
  assert.equal(c.p2p.bootstrapPeers[0].host, '2001:db8::1')
  assert.equal(c.p2p.bootstrapPeers[1].expectedPeerId, 'idrRoknJh9zwEePNswF3MPGFzmKaVp')
  assert.deepEqual([c.p2p.limits.minConnections, c.p2p.limits.expectedConnections, c.p2p.limits.maxConnections], [25, 50, 75])
  assert.equal(c.p2p.disableMempool, true)
  assert.deepEqual(c.p2p.reconnection, { factor: 1.5, initialDelayMs: 2000, disconnectionDelayMs: 60_000, increaseCapMs: 3_600_000 })
  assert.deepEqual(c.shell, { synchronisationThreshold: 6, latencyMs: 150_000, checkpoint: null })
  assert.deepEqual(c.rpc.corsOrigins, ['*'])
  assert.deepEqual(c.metricsAddrs, [{ hostKind: 'ip4', host: '127.0.0.1', port: 9932 }])
  assert.equal(c.log.level, 'info')
  assert.equal(c.log.output, 'stderr')
  assert.deepEqual(c.rpc.acl.map(e => [e.address.host, e.address.port, e.policy.kind, e.policy.rules.map(r => r.text)]), [
    ['192.168.1.5', 8732, 'whitelist', ['GET/**', 'DELETE/chains/*/invalid_blocks/*']],
    ['192.168.0.3', undefined, 'blacklist', ['/monitor/**']]
  ])
  for (const key of ['p2p.discovery-addr', 'p2p.limits.max-download-speed', 'shell.history_mode']) {
    assert.ok(c.warnings.some(w => w.startsWith(`${key}: Octez setting without effect`)), `warning for ${key}: ${c.warnings.join('; ')}`)
  }
})

test('configToJson gives a file that loads back to the same configuration, in full and without defaults', async () => {
  const libp2pId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const configs: NodeConfig[] = [
    resolveConfig({}, {}, { env: {} }),
    resolveConfig({
      'data-dir': '/d',
      network: { chain_name: 'N', genesis: { block: devnetGenesisBlock(), timestamp: '2024-02-29T12:00:00+02:00', protocol: null }, default_bootstrap_peers: ['192.0.2.3'] },
      p2p: { limits: { 'greylist-timeout': 100, max_known_points: null }, 'dns-resolver': ['192.0.2.53'], 'bootstrap-dns': ['seed.example.net#idrRoknJh9zwEePNswF3MPGFzmKaVp'] },
      protocol: { name: 'accept-all', parameters: { 'validation-passes': 3 } },
      baker: { enabled: true, interval: 0.5 },
      metrics_addr: ['127.0.0.1']
    }, runOptions(['--peer', `/ip4/192.0.2.4/tcp/9732/p2p/${libp2pId}#idrRoknJh9zwEePNswF3MPGFzmKaVp`, '--connections', '8']), { env: {} }),
    // A devnet of delegates: v3 from genesis, delegates' public keys, fundraiser commitments.
    resolveConfig({ protocol: delegatesProtocolJson(3) }, {}, { env: {} })
  ]
  for (const c of configs) {
    for (const omitDefaults of [false, true]) {
      const json = configToJson(c, { omitDefaults })
      const back = resolveConfig(JSON.parse(JSON.stringify(json)), {}, { env: {} })
      const trusted = (x: NodeConfig): unknown[] => [...x.p2p.bootstrapPeers, ...x.p2p.peers]
      assert.deepEqual(trusted(back), trusted(c))
      assert.deepEqual({ ...back, p2p: { ...back.p2p, bootstrapPeers: [], peers: [] }, network: { ...back.network, preset: null } },
        { ...c, p2p: { ...c.p2p, bootstrapPeers: [], peers: [] }, network: { ...c.network, preset: null } })
    }
  }
  const v3 = configs[2].protocol
  assert.ok(v3.name === 'demo' && v3.parameters.commitments?.length === DEVNET_FUNDRAISER_COUNT)
  assert.deepEqual(v3.parameters.commitments[1], { blindedPublicKeyHash: devnetFundraiser(1).blinded, balance: DEVNET_FUNDRAISER_AMOUNT })
  assert.deepEqual(configToJson(configs[0], { omitDefaults: true }), { 'data-dir': configs[0].dataDir, network: 'devnet' })
  assert.deepEqual(Object.keys(configToJson(configs[0])).sort(), [...Object.keys(defaultConfigJson()), 'data-dir'].sort())
})

test('ConfigError carries every problem; the first one names its key', () => {
  try {
    resolveConfig({ p2p: { 'expected-proof-of-work': -1, 'private-mode': 'yes' } }, {}, { env: {} })
    assert.fail('expected a ConfigError')
  } catch (e) {
    assert.ok(e instanceof ConfigError)
    assert.equal(e.name, 'ConfigError')
    assert.deepEqual(e.problems.map(p => p.key).sort(), ['p2p.expected-proof-of-work', 'p2p.private-mode'])
    assert.match(e.message, /^invalid configuration \(2 problems\):\n {2}- /)
  }
})
