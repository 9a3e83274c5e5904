import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import {
  RUN_FLAGS, SETTINGS, SETTINGS_BY_KEY, configFileSchema, defaultConfigJson, flagAttribute, flagName, flagsForKey,
  registerRunOptions, renderConfigReference, resolveConfig
} from '../../src/config/index.ts'
import { valueAt } from '../../src/config/defaults.ts'

/** Leaf key paths of a JSON object (lists and null are leaves). */
function leaves (json: unknown, prefix = ''): string[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [prefix]
  return Object.entries(json).flatMap(([k, v]) => leaves(v, prefix === '' ? k : `${prefix}.${k}`))
}

test('the defaults are a valid config file, and every key of it is a documented setting', () => {
  const defaults = defaultConfigJson()
  const parsed = configFileSchema().safeParse(defaults)
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues))
  for (const key of leaves(defaults)) {
    assert.ok(SETTINGS_BY_KEY.has(key) || key.startsWith('protocol.parameters.'), `default ${key} has no settings row`)
  }
  for (const key of leaves(valueAt(defaults, 'protocol.parameters'))) assert.ok(SETTINGS_BY_KEY.has(`protocol.parameters.${key}`), key)
})

test('every effective setting has a default, in defaults.ts or as text, and the schema accepts its default', () => {
  for (const s of SETTINGS) {
    if (s.effect !== undefined || s.required === true) continue
    const value = valueAt(defaultConfigJson(), s.key)
    assert.ok(value !== undefined || s.defaultText !== undefined, `${s.key} has no default`)
    if (value !== undefined && s.schema !== undefined) assert.ok(s.schema.safeParse(value).success, `${s.key}: default ${JSON.stringify(value)} rejected`)
  }
})

test('every flag sets a documented key, has a unique name, and is registered with commander', () => {
  const names = RUN_FLAGS.map(flagName)
  assert.equal(new Set(names).size, names.length)
  for (const f of RUN_FLAGS) {
    if (f.key !== undefined) assert.ok(SETTINGS_BY_KEY.has(f.key), `${flagName(f)} sets unknown key ${f.key}`)
    for (const key of f.affects ?? []) assert.ok(SETTINGS_BY_KEY.has(key), `${flagName(f)} affects unknown key ${key}`)
    assert.ok(f.key !== undefined || f.kind === 'special', `${flagName(f)} sets nothing`)
  }
  const command = registerRunOptions(new Command('run'))
  assert.deepEqual(command.options.map(o => o.long), names)
  assert.deepEqual(command.options.map(o => o.attributeName()), RUN_FLAGS.map(flagAttribute))
  // The issue's required Octez-named flags.
  for (const flag of ['--data-dir', '--net-addr', '--peer', '--bootstrap-dns', '--rpc-addr', '--connections', '--expected-pow',
    '--private-mode', '--disable-mempool', '--chain-name', '--config-file', '--protocol']) assert.ok(names.includes(flag), flag)
  const help = command.helpInformation().replace(/\s+/g, ' ')
  assert.match(help, /--expected-pow <difficulty> +proof-of-work difficulty .*\(default: 26\)/)
  assert.match(help, /--rpc-addr <host:port> +.*\(default: 127\.0\.0\.1:8732\)/)
})

test('each flag changes the key it claims to (parsed by commander, resolved by loadConfig)', () => {
  const sample: Record<string, string[]> = {
    '--data-dir': ['/tmp/x'], '--network': ['devnet'], '--chain-name': ['OTHER'], '--net-addr': ['127.0.0.1:1'], '--advertised-net-port': ['2'],
    '--bootstrap-dns': ['a.example'], '--dns-resolver': ['192.0.2.53'], '--expected-pow': ['3'], '--synchronisation-threshold': ['7'],
    '--sync-latency': ['9'], '--rpc-addr': ['127.0.0.1:5'], '--cors-origin': ['*'], '--cors-header': ['x-a'], '--metrics-addr': ['127.0.0.1:6'],
    '--protocol': ['accept-all'], '--bake-interval': ['2'], '--baker-key-file': ['seed.hex'], '--log-level': ['debug'], '--log-output': ['stderr'],
    '--protocol-versions': ['1'], '--activate': ['demo-v2@20'], '--octez-net-addr': ['127.0.0.1:9733'], '--octez-peer': ['192.0.2.1'],
    // A checkpoint needs the shell protocol and a network naming its genesis protocol.
    '--checkpoint': ['BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2', '--protocol', 'shell', '--network', 'mainnet']
  }
  const base = resolveConfig({}, {}, { env: {} })
  for (const f of RUN_FLAGS) {
    if (f.key === undefined || f.key === 'network') continue
    const args = f.kind === 'true' || f.kind === 'null' ? [flagName(f)] : [flagName(f), ...(sample[flagName(f)] ?? assert.fail(`no sample for ${flagName(f)}`))]
    const command = registerRunOptions(new Command('run')).exitOverride()
    command.parse(args, { from: 'user' })
    const changed = resolveConfig({}, command.opts(), { env: {} })
    assert.notDeepEqual(changed, base, `${flagName(f)} changed nothing`)
  }
})

test('the reference lists every effective key with its default and flags, and every option', () => {
  const text = renderConfigReference()
  for (const s of SETTINGS) {
    if (s.effect !== undefined) assert.ok(text.includes(`\`${s.key}\``), s.key)
    else assert.match(text, new RegExp(`^\\| \`${s.key.replace(/[.[\]]/g, '\\$&')}\` \\|`, 'm'), s.key)
  }
  for (const f of RUN_FLAGS) assert.ok(text.includes(`| \`${f.flags}\` |`), f.flags)
  assert.match(text, /^\| `p2p\.limits\.min-connections` \| an integer from 0 to 65535 \| `10` \| `--connections` \| Octez \|/m)
  assert.match(text, /^\| `rpc\.listen-addrs` \| .* \| `\["127\.0\.0\.1:8732"\]` \| `--rpc-addr` \|/m)
  assert.deepEqual(flagsForKey('p2p.bootstrap-peers').map(flagName), ['--peer', '--no-bootstrap-peers'])
  // Every row has as many cells as its header (no unescaped | inside a cell).
  const [keys, options] = text.split('### `tzp2p run` options')
  const cells = (line: string): number => line.replace(/\\\|/g, '').split('|').length - 2
  for (const line of keys.split('\n').filter(l => l.startsWith('| '))) assert.equal(cells(line), 6, line)
  for (const line of options.split('\n').filter(l => l.startsWith('| '))) assert.equal(cells(line), 5, line)
})

test('the README\'s configuration reference is `tzp2p config reference`, word for word', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  // The README nests the generated sections one level deeper (under "## Configuration").
  const generated = renderConfigReference().trimEnd().replace(/^### /gm, '#### ')
  assert.ok(readme.includes(generated), 'README.md\'s "#### Config file" section differs from `tzp2p config reference`: paste its output there (headings one level deeper)')
})
