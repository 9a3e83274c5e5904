import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { randomBytes, x25519Keypair } from '../../src/crypto/index.ts'
import { makeIdentity } from '../../src/identity/identity.ts'
import { POW_STAMP_BYTES } from '../../src/identity/pow.ts'
import { createNode } from '../../src/node/create-node.ts'
import { startRpcServer } from '../../src/rpc/server.ts'
import { blacklist, decide, requestSegments, ruleMatches } from '../../src/rpc/acl-rules.ts'
import { parseAclAddress, SECURE_POLICY } from '../../src/rpc/acl-policy.ts'

/**
 * The access check on real listeners: three loopback addresses (Linux routes all of 127/8 to lo),
 * each with its own policy, in front of the real routes of a real node. The non-loopback default
 * is exercised for real in test/e2e/rpc-acl-netns.test.ts.
 */

const PEER = 'idrRoknJh9zwEePNswF3MPGFzmKaVp'

/** Requests the secure policy serves: a route exists for each (the answer is not "no such RPC"). */
const PUBLIC: Array<[string, string, string?]> = [
  ['GET', '/chains/main/blocks/head'],
  ['GET', '/chains/main/blocks/head/context/contracts/tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx'],
  ['GET', '/chains/main/blocks/head/hash'],
  ['GET', '/chains/main/blocks/head/header'],
  ['GET', '/chains/main/blocks/head/operation_hashes'],
  ['GET', '/chains/main/blocks/head/operations'],
  ['GET', '/chains/main/chain_id'],
  ['GET', '/chains/main/mempool/pending_operations'],
  ['GET', '/chains/main/protocols'],
  // Not the main chain: answered at once instead of streaming.
  ['GET', '/monitor/heads/other'],
  ['GET', '/network/greylist/ips'],
  ['GET', '/network/greylist/peers'],
  ['GET', '/network/self'],
  ['GET', '/protocols'],
  ['GET', '/protocols/PtYuensgYBb3G3x1hLLbCmcav8ue8Kyd2khADcL5LsT5R1hcXex'],
  ['POST', '/injection/operation', '"00"'],
  ['GET', '/health'],
  ['GET', '/health/ready']
]

/** Requests only loopback (or a configured policy) serves: state changes, peers' addresses, the status page. */
const PRIVATE: Array<[string, string]> = [
  ['GET', '/network/peers'],
  ['GET', `/network/peers/${PEER}`],
  ['PUT', `/network/peers/${PEER}/ban`],
  ['DELETE', `/network/peers/${PEER}/ban`],
  ['GET', '/network/points'],
  ['GET', '/network/connections'],
  ['DELETE', `/network/connections/${PEER}`],
  ['GET', '/network/bans'],
  ['GET', '/network/greylist'],
  ['DELETE', '/network/greylist'],
  ['GET', '/metrics'],
  ['GET', '/'],
  ['GET', '/status'],
  ['HEAD', '/network/peers']
]

async function call (base: string, [method, path, body]: [string, string, string?]): Promise<{ status: number, error?: string }> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {})
  })
  const text = await response.text()
  const error = response.headers.get('content-type')?.includes('json') === true && text.startsWith('{') ? (JSON.parse(text) as { error?: string }).error : undefined
  return { status: response.status, ...(error !== undefined ? { error } : {}) }
}

describe('RPC access control on real listeners', () => {
  it('applies each listener\'s own policy before routing; a refusal is a 403 naming the rule', async () => {
    const { publicKey, secretKey } = x25519Keypair()
    const node = await createNode({
      identity: makeIdentity(publicKey, secretKey, randomBytes(POW_STAMP_BYTES)),
      privateKey: await generateKeyPair('Ed25519'),
      chainName: 'TZP2P_TEST',
      expectedPow: 0,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      manageConnections: false
    })
    await node.start()
    const rpc = await startRpcServer({
      node,
      listen: [{ host: '127.0.0.1', port: 0 }, { host: '127.0.0.2', port: 0 }, { host: '127.0.0.3', port: 0 }],
      acl: [
        // What a non-loopback listener gets by default, here on a loopback address to test it without root.
        { address: parseAclAddress('127.0.0.1'), policy: SECURE_POLICY },
        { address: parseAclAddress('127.0.0.2'), policy: blacklist(['PUT /network/peers/*/ban', 'DELETE /network/**']) }
      ]
    })
    try {
      const [secure, black, open] = rpc.urls
      for (const request of PUBLIC) {
        const r = await call(secure, request)
        assert.ok(r.status !== 403 && !(r.error ?? '').startsWith('no such RPC'), `${request.join(' ')}: ${r.status} ${r.error}`)
      }
      for (const request of PRIVATE) {
        const r = await call(secure, request)
        assert.equal(r.status, 403, request.join(' '))
        if (request[0] !== 'HEAD') {
          assert.equal(r.error, `forbidden: ${request[0]} ${request[1]} matches no rule of the whitelist for 127.0.0.1 (rpc.acl), which refuses the rest`)
        }
      }
      // Unknown paths: refused where the policy refuses them, "no such RPC" where it lets them through.
      assert.equal((await call(secure, ['GET', '/no/such/rpc'])).status, 403)
      const unknown = await call(black, ['GET', '/no/such/rpc'])
      assert.equal(unknown.status, 404)
      assert.match(unknown.error ?? '', /^no such RPC/)

      // The blacklist names the rule that refused.
      const ban = await call(black, ['PUT', `/network/peers/${PEER}/ban`])
      assert.deepEqual(ban, { status: 403, error: `forbidden: PUT /network/peers/${PEER}/ban matches "PUT /network/peers/*/ban" of the blacklist for 127.0.0.2 (rpc.acl)` })
      const clear = await call(black, ['DELETE', '/network/greylist?all=1'])
      assert.deepEqual(clear, { status: 403, error: 'forbidden: DELETE /network/greylist matches "DELETE /network/**" of the blacklist for 127.0.0.2 (rpc.acl)' })
      assert.equal((await call(black, ['GET', '/network/peers'])).status, 200)
      assert.equal((await call(black, ['GET', '/network/greylist'])).status, 200)

      // A loopback listener without an entry serves everything (Octez's default).
      for (const request of PRIVATE) assert.notEqual((await call(open, request)).status, 403, request.join(' '))
      assert.equal((await call(open, ['DELETE', '/network/greylist'])).status, 200)
      // CORS preflights pass every policy, as in Octez.
      assert.notEqual((await call(secure, ['OPTIONS', '/network/greylist'])).status, 403)
    } finally {
      await rpc.close()
      await node.stop()
    }
  })

  it('every rule of the secure default serves a route tzp2p has (the list holds no dead entry)', () => {
    for (const rule of SECURE_POLICY.rules) {
      assert.ok(PUBLIC.some(([method, path]) => ruleMatches(rule, method as 'GET', requestSegments(path))), `${rule.text} matches none of the public requests`)
    }
    for (const [method, path] of PUBLIC) assert.ok(decide(SECURE_POLICY, method as 'GET', requestSegments(path)).allowed, `${method} ${path}`)
  })
})
