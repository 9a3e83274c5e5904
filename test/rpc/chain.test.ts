import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { b58Encode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import type { DemoSetup } from '../helpers/demo-chain.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import { encodePublicKeyHash, signTransfer } from '../../src/protocol/demo/index.ts'
import type { RpcErrorBody } from '../../src/rpc/errors.ts'
import type { HealthJson } from '../../src/rpc/metrics-routes.ts'
import { startRpcServer, type RpcServer } from '../../src/rpc/server.ts'
import { operationCodec, operationHash, type Operation } from '../../src/wire/operation.ts'
import { startNode, stopAll } from '../helpers/node.ts'
import { startDemoNode, type DemoNode } from './demo-node.ts'
import { requestJson, type BlockJson, type GenesisBlockJson, type HeaderJson, type MonitorHeadJson, type OperationJson, type PendingOperationsJson } from './rpc-json.ts'

/** Any status: the status and the body parsed as the answer `T` the test expects. */
async function call<T = unknown> (url: string, init?: RequestInit): Promise<{ status: number, json: T }> {
  const { status, body } = await requestJson<T>(url, init)
  return { status, json: body }
}

const post = async <T = unknown>(url: string, body: string): Promise<{ status: number, json: T }> =>
  await call<T>(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })

describe('RPC /chains/main/*, /injection/operation, /monitor/heads on a node with a demo chain', () => {
  let demo: DemoNode
  let setup: DemoSetup
  let node: TzNode
  let rpc: RpcServer
  let base: string

  /** A transfer of `amount` from account 0 to account 1 with the given counter, branched on the head. */
  const transfer = (counter: bigint, amount = 5n): Operation => {
    const branch = node.head()!.hash
    const from = setup.accounts[0]
    const data = signTransfer(branch, { publicKey: from.publicKey, destination: setup.accounts[1].publicKeyHash, amount, fee: 0n, counter }, from.secretKey)
    return { branch, data }
  }

  before(async () => {
    demo = await startDemoNode({ name: 'rpc-test', accounts: 2 })
    setup = demo.setup
    node = demo.node
    rpc = await startRpcServer({ node, listen: [{ host: '127.0.0.1', port: 0 }] })
    base = rpc.urls[0]
    for (let i = 0; i < 3; i++) await node.bake()
  })
  after(async () => {
    await rpc?.close()
    await demo?.close()
  })

  it('shows the head in Octez form: block, header, hash, by level, by hash and with ~n', async () => {
    const head = node.head()!
    const hash = b58Encode('blockHash', head.hash)
    const block = await call<BlockJson>(`${base}/chains/main/blocks/head`)
    assert.equal(block.status, 200)
    assert.equal(block.json.hash, hash)
    assert.equal(block.json.protocol, setup.protocol.hash)
    assert.match(block.json.chain_id, /^Net/)
    assert.equal(block.json.header.level, 3)
    assert.equal(block.json.header.predecessor, b58Encode('blockHash', head.header.shell.predecessor))
    assert.deepEqual(block.json.operations, [[]])
    assert.match(block.json.metadata.protocol_data.baker, /^edpk/)
    const header = await call<HeaderJson>(`${base}/chains/main/blocks/head/header`)
    assert.deepEqual(Object.keys(header.json).slice(0, 4), ['protocol', 'chain_id', 'hash', 'level'])
    assert.equal(header.json.hash, hash)
    assert.equal((await call(`${base}/chains/main/blocks/head/hash`)).json, hash)
    assert.equal((await call(`${base}/chains/main/blocks/3/hash`)).json, hash)
    assert.equal((await call<HeaderJson>(`${base}/chains/main/blocks/${hash}/header`)).json.level, 3)
    assert.equal((await call<HeaderJson>(`${base}/chains/main/blocks/head~2/header`)).json.level, 1)
    assert.equal((await call(`${base}/chains/main/blocks/${hash}~3/hash`)).json, setup.genesis.block)
    assert.equal((await call(`${base}/chains/main/blocks/genesis/hash`)).json, setup.genesis.block)
    assert.equal((await call(`${base}/chains/${block.json.chain_id}/blocks/head/hash`)).json, hash)
    assert.equal((await call(`${base}/chains/main/chain_id`)).json, block.json.chain_id)
  })

  it('shows the genesis block with Octez\'s genesis metadata (protocol, next protocol, TTL 0), not a protocol-data view', async () => {
    const genesis = await call<GenesisBlockJson>(`${base}/chains/main/blocks/genesis`)
    assert.equal(genesis.status, 200)
    assert.equal(genesis.json.hash, setup.genesis.block)
    assert.deepEqual(genesis.json.operations, [])
    assert.deepEqual(genesis.json.metadata, {
      protocol: setup.protocol.hash,
      next_protocol: setup.protocol.hash,
      max_operations_ttl: 0
    })
    // Level 1 onwards: the protocol describes its own data.
    assert.match((await call<BlockJson>(`${base}/chains/main/blocks/1`)).json.metadata.protocol_data.baker, /^edpk/)
  })

  it('answers 400 for malformed block ids and chains and 404 for unknown ones', async () => {
    for (const bad of ['nope', 'head~x', 'B123', '-1', 'head~99999999999']) {
      const r = await call<RpcErrorBody>(`${base}/chains/main/blocks/${bad}/header`)
      assert.equal(r.status, 400, bad)
      assert.equal(typeof r.json.error, 'string')
    }
    assert.match((await call<RpcErrorBody>(`${base}/chains/main/blocks/nope`)).json.error, /expected head, genesis, a level or a block hash/)
    const far = await call<RpcErrorBody>(`${base}/chains/main/blocks/1000`)
    assert.equal(far.status, 404)
    assert.match(far.json.error, /no block at level 1000 on the current chain \(head is at 3\)/)
    const unknown = b58Encode('blockHash', new Uint8Array(32).fill(7))
    assert.equal((await call(`${base}/chains/main/blocks/${unknown}`)).status, 404)
    assert.equal((await call(`${base}/chains/main/blocks/head~4`)).status, 404)
    assert.equal((await call(`${base}/chains/other/blocks/head`)).status, 400)
    assert.equal((await call(`${base}/chains/NetXdQprcVkpaWU/blocks/head`)).status, 404)
  })

  it('injects an operation (a JSON hex string), lists it as pending, and shows it in the baked block', async () => {
    const op = transfer(1n)
    const hex = toHex(encode(operationCodec, op))
    const injected = await post(`${base}/injection/operation`, JSON.stringify(hex))
    assert.equal(injected.status, 200, JSON.stringify(injected.json))
    const opHash = b58Encode('operationHash', operationHash(op))
    assert.equal(injected.json, opHash)
    const pending = await call<PendingOperationsJson>(`${base}/chains/main/mempool/pending_operations`)
    assert.deepEqual(pending.json.validated.map(o => o.hash), [opHash])
    assert.equal(pending.json.validated[0].contents.amount, '5')
    const baked = await node.bake()
    assert.equal(baked.operations, 1)
    const ops = await call<OperationJson[][]>(`${base}/chains/main/blocks/head/operations`)
    assert.deepEqual(ops.json.map(pass => pass.map(o => o.hash)), [[opHash]])
    assert.deepEqual((await call(`${base}/chains/main/blocks/head/operation_hashes`)).json, [[opHash]])
    assert.deepEqual((await call<PendingOperationsJson>(`${base}/chains/main/mempool/pending_operations`)).json.validated, [])
  })

  it('serves the demo accounts at the head (Octez contracts RPC): balance and counter after the transfer', async () => {
    const [from, to] = setup.accounts.map(a => encodePublicKeyHash(a.publicKeyHash))
    const account = await call(`${base}/chains/main/blocks/head/context/contracts/${from}`)
    assert.equal(account.status, 200)
    assert.deepEqual(account.json, { balance: String(1_000_000_000_000n - 5n), counter: '1' })
    assert.equal((await call(`${base}/chains/main/blocks/head/context/contracts/${to}/balance`)).json, String(1_000_000_000_000n + 5n))
    assert.equal((await call(`${base}/chains/main/blocks/head/context/contracts/${to}/counter`)).json, '0')
    assert.equal((await call(`${base}/chains/main/blocks/head/context/contracts/tz1nope`)).status, 400)
    const stranger = encodePublicKeyHash(new Uint8Array(20).fill(9))
    assert.equal((await call(`${base}/chains/main/blocks/head/context/contracts/${stranger}`)).status, 404)
    const old = await call<RpcErrorBody>(`${base}/chains/main/blocks/head~1/context/contracts/${from}`)
    assert.equal(old.status, 400)
    assert.match(old.json.error, /only the head's state is kept/)
  })

  it('refuses bad injections with 400 and a message: not a string, not hex, not an operation, an invalid transfer', async () => {
    const notString = await post<RpcErrorBody>(`${base}/injection/operation`, JSON.stringify({ hex: 'ab' }))
    assert.equal(notString.status, 400)
    assert.match(notString.json.error, /the body must be a JSON string holding the operation in hex/)
    const notHex = await post<RpcErrorBody>(`${base}/injection/operation`, JSON.stringify('zzzz'))
    assert.equal(notHex.status, 400)
    assert.match(notHex.json.error, /^the operation must be its bytes in hex: not hexadecimal: "z" at character 1 /)
    const oddHex = await post<RpcErrorBody>(`${base}/injection/operation`, JSON.stringify('abc'))
    assert.equal(oddHex.status, 400)
    assert.match(oddHex.json.error, /^the operation must be its bytes in hex: an odd number of hexadecimal digits \(3\)/)
    const short = await post<RpcErrorBody>(`${base}/injection/operation`, JSON.stringify('abcd'))
    assert.equal(short.status, 400)
    assert.match(short.json.error, /^not an operation: /)
    const notJson = await post(`${base}/injection/operation`, '{')
    assert.equal(notJson.status, 400)
    // Counter 1 was used by the previous test: the protocol refuses it.
    const replay = transfer(1n)
    const refused = await post<RpcErrorBody>(`${base}/injection/operation`, JSON.stringify(toHex(encode(operationCodec, replay))))
    assert.equal(refused.status, 400)
    assert.match(refused.json.error, /refused \(invalid\)/)
  })

  it('streams one JSON head per line on /monitor/heads until the client closes', async () => {
    const abort = new AbortController()
    const response = await fetch(`${base}/monitor/heads`, { signal: abort.signal })
    assert.equal(response.status, 200)
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buffered = ''
    const nextLine = async (): Promise<MonitorHeadJson> => {
      for (;;) {
        const nl = buffered.indexOf('\n')
        if (nl >= 0) {
          const line = buffered.slice(0, nl)
          buffered = buffered.slice(nl + 1)
          return JSON.parse(line) as MonitorHeadJson
        }
        const { value, done } = await reader.read()
        if (done) throw new Error('stream ended')
        buffered += value
      }
    }
    const first = await nextLine()
    assert.equal(first.hash, b58Encode('blockHash', node.head()!.hash))
    const baked = await node.bake()
    const second = await nextLine()
    assert.equal(second.hash, baked.hash)
    assert.equal(second.level, first.level + 1)
    assert.equal(second.predecessor, first.hash)
    abort.abort()
    await reader.cancel().catch(() => {})
  })

  it('exports the chain\'s metrics: head level and timestamp, bootstrapped, mempool, blocks applied', async () => {
    const text = await (await fetch(`${base}/metrics`)).text()
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    const head = node.head()!
    assert.equal(value('tzp2p_head_level'), head.header.shell.level)
    assert.equal(value('tzp2p_head_timestamp_seconds'), Number(head.header.shell.timestamp))
    assert.equal(value('tzp2p_mempool_operations'), node.mempool!.size)
    // The RPC (and its metrics) started at genesis: every block since joined the chain.
    assert.equal(value('tzp2p_blocks_applied_total'), head.header.shell.level)
    assert.equal(value('tzp2p_bootstrapped'), node.isBootstrapped() ? 1 : 0)
  })

  it('/health/ready: 503 with status "not-ready" and why while not bootstrapped; /health stays "ok" with 200', async () => {
    // Synchronisation threshold 4 (the default) and no peer: this node cannot be bootstrapped.
    assert.equal(node.isBootstrapped(), false)
    // A 503 from /health/ready always says why (src/rpc/metrics-routes.ts).
    const ready = await call<HealthJson & { reason: string }>(`${base}/health/ready`)
    assert.equal(ready.status, 503)
    assert.equal(ready.json.status, 'not-ready')
    assert.equal(ready.json.bootstrapped, false)
    assert.match(ready.json.reason, /^not bootstrapped yet \(0 peers connected\): ready once enough peers/)
    const health = await call<HealthJson>(`${base}/health`)
    assert.equal(health.status, 200)
    assert.equal(health.json.status, 'ok')
    assert.equal(health.json.reason, undefined)
  })

  it('answers the chain RPCs with 503 on a node without a chain', async () => {
    const bare = await startNode()
    const bareRpc = await startRpcServer({ node: bare, listen: [{ host: '127.0.0.1', port: 0 }] })
    try {
      const r = await call<RpcErrorBody>(`${bareRpc.urls[0]}/chains/main/blocks/head`)
      assert.equal(r.status, 503)
      assert.match(r.json.error, /runs no chain/)
      assert.equal((await call<HealthJson>(`${bareRpc.urls[0]}/health`)).json.bootstrapped, null)
      // No chain, nothing to wait for: ready.
      const ready = await call<HealthJson>(`${bareRpc.urls[0]}/health/ready`)
      assert.deepEqual([ready.status, ready.json.status], [200, 'ok'])
    } finally {
      await bareRpc.close()
      await stopAll(bare)
    }
  })
})
