import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Command } from 'commander'
import fc from 'fast-check'
import {
  ConfigError, ConfigFileError, closestNames, editDistance, flagsToConfigOverrides, loadConfig, parseConfigText,
  registerRunOptions, resolveConfig, SETTINGS, type ConfigProblem
} from '../../src/config/index.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

function runOptions (args: string[]): Record<string, unknown> {
  const command = registerRunOptions(new Command('run')).exitOverride().configureOutput({ writeErr: () => {} })
  command.parse(args, { from: 'user' })
  return command.opts()
}

/** The ConfigError `f` throws; fails if it throws nothing or something else. */
function configError (f: () => unknown): ConfigError {
  try {
    f()
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`)
    return e
  }
  assert.fail('expected a ConfigError')
}

function only (e: ConfigError): ConfigProblem {
  assert.equal(e.problems.length, 1, e.message)
  return e.problems[0]
}

const fromFile = (json: unknown): ConfigError => configError(() => resolveConfig(json, {}, { env: {} }))
const fromFlags = (args: string[]): ConfigError => configError(() => resolveConfig({}, runOptions(args), { env: {} }))

test('wrong type: names the key, shows the value and the accepted form', () => {
  const e = fromFile({ p2p: { limits: { 'min-connections': 'ten' } } })
  assert.equal(e.key, 'p2p.limits.min-connections')
  assert.equal(e.message, 'invalid configuration: p2p.limits.min-connections: got "ten"; expected an integer from 0 to 65535')
  assert.equal(only(fromFile({ p2p: { 'private-mode': 'yes' } })).key, 'p2p.private-mode')
  assert.equal(only(fromFile({ p2p: 3 })).key, 'p2p')
  assert.match(fromFile({ rpc: { 'listen-addrs': '127.0.0.1:8732' } }).message, /rpc\.listen-addrs: got "127\.0\.0\.1:8732"; expected a list of host\[:port\]/)
  assert.match(fromFile([]).message, /must hold a JSON object/)
})

test('out of range: in the file and on the command line (naming the flag and the key it sets)', () => {
  assert.match(fromFile({ p2p: { 'expected-proof-of-work': 300 } }).message,
    /^invalid configuration: p2p\.expected-proof-of-work: got 300; expected a number from 0 to 256/)
  assert.equal(only(fromFile({ p2p: { limits: { backlog: 0 } } })).key, 'p2p.limits.backlog')
  assert.equal(only(fromFile({ baker: { interval: 0 } })).key, 'baker.interval')
  const flag = only(fromFlags(['--expected-pow', '300']))
  assert.deepEqual([flag.flag, flag.key], ['--expected-pow', 'p2p.expected-proof-of-work'])
  assert.match(fromFlags(['--expected-pow', 'lots']).message, /--expected-pow \(config key p2p\.expected-proof-of-work\): got "lots"; expected a number from 0 to 256/)
  assert.match(fromFlags(['--connections', '0']).message, /--connections: got "0"; expected an integer from 1 to 65535/)
  const tooMany = only(fromFlags(['--connections', '101']))
  assert.equal(tooMany.flag, '--connections')
  assert.match(tooMany.hint ?? '', /--disable-config-validation/)
  assert.match(fromFlags(['--advertised-net-port', '70000']).message, /--advertised-net-port .*got 70000; expected a port from 1 to 65535/)
  assert.match(fromFlags(['--log-level', 'loud']).message, /--log-level \(config key log\.level\): got "loud"/)
  assert.match(fromFlags(['--protocol', 'tenderbake']).message, /--protocol .*expected "demo", "accept-all" or "shell"/)
})

test('unknown keys: a suggestion at the same level, the right place of a key at the wrong level, else the known keys', () => {
  const typo = only(fromFile({ p2p: { limits: { 'min-conections': 5 } } }))
  assert.deepEqual([typo.key, typo.message, typo.hint], ['p2p.limits.min-conections', 'unknown key', 'did you mean p2p.limits.min-connections?'])
  // Octez spells it with "_"; the "-" spelling gets the Octez one suggested.
  assert.equal(only(fromFile({ p2p: { 'disable-mempool': true } })).hint, 'did you mean p2p.disable_mempool?')
  assert.equal(only(fromFile({ network: { chain_name: 'X', genesis: { block: 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2', timestamp: 0 }, 'chain-name': 'Y' } })).hint,
    'did you mean network.chain_name?')
  const misplaced = only(fromFile({ p2p: { 'max-connections': 5 } }))
  assert.match(misplaced.hint ?? '', /^did you mean p2p\.limits\.max-connections\? \(max-connections is not a key of p2p\)/)
  const stray = only(fromFile({ colour: 'blue' }))
  assert.match(stray.hint ?? '', /^remove it; the keys of the top level are data-dir, .*p2p, rpc/)
  const param = only(fromFile({ protocol: { name: 'accept-all', parameters: { 'baker-public-key': '00' } } }))
  assert.equal(param.key, 'protocol.parameters.baker-public-key')
  assert.match(param.hint ?? '', /not a parameter of the accept-all protocol; its parameters are validation-passes, max-operations-ttl/)
  // Unknown options are commander's: it suggests too.
  assert.throws(() => runOptions(['--conections', '3']), /unknown option '--conections'[\s\S]*Did you mean --connections\?/)
})

test('inconsistent limits: the key out of line, both values, and what to change', () => {
  assert.equal(fromFile({ p2p: { limits: { 'min-connections': 60 } } }).message,
    'invalid configuration: p2p.limits.min-connections: must be ≤ expected-connections (50), got 60 — lower it or raise p2p.limits.expected-connections')
  const e = only(fromFile({ p2p: { limits: { 'expected-connections': 20, 'max-connections': 10 } } }))
  assert.deepEqual([e.key, e.message], ['p2p.limits.expected-connections', 'must be ≤ max-connections (10), got 20'])
  assert.match(only(fromFile({ p2p: { limits: { max_known_points: [100, 200] } } })).message, /GC target \(200\) must be ≤ the table size \(100\)/)
  assert.match(only(fromFile({ p2p: { limits: { max_known_peer_ids: [60, 45] } } })).message, /GC target \(45\) must be ≥ max-connections \(100\)/)
  // Set by a flag: the problem names it.
  const tables = fromFlags(['--connections', '50', '--peer-table-size', '40']).problems
  assert.deepEqual(tables.map(p => [p.key, p.flag]), [['p2p.limits.max_known_points', '--peer-table-size'], ['p2p.limits.max_known_peer_ids', '--peer-table-size']])
  // --connections replaces inconsistent file values, as Octez.
  assert.equal(resolveConfig({ p2p: { limits: { 'min-connections': 60 } } }, runOptions(['--connections', '10']), { env: {} }).p2p.limits.minConnections, 5)
})

test('bad peer and listen addresses name the list element or the flag', () => {
  const peer = only(fromFile({ p2p: { 'bootstrap-peers': ['192.0.2.1:9732', '192.0.2.2:99999'] } }))
  assert.equal(peer.key, 'p2p.bootstrap-peers[1]')
  assert.match(peer.message, /got "192\.0\.2\.2:99999": port 99999 is outside 1–65535/)
  assert.match(peer.expected ?? '', /host\[:port\]\[#id…\]/)
  assert.match(only(fromFile({ p2p: { 'bootstrap-peers': ['10.0.0.1#nope'] } })).message, /after "#" comes a Tezos peer id/)
  const flag = only(fromFlags(['--peer', '192.0.2.1', '--peer', 'not an address']))
  assert.equal(flag.flag, '--peer')
  assert.match(flag.message, /got "not an address": contains white space/)
  assert.match(only(fromFile({ p2p: { 'listen-addr': 'example.com:9732' } })).message, /"example\.com" is not an IP address/)
  assert.match(only(fromFlags(['--net-addr', '/dns4/x/tcp/1'])).message, /a listen multiaddr is \/ip4/)
  assert.match(fromFlags(['--bootstrap-dns', 'bad_name:port']).message, /--bootstrap-dns .*port "port" is not a number/)
  assert.match(fromFlags(['--dns-resolver', 'dns.google']).message, /--dns-resolver .*is not an IP address/)
})

test('bad genesis: b58 hashes with the wrong checksum or prefix, dates that are not RFC 3339, missing fields', () => {
  const network = (genesis: Record<string, unknown>): unknown => ({ network: { chain_name: 'X', genesis: { block: 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2', timestamp: '2024-01-01T00:00:00Z', ...genesis } } })
  const checksum = only(fromFile(network({ block: 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW3' })))
  assert.equal(checksum.key, 'network.genesis.block')
  assert.match(checksum.message, /not a block hash \(B…\): bad base58check/)
  assert.match(only(fromFile(network({ block: 'PtYuensgYBb3G3x1hLLbCmcav8ue8Kyd2khADcL5LsT5R1hcXex' }))).message, /not a block hash .*starting with "B"/)
  const protocol = only(fromFile(network({ protocol: 'BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2' })))
  assert.deepEqual([protocol.key, protocol.expected], ['network.genesis.protocol', 'a protocol hash (P…, 51 characters) or null'])
  assert.match(only(fromFile(network({ timestamp: '2024-13-01T00:00:00Z' }))).message, /not an RFC 3339 date/)
  assert.match(only(fromFile(network({ timestamp: 'yesterday' }))).message, /got "yesterday": not an RFC 3339 date/)
  const missing = only(fromFile({ network: { chain_name: 'X', genesis: { timestamp: 0 } } }))
  assert.deepEqual([missing.key, missing.message], ['network.genesis.block', 'missing'])
  const octezNet = only(fromFile({ network: 'weeklynet' }))
  assert.match(octezNet.hint ?? '', /no preset for Tezos's weeklynet/)
  assert.equal(only(fromFile({ network: 'devnt' })).hint, 'did you mean "devnet"?')
  assert.match(fromFlags(['--network', 'sandbox']).message, /^invalid configuration: --network \(config key network\): got "sandbox".* no preset for Tezos's sandbox/)
  assert.match(fromFlags(['--chain-name', '']).message, /--chain-name .*got "": empty/)
})

test('bad demo protocol parameters and baker settings', () => {
  const account = (a: Record<string, unknown>): unknown => ({ protocol: { parameters: { 'bootstrap-accounts': [a] } } })
  assert.match(fromFile(account({ 'public-key-hash': 'tz1xx', balance: '1' })).message, /bootstrap-accounts\[0\]\.public-key-hash: got "tz1xx"/)
  assert.equal(only(fromFile(account({ 'public-key-hash': 'tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb', balance: '1.5' }))).key,
    'protocol.parameters.bootstrap-accounts[0].balance')
  assert.equal(only(fromFile(account({ 'public-key-hash': 'tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb' }))).message, 'missing')
  const twice = only(fromFile({ protocol: { parameters: { 'bootstrap-accounts': [
    { 'public-key-hash': 'tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb', balance: 1 }, { 'public-key-hash': 'tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb', balance: 2 }] } } }))
  assert.deepEqual([twice.key, twice.message], ['protocol.parameters.bootstrap-accounts[1].public-key-hash', 'tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb is listed twice (also at bootstrap-accounts[0])'])
  assert.match(fromFile({ protocol: { parameters: { 'baker-public-key': 'edpkZZZ' } } }).message, /baker-public-key: got "edpkZZZ"/)
  const commitment = (c: Record<string, unknown>): unknown => ({ protocol: { parameters: { commitments: [c] } } })
  assert.match(fromFile(commitment({ 'blinded-public-key-hash': 'tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb', amount: '1' })).message,
    /commitments\[0\]\.blinded-public-key-hash: got "tz1VSUr8wwNhLAzempoch5d6hLRiTh8Cjcjb"/)
  assert.equal(only(fromFile(commitment({ 'blinded-public-key-hash': 'btz1RfXyqxSynyKQoaFTYJ5YiKSekqUzCL2w4' }))).key, 'protocol.parameters.commitments[0].amount')
  assert.match(only(fromFile({ protocol: { parameters: { 'validation-passes': 9 } } })).expected ?? '', /an integer from 1 to 8/)
  // Baking with a non-devnet baker needs its key.
  const baker = only(configError(() => resolveConfig({ protocol: { parameters: { 'baker-public-key': '11'.repeat(32) } } }, runOptions(['--baker']), { env: {} })))
  assert.deepEqual([baker.key, baker.flag], ['baker.key-file', '--baker'])
  assert.match(only(fromFile({ rpc: { crt: 'node.crt' } })).hint ?? '', /TLS proxy/)
  assert.match(only(fromFile({ rpc: { 'listen-addr': '127.0.0.1', 'listen-addrs': [] } })).message, /together with rpc\.listen-addrs/)
})

test('malformed JSON: line and column of the error', async () => {
  const text = '{\n  "p2p": {\n    "expected-proof-of-work": 26,\n  }\n}\n'
  try {
    parseConfigText(text, '/etc/tzp2p.json')
    assert.fail('expected a ConfigFileError')
  } catch (e) {
    assert.ok(e instanceof ConfigFileError)
    assert.equal(e.code, 'EJSON')
    assert.deepEqual([e.line, e.column], [4, 3])
    assert.match(e.message, /^config file \/etc\/tzp2p\.json: malformed JSON at line 4, column 3: .* — fix the syntax/)
  }
  const truncated = (() => { try { parseConfigText('{ "p2p": {', 'f.json') } catch (e) { return e as ConfigFileError } })()
  assert.ok(truncated instanceof ConfigFileError)
  assert.deepEqual([truncated.line, truncated.column], [1, 11])
  const dir = await tempDir('config')
  try {
    await writeFile(join(dir, 'config.json'), '\uFEFF{ "p2p": { "expected-proof-of-work": 1 } }')
    assert.equal((await loadConfig({ cliFlags: runOptions(['--data-dir', dir]), env: {} })).p2p.expectedPow, 1, 'a UTF-8 BOM is not an error')
    await writeFile(join(dir, 'config.json'), '{ "p2p": { "expected-proof-of-work": 1 }} }')
    await assert.rejects(loadConfig({ cliFlags: runOptions(['--data-dir', dir]), env: {} }), (e: unknown) => e instanceof ConfigFileError && e.line === 1 && e.column === 43)
  } finally {
    await removeDir(dir)
  }
})

test('every bad flag is reported at once by flagsToConfigOverrides', () => {
  const e = configError(() => flagsToConfigOverrides(runOptions(['--expected-pow', 'x', '--connections', 'y', '--peer', '::1]:1', '--rpc-addr', '1.2.3.4:0x'])))
  assert.deepEqual(e.problems.map(p => p.flag).sort(), ['--connections', '--expected-pow', '--peer', '--rpc-addr'])
})

test('edit distance and suggestions', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3)
  assert.equal(editDistance('', 'abc'), 3)
  assert.equal(editDistance('same', 'same'), 0)
  assert.deepEqual(closestNames('min-conections', ['min-connections', 'max-connections', 'backlog']), ['min-connections', 'max-connections'])
  assert.deepEqual(closestNames('disable-mempool', ['disable_mempool', 'private-mode']), ['disable_mempool'])
  assert.deepEqual(closestNames('zzz', ['backlog']), [])
})

test('any JSON at any known key gives a configuration or a ConfigError, never another exception', () => {
  const keys = SETTINGS.map(s => s.key.replace(/\[\]\..*$/, '')).concat(['network', 'p2p', 'p2p.limits', 'protocol', 'protocol.parameters'])
  const nest = (key: string, value: unknown): Record<string, unknown> =>
    key.split('.').reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value) as Record<string, unknown>
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a }
    for (const [k, v] of Object.entries(b)) {
      const prev = out[k]
      out[k] = prev !== null && typeof prev === 'object' && !Array.isArray(prev) && v !== null && typeof v === 'object' && !Array.isArray(v)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v
    }
    return out
  }
  const entry = fc.tuple(fc.constantFrom(...keys), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('devnet', 'accept-all', '127.0.0.1:1', '', null, -1, 1e300)))
  fc.assert(fc.property(fc.array(entry, { maxLength: 6 }), (entries) => {
    const json = entries.reduce<Record<string, unknown>>((acc, [k, v]) => merge(acc, nest(k, v)), {})
    try {
      resolveConfig(json, {}, { env: {} })
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e
      assert.ok(e.problems.length > 0)
    }
  }), { numRuns: 300, seed: 7 })
})
