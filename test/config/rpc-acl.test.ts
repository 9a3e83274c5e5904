import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Command } from 'commander'
import { ConfigError, configToJson, registerRunOptions, resolveConfig } from '../../src/config/index.ts'

const runOptions = (args: string[]): Record<string, unknown> =>
  registerRunOptions(new Command('run')).exitOverride().parse(args, { from: 'user' }).opts()

/** The one-line message of the ConfigError `f` throws. */
function configError (f: () => unknown): string {
  try {
    f()
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e))
    return e.message
  }
  return assert.fail('no ConfigError')
}

const summary = (acl: ReturnType<typeof resolveConfig>['rpc']['acl']): unknown[] =>
  acl.map(e => [e.address.text, e.policy.kind, e.policy.rules.map(r => r.text)])

test('rpc.acl entries become policies, in order, and configToJson writes them back', () => {
  const json = {
    rpc: {
      'listen-addrs': ['127.0.0.1:8732', '10.0.0.1:8732'],
      acl: [
        { address: '10.0.0.1:8732', whitelist: ['GET /chains/**', 'POST /injection/operation'] },
        { address: '[::1]', blacklist: ['DELETE /network/**'] }
      ]
    }
  }
  const c = resolveConfig(json, {}, { env: {} })
  assert.deepEqual(summary(c.rpc.acl), [
    ['10.0.0.1:8732', 'whitelist', ['GET /chains/**', 'POST /injection/operation']],
    ['[::1]', 'blacklist', ['DELETE /network/**']]
  ])
  // A whitelist on a public address is what the operator chose: no warning.
  assert.ok(!c.warnings.some(w => w.startsWith('rpc.')), c.warnings.join('; '))
  for (const omitDefaults of [false, true]) {
    const back = resolveConfig(JSON.parse(JSON.stringify(configToJson(c, { omitDefaults }))), {}, { env: {} })
    assert.deepEqual(back.rpc, c.rpc)
  }
})

test('--allow-all-rpc replaces the entry of its exact address and port for the run, else adds one (Octez put_policy)', () => {
  const json = { rpc: { acl: [{ address: '10.0.0.1:8732', whitelist: ['GET /chains/**'] }, { address: '10.0.0.1', whitelist: [] }] } }
  const c = resolveConfig(json, runOptions(['--rpc-addr', '10.0.0.1:8732', '--allow-all-rpc', '10.0.0.1:8732', '--allow-all-rpc', '10.0.0.2']), { env: {} })
  assert.deepEqual(summary(c.rpc.acl), [['10.0.0.1:8732', 'blacklist', []], ['10.0.0.1', 'whitelist', []], ['10.0.0.2', 'blacklist', []]])
  // Serving everything off loopback is worth a warning.
  assert.ok(c.warnings.includes('rpc.acl: 10.0.0.1:8732 is reachable from other machines and its policy (10.0.0.1:8732) serves every RPC not blacklisted, such as bans, greylist clearing and injection'), c.warnings.join('; '))
  assert.equal(configError(() => resolveConfig({}, runOptions(['--allow-all-rpc', '10.0.0.1:port']), { env: {} })),
    'invalid configuration: --allow-all-rpc: got "10.0.0.1:port": port "port" is not a number from 0 to 65535; expected host[:port] or [ipv6][:port]; without a port, every port of that address')
})

test('a bad rpc.acl entry is one line naming the entry, the value and the accepted form', () => {
  const bad = (entry: unknown): string => configError(() => resolveConfig({ rpc: { acl: [{ address: '10.0.0.1', whitelist: [] }, entry] } }, {}, { env: {} }))
  assert.equal(bad({ address: '10.0.0.1', whitelist: ['GET /ok', 'GET /a/**/b'] }),
    'invalid configuration: rpc.acl[1].whitelist[1]: got "GET /a/**/b": "**" can only be the last segment; expected a list of rules "[METHOD] /path" (* is one segment, a final ** any suffix), e.g. "GET /chains/**"')
  assert.match(bad({ address: '10.0.0.1', blacklist: ['get /x'] }), /^invalid configuration: rpc\.acl\[1\]\.blacklist\[0\]: got "get \/x": it must start with "\/" or with one of GET, PUT, POST, PATCH, DELETE \(in capitals\); expected /)
  assert.match(bad({ address: '10.0.0.1', blacklist: ['/blocks/b*'] }), /rpc\.acl\[1\]\.blacklist\[0\]: got "\/blocks\/b\*": "\*" inside the segment "b\*" must be percent-encoded/)
  assert.match(bad({ address: 'not an address', blacklist: [] }), /^invalid configuration: rpc\.acl\[1\]\.address: got "not an address": contains white space; expected host\[:port\]/)
  assert.match(bad({ whitelist: [] }), /^invalid configuration: rpc\.acl\[1\]\.address: missing; expected host\[:port\]/)
  assert.match(bad({ address: '10.0.0.1', whitelist: [], blacklist: [] }), /^invalid configuration: rpc\.acl\[1\]: has both a whitelist and a blacklist — give one: /)
  assert.match(bad({ address: '10.0.0.1' }), /^invalid configuration: rpc\.acl\[1\]: has neither a whitelist nor a blacklist — give one: /)
  assert.match(bad({ address: '10.0.0.1', whitelist: [], allow: [] }), /^invalid configuration: rpc\.acl\[1\]\.allow: unknown key — /)
  assert.match(configError(() => resolveConfig({ rpc: { acl: { address: '10.0.0.1' } } }, {}, { env: {} })), /^invalid configuration: rpc\.acl: got an object; expected a list of \{ "address"/)
  for (const message of [bad({ address: '10.0.0.1', whitelist: ['GET /a/**/b'] }), bad({ address: '10.0.0.1' })]) assert.ok(!message.includes('\n'), message)
})
