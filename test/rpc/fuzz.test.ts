import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { seededRandom } from '../helpers/seeded-random.ts'
import { rawHttpRequest, rpcAnswerProblem, rpcRequestGenerator, sendFuzzRequest, startRpcFuzzEnv, type RpcFuzzEnv } from './fuzz-support.ts'

/** Percent-encodes the controls and spaces of a request target (U+0000 to U+0020 and U+007F), leaving the rest as it is. */
function encodeControls (target: string): string {
  let out = ''
  for (const c of target) out += c <= ' ' || c === '\x7f' ? encodeURIComponent(c) : c
  return out
}

/** The short version of `npm run fuzz -- --target rpc` (10^6 requests there). */
describe('RPC input fuzzing (a real node and RPC; random and mutated requests)', () => {
  let env: RpcFuzzEnv
  before(async () => { env = await startRpcFuzzEnv() })
  after(async () => { await env?.close() })

  it('3000 injected requests: no 5xx, every error is JSON { error }', async () => {
    const next = rpcRequestGenerator(seededRandom(7), env.corpus)
    const statuses = new Map<number, number>()
    for (let i = 0; i < 3000; i++) {
      const req = next()
      const response = await sendFuzzRequest(env, req)
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      const problem = rpcAnswerProblem(response, req.method, req.url)
      assert.equal(problem, undefined, `${req.method} ${req.url}: ${problem}`)
    }
    // The generator reaches both the handlers (200) and the refusals (400, 404).
    for (const s of [200, 400, 404]) assert.ok((statuses.get(s) ?? 0) > 50, `status ${s}: ${JSON.stringify([...statuses])}`)
  })

  it('request targets no HTTP client builds, sent raw: answered 4xx with JSON { error }', async () => {
    for (const url of ['/\\', '/\\\\..\\', '//', '/%', '/%zz', '/chains/main/blocks/%ff%fe', '/\u00ff']) {
      const answer = await rawHttpRequest(env.rpc.urls[0], { method: 'GET', url })
      assert.ok(answer.statusCode >= 400 && answer.statusCode < 500, `${url}: ${answer.statusCode}`)
      assert.equal(rpcAnswerProblem(answer, 'GET', url), undefined, url)
    }
  })

  it('300 requests over real TCP (sent as raw bytes): the same, and the server still answers afterwards', async () => {
    const next = rpcRequestGenerator(seededRandom(8), env.corpus)
    for (let i = 0; i < 300; i++) {
      const req = next()
      // Raw bytes: control characters and spaces in the target are sent as they are.
      const url = encodeControls(req.url)
      const answer = await rawHttpRequest(env.rpc.urls[0], { ...req, url })
      const problem = rpcAnswerProblem(answer, req.method, url)
      assert.equal(problem, undefined, `${req.method} ${url.slice(0, 200)}: ${problem}`)
    }
    const health = await fetch(`${env.rpc.urls[0]}/health`)
    assert.equal(health.status, 200)
  })
})
