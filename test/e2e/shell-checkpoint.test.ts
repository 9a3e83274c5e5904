import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEVNET_GENESIS_TIMESTAMP, devnetGenesisBlock } from '../../src/config/presets.ts'
import { DEFAULT_CHAIN_NAME } from '../../src/node/options.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import { b58Decode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { Child } from '../rpc/child.ts'
import { requestJson, type BlockJson, type JsonAnswer, type HeaderJson, type PendingOperationsJson } from '../rpc/rpc-json.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * `--protocol shell --checkpoint`, end to end with real `tzp2p run` processes on loopback: a demo
 * node bakes; a shell node on the same network (its genesis protocol named in a custom `network`
 * object: the demo's hash) starts from the hash of block k, follows the chain from k to the head
 * and on as blocks are baked, relays operations it does not validate, holds nothing below k, and
 * keeps its checkpoint across a restart.
 */

const LOOPBACK = ['--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:0', '--expected-pow', '0']
const CHECKPOINT_LEVEL = 5

/** GET with any status; the body parsed (an error answer's `{ error }` on a 404). */
async function get (url: string): Promise<JsonAnswer<unknown>> {
  return await requestJson<unknown>(url)
}

async function getOk<T> (url: string): Promise<T> {
  const r = await requestJson<T>(url)
  assert.equal(r.status, 200, `${url}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/** Waits until `check` returns something; errors (an RPC not yet up) mean not yet. */
async function until<T> (what: string, check: () => Promise<T | undefined>): Promise<T> {
  return await waitFor(check, { what, timeoutMs: 90_000, intervalMs: 100, retryOnError: true })
}

async function startRun (args: string[]): Promise<{ child: Child, rpc: string, addresses: string[] }> {
  const child = Child.tzp2p(['run', ...args])
  try {
    const running = await child.nodeRunning()
    return { child, rpc: running.rpc[0], addresses: running.addresses }
  } catch (e) {
    child.kill()
    throw e
  }
}

async function stop (child: Child): Promise<void> {
  child.kill('SIGTERM')
  const exit = await child.exited
  assert.equal(exit.code, 0, child.stderr)
}

const headLevel = async (rpc: string): Promise<number> => (await getOk<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)).level

describe('a shell node started from a checkpoint (real child processes)', () => {
  it('follows a demo chain from block k to the head and on, holds nothing below k, and keeps its checkpoint', async () => {
    const dir = await tempDir('e2e-shell')
    const children: Child[] = []
    try {
      // The baker: the devnet's demo protocol with Tezos's 4 validation passes.
      const bakerConfig = join(dir, 'baker.json')
      await writeFile(bakerConfig, JSON.stringify({ protocol: { name: 'demo', parameters: { 'validation-passes': 4 } } }))
      const baker = await startRun(['--data-dir', join(dir, 'baker'), '--config-file', bakerConfig, ...LOOPBACK, '--baker', '--bake-interval', '0.3'])
      children.push(baker.child)
      await until('the baker reaches the checkpoint level + 3', async () => await headLevel(baker.rpc) >= CHECKPOINT_LEVEL + 3 ? true : undefined)
      const checkpoint = await getOk<HeaderJson>(`${baker.rpc}/chains/main/blocks/${CHECKPOINT_LEVEL}/header`)
      const demoHash = checkpoint.protocol

      // The shell node: a custom network naming the demo's hash as genesis protocol.
      const shellConfig = join(dir, 'shell.json')
      await writeFile(shellConfig, JSON.stringify({
        network: { chain_name: DEFAULT_CHAIN_NAME, genesis: { block: devnetGenesisBlock(), timestamp: DEVNET_GENESIS_TIMESTAMP, protocol: demoHash } },
        protocol: { name: 'shell' }
      }))
      const shellArgs = ['--data-dir', join(dir, 'shell'), '--config-file', shellConfig, ...LOOPBACK, '--protocol', 'shell', '--peer', baker.addresses[0], '--checkpoint', checkpoint.hash]
      let shell = await startRun(shellArgs)
      children.push(shell.child)

      // It catches up with the baker's head, then keeps following new blocks.
      const caughtUp = await until('the shell node reaches the baker\'s head', async () => {
        const target = await headLevel(baker.rpc)
        return await headLevel(shell.rpc) >= target ? target : undefined
      })
      await until('the shell node follows newly baked blocks', async () => await headLevel(shell.rpc) >= caughtUp + 3 ? true : undefined)
      let level = await headLevel(shell.rpc)
      assert.equal((await getOk<HeaderJson>(`${shell.rpc}/chains/main/blocks/${level}/header`)).hash, (await getOk<HeaderJson>(`${baker.rpc}/chains/main/blocks/${level}/header`)).hash)
      for (let l = CHECKPOINT_LEVEL; l <= level; l++) {
        const block = await getOk<BlockJson>(`${shell.rpc}/chains/main/blocks/${l}`)
        assert.equal(block.hash, (await getOk<string>(`${baker.rpc}/chains/main/blocks/${l}/hash`)), `level ${l}`)
        assert.equal(block.operations.length, 4)
      }
      assert.equal((await getOk<string>(`${shell.rpc}/chains/main/blocks/${CHECKPOINT_LEVEL}/hash`)), checkpoint.hash)

      // Operations are relayed unvalidated: a valid transfer injected here reaches the baker and a
      // block; one the demo protocol refuses (bad signature) stays here, listed as not validated.
      const branch = b58Decode('blockHash', await getOk<string>(`${shell.rpc}/chains/main/blocks/head/hash`))
      const [alice, bob] = devnetAccountKeypairs()
      const transfer = (amount: bigint, corrupt: boolean): string => {
        const data = signTransfer(branch, { publicKey: alice.publicKey, destination: bob.publicKeyHash, amount, fee: 0n, counter: 1n }, alice.secretKey)
        if (corrupt) data[data.length - 1] ^= 1
        return toHex(encode(operationCodec, { branch, data }))
      }
      const inject = async (hex: string): Promise<string> => {
        const r = await fetch(`${shell.rpc}/injection/operation`, { method: 'POST', body: JSON.stringify(hex), headers: { 'content-type': 'application/json' } })
        assert.equal(r.status, 200, await r.clone().text())
        return await r.json() as string
      }
      const forged = await inject(transfer(5n, true))
      const valid = await inject(transfer(7n, false))
      const included = async (rpc: string): Promise<true | undefined> => {
        const head = await headLevel(rpc)
        for (let l = head; l > head - 20 && l >= CHECKPOINT_LEVEL; l--) {
          if ((await getOk<string[][]>(`${rpc}/chains/main/blocks/${l}/operation_hashes`)).flat().includes(valid)) return true
        }
        return undefined
      }
      await until('the baker includes the transfer relayed by the shell node', async () => await included(baker.rpc))
      await until('the shell node follows the block including it', async () => await included(shell.rpc))
      const pending = await getOk<PendingOperationsJson>(`${shell.rpc}/chains/main/mempool/pending_operations`)
      assert.deepEqual(pending.validated, [])
      const listed = pending.unprocessed?.find(o => o.hash === forged)
      assert.equal(listed?.validated, false, JSON.stringify(pending))
      assert.ok(!(await getOk<PendingOperationsJson>(`${baker.rpc}/chains/main/mempool/pending_operations`)).validated.some(o => o.hash === forged))

      level = await headLevel(shell.rpc)

      // Nothing below the checkpoint (genesis aside): 404 with a one-line reason.
      for (let l = 1; l < CHECKPOINT_LEVEL; l++) {
        const r = await get(`${shell.rpc}/chains/main/blocks/${l}/header`)
        assert.equal(r.status, 404, `level ${l}`)
        assert.match(JSON.stringify(r.body), new RegExp(`level ${l} is below the checkpoint this node started from \\(${checkpoint.hash} at level ${CHECKPOINT_LEVEL}\\)`))
      }
      assert.equal((await get(`${shell.rpc}/chains/main/blocks/head~${level - 1}`)).status, 404)
      assert.equal((await get(`${shell.rpc}/chains/main/blocks/${await getOk<string>(`${baker.rpc}/chains/main/blocks/1/hash`)}`)).status, 404)
      assert.equal((await getOk<HeaderJson>(`${shell.rpc}/chains/main/blocks/genesis/header`)).level, 0)
      assert.ok(shell.child.jsonLines().some(l => l.msg === 'chain started from the checkpoint' && l.level === CHECKPOINT_LEVEL))

      // Restarted on its store with the same checkpoint: it resumes from its head.
      await stop(shell.child)
      shell = await startRun(shellArgs)
      children.push(shell.child)
      assert.ok(await headLevel(shell.rpc) >= level)
      assert.equal((await get(`${shell.rpc}/chains/main/blocks/${CHECKPOINT_LEVEL - 1}/header`)).status, 404)
      assert.ok(!shell.child.jsonLines().some(l => l.msg === 'fetching the checkpoint block from peers'))
      assert.equal((await getOk<string>(`${shell.rpc}/chains/main/blocks/${CHECKPOINT_LEVEL}/hash`)), checkpoint.hash)
      // (Following on after the restart waits for the peer layer's reconnection delay to the baker: not waited for here.)
      await stop(shell.child)

      // Another checkpoint on that store: one clear line, exit 1.
      const other = await getOk<string>(`${baker.rpc}/chains/main/blocks/${CHECKPOINT_LEVEL + 1}/hash`)
      const refused = Child.tzp2p(['run', ...shellArgs.slice(0, -1), other])
      children.push(refused)
      const exit = await refused.exited
      assert.equal(exit.code, 1, refused.stderr)
      assert.match(refused.stderr, new RegExp(`--checkpoint ${other} differs from the store, which started from checkpoint ${checkpoint.hash} at level ${CHECKPOINT_LEVEL}`))
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
    } finally {
      for (const c of children) c.kill()
      await Promise.all(children.map(async c => await c.exited))
      await removeDir(dir)
    }
  })
})
