import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { normaliseIpAddress } from '../../src/net/point.ts'
import {
  blacklist, decide, InvalidAclRuleError, parseAclRule, requestSegments, ruleMatches, whitelist, type AclMethod
} from '../../src/rpc/acl-rules.ts'
import {
  ALLOW_ALL_POLICY, defaultPolicy, findPolicy, InvalidAclAddressError, parseAclAddress, policyForListener,
  putPolicy, resolveAclEntries, SECURE_POLICY, type RpcAclEntry
} from '../../src/rpc/acl-policy.ts'

const matches = (rule: string, method: AclMethod | undefined, path: string): boolean =>
  ruleMatches(parseAclRule(rule), method, requestSegments(path))

describe('RPC access rules (Octez Resto_acl syntax)', () => {
  it('parses the forms Octez accepts: optional method, spaces or none before the path, * and a final **', () => {
    const shape = (text: string): unknown => {
      const r = parseAclRule(text)
      return [r.method ?? 'any', r.segments.map(s => s === 'wildcard' ? '*' : s.literal), r.anySuffix]
    }
    // The cases of resto's own parser test, in tzp2p's representation.
    assert.deepEqual(shape('/'), ['any', [], false])
    assert.deepEqual(shape(' /'), ['any', [], false])
    assert.deepEqual(shape('                                    /'), ['any', [], false])
    assert.deepEqual(shape('GET /'), ['GET', [], false])
    assert.deepEqual(shape('GET/'), ['GET', [], false])
    assert.deepEqual(shape('GET      /'), ['GET', [], false])
    assert.deepEqual(shape('POST /'), ['POST', [], false])
    assert.deepEqual(shape('/**'), ['any', [], true])
    assert.deepEqual(shape('DELETE /**'), ['DELETE', [], true])
    assert.deepEqual(shape('DELETE/**'), ['DELETE', [], true])
    assert.deepEqual(shape('/a/b/c/d/e'), ['any', ['a', 'b', 'c', 'd', 'e'], false])
    assert.deepEqual(shape('/*/a/*/b'), ['any', ['*', 'a', '*', 'b'], false])
    assert.deepEqual(shape('/*/a/*/b/**'), ['any', ['*', 'a', '*', 'b'], true])
    assert.deepEqual(shape('PATCH /network//peers/'), ['PATCH', ['network', 'peers'], false])
    // Literals are percent-decoded: an encoded * is a character, not a wildcard.
    assert.deepEqual(shape('/entries/20%2A/x%2Fy'), ['any', ['entries', '20*', 'x/y'], false])
  })

  it('refuses what Octez refuses, saying why', () => {
    const reason = (text: string): string => {
      try {
        parseAclRule(text)
      } catch (e) {
        assert.ok(e instanceof InvalidAclRuleError)
        assert.equal(e.text, text)
        return e.reason
      }
      return assert.fail(`${JSON.stringify(text)} parsed`)
    }
    assert.match(reason(''), /empty/)
    assert.match(reason('get /a'), /must start with "\/" or with one of GET, PUT, POST, PATCH, DELETE/)
    assert.match(reason('HEAD /a'), /must start with/)
    assert.match(reason('GET'), /must start with/)
    assert.match(reason('GETX /a'), /unexpected "X" before the path/)
    assert.match(reason('GET\t/a'), /only spaces may separate/)
    assert.match(reason('DELETE a'), /no path/)
    assert.match(reason('/a/**/b'), /"\*\*" can only be the last segment/)
    assert.match(reason('/a/**/**'), /"\*\*" can only be the last segment/)
    for (const c of ['*', '?', '&', '#', '=']) assert.match(reason(`/a/b${c}c`), /must be percent-encoded/)
  })

  it('matches as Octez: * is one whole segment, ** any suffix including none, empty segments ignored', () => {
    // The examples of resto's documentation.
    assert.ok(matches('/users/*/display-name', 'GET', '/users/Alice/display-name'))
    assert.ok(matches('/users/*/display-name', 'GET', '/users/Bob/display-name'))
    assert.ok(!matches('/users/*/display-name', 'GET', '/users/foo/preferences/'))
    assert.ok(!matches('/users/*/display-name', 'GET', '/users/Bar/display-name/normalised'))
    assert.ok(matches('/admin/keys/**', 'GET', '/admin/keys'))
    assert.ok(matches('/admin/keys/**', 'GET', '/admin/keys/gpg'))
    assert.ok(matches('/admin/keys/**', 'GET', '/admin/keys/gpg/sub/key'))
    assert.ok(!matches('/admin/keys/**', 'GET', '/admin'))
    assert.ok(!matches('/admin/keys/**', 'GET', '/admin/keysX'))
    // * never matches a missing segment.
    assert.ok(!matches('/chains/*/blocks/*', 'GET', '/chains/main/blocks'))
    assert.ok(matches('/**', 'DELETE', '/'))
    assert.ok(matches('/', 'GET', '/'))
    assert.ok(!matches('/', 'GET', '/a'))
    // Request paths: empty segments dropped, the query ignored, segments percent-decoded.
    assert.ok(matches('DELETE /network/greylist', 'DELETE', '//network///greylist/?x=1'))
    assert.ok(matches('DELETE /network/greylist', 'DELETE', '/network/%67reylist'))
    assert.ok(matches('/entries/20%2A', 'GET', '/entries/20%2A'))
    assert.ok(!matches('/entries/20%2A', 'GET', '/entries/200'))
    // The path checked never runs past what the router may take for the path.
    assert.deepEqual(requestSegments('/network/greylist#frag/x'), ['network', 'greylist'])
    assert.deepEqual(requestSegments('/network/greylist;x=1/y'), ['network', 'greylist'])
    // Literals are case-sensitive, as the router is.
    assert.ok(!matches('/network/self', 'GET', '/Network/self'))
    // A rule without a method applies to every method, and to methods no rule can name.
    assert.ok(matches('/network/**', 'PATCH', '/network/peers/x'))
    assert.ok(matches('/network/**', undefined, '/network'))
    assert.ok(!matches('GET /network/**', 'POST', '/network/self'))
    assert.ok(!matches('GET /network/**', undefined, '/network/self'))
  })

  it('decides as Octez: a whitelist serves only matches, a blacklist refuses them; the first matching rule is named', () => {
    const white = whitelist(['GET /chains/**', 'POST /injection/operation'])
    assert.deepEqual(decide(white, 'GET', ['chains', 'main', 'blocks']), { allowed: true, rule: white.rules[0] })
    assert.deepEqual(decide(white, 'DELETE', ['chains', 'main']), { allowed: false })
    assert.deepEqual(decide(white, 'GET', ['network', 'peers']), { allowed: false })
    const black = blacklist(['DELETE /network/**', '/network/peers/*/ban', '/network/**'])
    assert.deepEqual(decide(black, 'GET', ['network', 'self']), { allowed: false, rule: black.rules[2] })
    assert.deepEqual(decide(black, 'PUT', ['network', 'peers', 'id', 'ban']), { allowed: false, rule: black.rules[1] })
    assert.deepEqual(decide(black, 'DELETE', ['network', 'greylist']), { allowed: false, rule: black.rules[0] })
    assert.deepEqual(decide(black, 'GET', ['chains', 'main']), { allowed: true })
    assert.equal(decide(whitelist([]), 'GET', []).allowed, false)
    assert.equal(decide(ALLOW_ALL_POLICY, 'DELETE', ['network', 'greylist']).allowed, true)
  })
})

