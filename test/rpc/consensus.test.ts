import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startRpcServer, type RpcServer } from '../../src/rpc/server.ts'
import type { RpcErrorBody } from '../../src/rpc/errors.ts'
import { startDemoNode, type DemoNode } from './demo-node.ts'
import { requestJson } from './rpc-json.ts'

// The demo v3 answers are exercised on a devnet of delegates (test/e2e/devnet-bakers.test.ts);
// here, what every node answers and the refusals.
describe('RPC consensus views on a demo v1 chain', () => {
  let demo: DemoNode
  let rpc: RpcServer
  let base: string

  before(async () => {
    demo = await startDemoNode({ name: 'rpc-consensus', accounts: 2 })
    rpc = await startRpcServer({ node: demo.node, listen: [{ host: '127.0.0.1', port: 0 }] })
    base = rpc.urls[0]
    await demo.node.bake()
  })
  after(async () => {
    await rpc?.close()
    await demo?.close()
  })

  it('operations/<pass> serves a pass of any protocol; a pass beyond the block\'s is 404', async () => {
    const ok = await requestJson<unknown[]>(`${base}/chains/main/blocks/head/operations/0`)
    assert.equal(ok.status, 200)
    assert.deepEqual(ok.body, [])
    const beyond = await requestJson<RpcErrorBody>(`${base}/chains/main/blocks/head/operations/4`)
    assert.equal(beyond.status, 404)
    assert.match(beyond.body.error, /validation passes 0 to 0, not 4/)
  })

  it('rights, fitness and delegates are demo v3 views: 404 naming the protocol on v1', async () => {
    for (const path of ['fitness', 'helpers/baking_rights', 'helpers/endorsing_rights', 'context/delegates/tz1PpVkW9STkgGuY9Y7Rtc3iVoAzhumPYp9j']) {
      const r = await requestJson<RpcErrorBody>(`${base}/chains/main/blocks/head/${path}`)
      assert.equal(r.status, 404, path)
      assert.match(r.body.error, /has no delegates or rights \(demo v3 has\)/, path)
    }
  })
})
