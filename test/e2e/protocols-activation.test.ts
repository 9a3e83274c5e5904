import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { b58Decode, b58Encode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { demoSetup } from '../helpers/demo-chain.ts'
import { DEMO_V2_TRANSFER_CHARGE, signTransfer } from '../../src/protocol/demo/index.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { ChildNode, removeAll, stopAll } from './chain-harness.ts'
import type { ChildConfig } from './chain-child.ts'
import { waitFor } from '../helpers/wait.ts'
import { requestJson, type BlockJson, type HeaderJson, type ProtocolJson, type ProtocolLevelJson } from '../rpc/rpc-json.ts'
import { tempDir } from '../helpers/temp-dir.ts'

/**
 * Protocol activation with real processes on loopback: a baker and two peers run demo v1, the
 * baker's block 20 activates demo v2, and blocks after it are applied with v2's rule (every
 * transfer pays the baker a fixed charge) on every node; a node joining later bootstraps across
 * the switch; a node without v2 stops at level 20, says why on its RPC, and blames nobody.
 */
const CHAIN = 'protocols-e2e'
const ACTIVATION = 20
const setup = demoSetup({ name: CHAIN, accounts: 4, validationPasses: 1, verifyWorkers: 0 })

function config (dataDir: string, extra: Partial<ChildConfig>): ChildConfig {
  // Blocks are baked on command, faster than one a second: timestamps may run ahead of the clock.
  return { dataDir, chain: CHAIN, accounts: 4, validationPasses: 1, installV2: true, rpc: true, maxClockDrift: 3600, ...extra }
}

/** Transfer of `amount` (fee 0) from account `from` to account 3, branched on `branchHex`. */
function transferHex (branchHex: string, from: number, counter: bigint, amount: bigint): string {
  const branch = Uint8Array.from(Buffer.from(branchHex, 'hex'))
  const a = setup.accounts[from]
  const data = signTransfer(branch, { publicKey: a.publicKey, destination: setup.accounts[3].publicKeyHash, amount, fee: 0n, counter }, a.secretKey)
  return toHex(encode(operationCodec, { branch, data }))
}

describe('protocol activation across processes', () => {
  it('3 nodes switch to demo v2 at level 20; a late node bootstraps across it; a node without v2 stays at 20', async () => {
    const dirs: string[] = []
    const nodes: ChildNode[] = []
    const start = async (name: string, extra: Partial<ChildConfig>): Promise<ChildNode> => {
      const dir = await tempDir(name)
      dirs.push(dir)
      const n = await ChildNode.start(name, config(dir, extra))
      nodes.push(n)
      return n
    }
    try {
      const baker = await start('baker', { baker: true, activateV2At: ACTIVATION, synchronisationThreshold: 0 })
      const b = await start('b', {})
      const c = await start('c', {})
      await b.call({ cmd: 'trust', address: baker.address }, 'dialled')
      await c.call({ cmd: 'trust', address: baker.address }, 'dialled')
      await c.call({ cmd: 'trust', address: b.address }, 'dialled')

      for (let i = 1; i < ACTIVATION; i++) await baker.call({ cmd: 'bake' }, 'baked')
      // A transfer before the switch: v1 charges nothing.
      const d19 = await baker.dump()
      await baker.call({ cmd: 'inject', hex: transferHex(d19.head as string, 0, 1n, 5n) }, 'injected')
      const activating = await baker.call({ cmd: 'bake' }, 'baked')
      assert.equal(activating.level, ACTIVATION)
      assert.equal(activating.operations, 1)
      await b.headAt(ACTIVATION)
      await c.headAt(ACTIVATION)

      // After the switch: a transfer injected at b travels to the baker and is baked under v2.
      const d20 = await b.dump()
      assert.equal(d20.proto, 1)
      assert.equal(d20.protocol, d20.v2, 'the next block runs v2')
      const injected = await b.call({ cmd: 'inject', hex: transferHex(d20.head as string, 1, 1n, 7n) }, 'injected')
      // The baker may bake only once this very operation is in its mempool (its own transfer at
      // level 19 raised an `operation` event too: any `operation` is not enough).
      await baker.waitFor(e => e.event === 'operation' && e.hash === injected.hash)
      const first = await baker.call({ cmd: 'bake' }, 'baked')
      assert.equal(first.level, ACTIVATION + 1)
      assert.equal(first.operations, 1)
      for (const n of [b, c]) await n.headAt(ACTIVATION + 1)
      // One block at a time, as a devnet bakes them: every node takes each head as it is announced.
      for (let i = 0; i < 4; i++) {
        const baked = await baker.call({ cmd: 'bake' }, 'baked')
        for (const n of [b, c]) await n.headAt(baked.level as number)
      }
      const top = ACTIVATION + 5
      const dumps = await Promise.all([baker, b, c].map(async n => await n.dump()))
      for (const d of dumps) {
        assert.equal(d.level, top)
        assert.equal(d.head, dumps[0].head)
        assert.equal(d.proto, 2)
        // Only v2's rule credits the baker (the transfers carry no fee).
        assert.equal(d.bakerBalance, DEMO_V2_TRANSFER_CHARGE.toString())
        assert.equal((d.accounts as Array<{ balance: string }>)[1].balance, (1_000_000_000_000n - 7n - DEMO_V2_TRANSFER_CHARGE).toString())
        assert.equal((d.accounts as Array<{ balance: string }>)[0].balance, (1_000_000_000_000n - 5n).toString())
        assert.deepEqual((d.protocolLevels as Array<{ protoLevel: number, firstLevel: number }>).map(l => [l.protoLevel, l.firstLevel]), [[1, 1], [2, ACTIVATION + 1]])
      }
      const levels = await requestJson<ProtocolLevelJson[]>(`${b.ready.rpc as string}/chains/main/protocols`)
      assert.equal(levels.status, 200)
      assert.deepEqual(levels.body.map(l => [l.proto_level, l.protocol, l.installed, l.state, l.activation_block[1]]), [
        [1, setup.protocol.hash, true, 'past', 0],
        [2, d20.v2, true, 'active', ACTIVATION]
      ])
      const block21 = await requestJson<BlockJson>(`${c.ready.rpc as string}/chains/main/blocks/${ACTIVATION + 1}`)
      assert.equal(block21.body.protocol, d20.v2)
      assert.equal(block21.body.header.proto, 2)
      const block20 = await requestJson<BlockJson>(`${c.ready.rpc as string}/chains/main/blocks/${ACTIVATION}`)
      assert.equal(block20.body.protocol, setup.protocol.hash)
      assert.equal(block20.body.metadata.protocol_data.next_protocol, d20.v2)

      // A node joining now bootstraps the whole chain, applying each block with its own protocol.
      const late = await start('late', {})
      await late.call({ cmd: 'trust', address: b.address }, 'dialled')
      await late.call({ cmd: 'trust', address: c.address }, 'dialled')
      await late.headAt(top)
      const lateDump = await late.dump()
      assert.equal(lateDump.head, dumps[0].head)
      assert.deepEqual(lateDump.hashes, dumps[0].hashes)
      assert.equal(lateDump.bakerBalance, DEMO_V2_TRANSFER_CHARGE.toString())

      // A node without v2: it applies up to the activating block, then stops and says why.
      const old = await start('old', { installV2: false, logLevel: 'warn' })
      await old.call({ cmd: 'trust', address: b.address }, 'dialled')
      await old.call({ cmd: 'trust', address: c.address }, 'dialled')
      await old.headAt(ACTIVATION)
      // New heads keep coming; it must keep ignoring them.
      await baker.call({ cmd: 'bake' }, 'baked')
      await b.headAt(top + 1)
      const state = await waitFor(async () => {
        const r = await requestJson<ProtocolJson>(`${old.ready.rpc as string}/protocols/${d20.v2 as string}`)
        return r.status === 200 && r.body.missing?.state === 'not-installed' ? r.body : undefined
      }, { what: 'the missing protocol to be reported not-installed', timeoutMs: 60_000, intervalMs: 200, retryOnError: true })
      assert.equal(state.installed, false)
      assert.deepEqual({ name: state.manifest?.name, version: state.manifest?.version }, { name: 'demo', version: 2 })
      assert.equal(state.missing?.first_level, ACTIVATION + 1)
      assert.equal(state.missing?.proto_level, 2)
      assert.equal(state.expected_env_version, 0)
      const oldLevels = await requestJson<ProtocolLevelJson[]>(`${old.ready.rpc as string}/chains/main/protocols`)
      assert.deepEqual(oldLevels.body.map(l => [l.proto_level, l.installed, l.state]), [[1, true, 'past'], [2, false, 'not-installed']])
      const unknown = await requestJson<unknown>(`${old.ready.rpc as string}/protocols/${b58Encode('protocolHash', new Uint8Array(32))}`)
      assert.equal(unknown.status, 404)
      const oldDump = await old.dump()
      assert.equal(oldDump.level, ACTIVATION)
      assert.equal(oldDump.head, (dumps[0].hashes as string[])[ACTIVATION])
      assert.deepEqual(oldDump.greylisted, [])
      assert.equal(old.events.filter(e => e.event === 'penalized').length, 0)
      const head = await requestJson<HeaderJson>(`${old.ready.rpc as string}/chains/main/blocks/head/header`)
      assert.equal(head.body.level, ACTIVATION)
      assert.match(old.stderrTail, /unknown protocol P\w{50} at level 21: not installed; branch not followed/)
      // Its honest peers did not get penalised for the blocks it could not follow, nor did they penalise it.
      for (const n of [baker, b, c]) {
        assert.deepEqual(n.events.filter(e => e.event === 'penalized'), [], `${n.name} penalised someone`)
        assert.deepEqual((await n.dump()).greylisted, [])
      }
      assert.equal(b58Decode('protocolHash', d20.v2 as string).length, 32)

      // Restarted, it knows from its store where it stopped, says so, and asks its peers again.
      await old.stop()
      const again = await ChildNode.start('old-again', old.config)
      nodes.push(again)
      assert.equal(again.ready.level, ACTIVATION)
      assert.match(again.stderrTail, /unknown protocol P\w{50} at level 21: not installed; branch not followed/)
      await again.call({ cmd: 'trust', address: b.address }, 'dialled')
      await waitFor(async () => {
        const r = await requestJson<ProtocolJson>(`${again.ready.rpc as string}/protocols/${d20.v2 as string}`)
        return r.body.missing?.state === 'not-installed' && r.body.manifest?.version === 2
      }, { what: 'the restarted node to fetch the manifest again', timeoutMs: 60_000, intervalMs: 200, retryOnError: true })
      assert.equal((await again.dump()).level, ACTIVATION)
    } finally {
      await stopAll(nodes)
      await removeAll(dirs)
    }
  })
})
