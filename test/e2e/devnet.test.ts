import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { b58Decode, b58Encode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { isAlive } from '../../src/runtime/devnet/processes.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import { operationCodec, operationHash } from '../../src/wire/operation.ts'
import { Child, ROOT } from '../rpc/child.ts'
import { getJson, type HeaderJson, type OperationJson } from '../rpc/rpc-json.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

const DEVNET_SCRIPT = join(ROOT, 'scripts/devnet.ts')
/** Any free ports: tests must not depend on which ports this machine has free. */
const FREE_PORTS = ['--base-p2p-port', '0', '--base-rpc-port', '0']

const readState = async (dir: string): Promise<DevnetState> => JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState

/** A transfer of `amount` from devnet account 0 to account 1 (its first: counter 1), branched on `branch`. */
function firstTransfer (branchB58: string, amount: bigint): { hex: string, hash: string } {
  const [from, to] = devnetAccountKeypairs()
  const branch = b58Decode('blockHash', branchB58)
  const data = signTransfer(branch, { publicKey: from.publicKey, destination: to.publicKeyHash, amount, fee: 0n, counter: 1n }, from.secretKey)
  const op = { branch, data }
  return { hex: toHex(encode(operationCodec, op)), hash: b58Encode('operationHash', operationHash(op)) }
}

describe('devnet', () => {
  it('npm run devnet -- --nodes 5: an operation injected on one node is in a block on every node; status; down', async () => {
    await withTempDir('devnet', async dir => {
      const up = new Child([DEVNET_SCRIPT, '--nodes', '5', '--dir', dir, '--bake-interval', '1', ...FREE_PORTS])
      try {
        await up.waitFor(c => c.stdout.includes('devnet up: Ctrl-C stops every node') ? true : undefined, 'the devnet to be up', 120_000)
        const state = await readState(dir)
        assert.equal(state.nodes.length, 5)
        assert.deepEqual(state.nodes.map(n => n.baker), [true, false, false, false, false])
        for (const n of state.nodes) assert.ok(up.stdout.includes(n.rpc), `${n.name}'s RPC URL is printed`)
        assert.match(up.stdout, /^node +pid +rpc +p2p +level +head +peers +bootstrapped/m)

        // Inject on the last node: it reaches the baker only through gossip.
        const entry = state.nodes[4].rpc
        const branch = await getJson<string>(`${entry}/chains/main/blocks/head/hash`)
        const op = firstTransfer(branch, 1234n)
        const injected = await fetch(`${entry}/injection/operation`, { method: 'POST', body: JSON.stringify(op.hex), headers: { 'content-type': 'application/json' } })
        assert.equal(injected.status, 200, await injected.clone().text())
        assert.equal(await injected.json(), op.hash)

        // The baker includes it in a block; find that block on node0.
        const baker = state.nodes[0].rpc
        const included = await waitFor(async () => {
          const head = await getJson<HeaderJson>(`${baker}/chains/main/blocks/head/header`)
          for (let level = head.level; level >= 1; level--) {
            const hashes = await getJson<string[][]>(`${baker}/chains/main/blocks/${level}/operation_hashes`)
            if (hashes.flat().includes(op.hash)) return { level, hash: await getJson<string>(`${baker}/chains/main/blocks/${level}/hash`) }
          }
          return undefined
        }, { what: 'the operation in a block on the baker', timeoutMs: 60_000, intervalMs: 200, retryOnError: true })
        // Every node has that very block, with the operation in it.
        for (const n of state.nodes) {
          await waitFor(async () => (await getJson<string>(`${n.rpc}/chains/main/blocks/${included.level}/hash`)) === included.hash,
            { what: `block ${included.level} on ${n.name}`, timeoutMs: 60_000, intervalMs: 200, retryOnError: true })
          const ops = await getJson<OperationJson[][]>(`${n.rpc}/chains/main/blocks/${included.hash}/operations`)
          const found = ops.flat().find(o => o.hash === op.hash)
          assert.equal(found?.contents.amount, '1234', n.name)
        }

        const status = Child.tzp2p(['devnet', 'status', '--dir', dir])
        assert.equal((await status.exited).code, 0, status.stderr)
        const rows = status.stdout.trim().split('\n')
        assert.equal(rows.length, 6)
        for (const [i, row] of rows.slice(1).entries()) {
          assert.match(row, new RegExp(`^node${i} +${state.nodes[i].pid} +${state.nodes[i].rpc.replace(/\./g, '\\.')} `))
          const level = Number(row.split(/ +/)[4])
          assert.ok(level >= included.level, row)
        }

        // The CLI's transfer between well-known accounts: the next counter of account 2, through node 4, waited for.
        const transfer = Child.tzp2p(['devnet', 'transfer', '--dir', dir, '--from', '2', '--to', '3', '--amount', '10', '--wait'])
        assert.equal((await transfer.exited).code, 0, transfer.stderr)
        assert.match(transfer.stdout, /^injected o\w+ through node4: 10 from account 2 \(tz1\w+\) to account 3 \(tz1\w+\), counter 1$/m)
        assert.match(transfer.stdout, /^included in block \d+ B\w+$/m)
        const accounts = Child.tzp2p(['devnet', 'accounts', '--dir', dir, '--node', '0'])
        assert.equal((await accounts.exited).code, 0, accounts.stderr)
        const lines = accounts.stdout.trim().split('\n')
        assert.equal(lines.length, 8)
        assert.match(lines[0], /^0 {2}tz1\w+ {2}balance 999999998766 {2}counter 1$/)
        assert.match(lines[2], /^2 {2}tz1\w+ {2}balance 999999999990 {2}counter 1$/)

        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        assert.equal((await down.exited).code, 0, down.stderr)
        assert.deepEqual(down.stdout.trim().split('\n').sort(), state.nodes.map(n => `${n.name}: stopped`).sort())
        // The foreground `up` sees its nodes go and returns.
        assert.deepEqual(await up.exited, { code: 0, signal: null }, up.stderr)
        assert.match(up.stdout, /devnet stopped/)
        assert.equal(existsSync(join(dir, 'devnet.json')), false)
        for (const n of state.nodes) assert.equal(await isAlive(n.pid), false, n.name)
        // Each node shut down cleanly.
        for (const n of state.nodes) assert.match(await readFile(n.logFile, 'utf8'), /"msg":"node stopped cleanly"/, n.name)
      } finally {
        if (up.running) {
          Child.tzp2p(['devnet', 'down', '--dir', dir])
          up.kill('SIGINT')
          await up.exited
        }
      }
    })
  })

  it('tzp2p devnet up --detach returns, refuses a second devnet in the same dir, and down stops it', async () => {
    await withTempDir('devnet', async dir => {
      const up = Child.tzp2p(['devnet', 'up', '--nodes', '2', '--dir', dir, '--detach', ...FREE_PORTS])
      try {
        assert.equal((await up.exited).code, 0, up.stderr)
        assert.match(up.stdout, /devnet up \(detached\)/)
        const state = await readState(dir)
        for (const n of state.nodes) assert.equal(await isAlive(n.pid), true)
        const again = Child.tzp2p(['devnet', 'up', '--nodes', '2', '--dir', dir, '--detach', ...FREE_PORTS])
        assert.equal((await again.exited).code, 1)
        assert.match(again.stderr, /^tzp2p: a devnet already runs in .*: see `tzp2p devnet status/m)
      } finally {
        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        assert.equal((await down.exited).code, 0, down.stderr)
      }
      assert.equal(existsSync(join(dir, 'devnet.json')), false)
      const none = Child.tzp2p(['devnet', 'status', '--dir', dir])
      assert.equal((await none.exited).code, 1)
      assert.match(none.stderr, /no devnet runs in/)
    })
  })
})