describe('RPC access policy per listen address (Octez find_policy)', () => {
  const entry = (address: string, kind: 'whitelist' | 'blacklist', rules: string[]): RpcAclEntry =>
    ({ address: parseAclAddress(address), policy: kind === 'whitelist' ? whitelist(rules) : blacklist(rules) })
  // The policy of Octez's own find_policy test, with its expectations.
  const example = [
    entry('192.168.1.5:8732', 'whitelist', ['GET/**', 'DELETE/chains/*/invalid_blocks/*']),
    entry('192.168.0.3', 'blacklist', ['/monitor/**']),
    entry('192.168.1.5', 'whitelist', ['/chains/**', '/monitor/**']),
    entry('[::1]:8732', 'blacklist', ['DELETE /network/**'])
  ]

  it('takes the first entry whose address is the listener\'s and whose port is its port or unset', async () => {
    const resolved = await resolveAclEntries(example)
    assert.equal(findPolicy(resolved, '192.168.1.5', 8732), example[0])
    assert.equal(findPolicy(resolved, '192.168.1.5', 5431), example[2])
    assert.equal(findPolicy(resolved, '192.168.0.3', 8732), example[1])
    assert.equal(findPolicy(resolved, '192.168.0.3', 9732), example[1])
    assert.equal(findPolicy(resolved, '192.168.0.4', 8732), undefined)
    // 0.0.0.0 is an address like any other: it matches only an entry written for it.
    assert.equal(findPolicy(resolved, '0.0.0.0', 8732), undefined)
    // IPs compare canonically: long IPv6 forms and IPv4-mapped addresses.
    assert.equal(findPolicy(resolved, '0:0:0:0:0:0:0:1', 8732), example[3])
    assert.equal(findPolicy(resolved, '::ffff:192.168.0.3', 1), example[1])
  })

  it('falls back to allow-all on loopback and to the secure whitelist elsewhere (Octez Acl.default)', async () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(defaultPolicy(ip), ALLOW_ALL_POLICY, ip)
    for (const ip of ['0.0.0.0', '::', '10.99.0.10', '192.168.1.5', 'fe80::1']) assert.equal(defaultPolicy(ip), SECURE_POLICY, ip)
    const resolved = await resolveAclEntries(example)
    assert.deepEqual(policyForListener(resolved, '10.0.0.1', 8732).source, { kind: 'default-secure' })
    assert.deepEqual(policyForListener(resolved, '127.0.0.1', 8732).source, { kind: 'default-loopback' })
    // A configured entry wins over the loopback default.
    const local = policyForListener(resolved, '::1', 8732)
    assert.equal(local.listener, '[::1]:8732')
    assert.deepEqual(local.source, { kind: 'configured', entry: example[3] })
  })

  it('resolves host names once, to every address they have; a name that does not resolve matches nothing', async () => {
    const names: Record<string, string[]> = { 'rpc.example': ['10.1.1.1', '2001:db8:0:0::7'], 'gone.example': [] }
    const resolved = await resolveAclEntries([entry('gone.example', 'blacklist', []), entry('RPC.example:8732', 'blacklist', ['/**'])], async n => await Promise.resolve(names[n] ?? []))
    assert.equal(findPolicy(resolved, '10.1.1.1', 8732)?.address.text, 'RPC.example:8732')
    assert.equal(findPolicy(resolved, '2001:db8::7', 8732)?.address.text, 'RPC.example:8732')
    assert.equal(findPolicy(resolved, '10.1.1.1', 8733), undefined)
  })

  it('parses entry addresses as Octez writes them, and refuses others', () => {
    assert.deepEqual(parseAclAddress('localhost:8732'), { text: 'localhost:8732', hostKind: 'dns', host: 'localhost', port: 8732 })
    assert.deepEqual(parseAclAddress('[::1]'), { text: '[::1]', hostKind: 'ip6', host: '::1' })
    assert.deepEqual(parseAclAddress('2001:db8::1'), { text: '2001:db8::1', hostKind: 'ip6', host: '2001:db8::1' })
    assert.deepEqual(parseAclAddress('[0:0::1]:1'), { text: '[0:0::1]:1', hostKind: 'ip6', host: '::1', port: 1 })
    assert.deepEqual(normaliseIpAddress('::ffff:10.0.0.1'), { kind: 'ip4', address: '10.0.0.1' })
    for (const bad of ['', 'a b', '[::1', '[::1]x', 'host:port', 'host:70000', '1.2.3.4:', '-bad-:1']) {
      assert.throws(() => parseAclAddress(bad), InvalidAclAddressError, bad)
    }
  })

  it('puts an entry in place of the one for the same address and port, else at the end (Octez put_policy)', () => {
    const list = [{ address: '10.0.0.1:8732', tag: 'a' }, { address: '10.0.0.1', tag: 'b' }]
    assert.deepEqual(putPolicy(list, { address: '10.0.0.1:8732', tag: 'c' }).map(e => e.tag), ['c', 'b'])
    assert.deepEqual(putPolicy(list, { address: '10.0.0.1', tag: 'c' }).map(e => e.tag), ['a', 'c'])
    assert.deepEqual(putPolicy(list, { address: '10.0.0.2', tag: 'c' }).map(e => e.tag), ['a', 'b', 'c'])
  })
})
