import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { b58Encode } from '../../src/crypto/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import { Child } from '../rpc/child.ts'
import { getJson } from '../rpc/rpc-json.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'
import { assertDepositsAsModelled, type DelegateJson } from './deposits-model.ts'

const FREE_PORTS = ['--base-p2p-port', '0', '--base-rpc-port', '0']
const BAKERS = 3
const pkhOf = (i: number): string => b58Encode('ed25519PublicKeyHash', devnetAccountKeypairs()[i].publicKeyHash)

describe('double endorsement on a devnet of delegates (demo v3)', () => {
  it(`devnet up --bakers ${BAKERS} --equivocate 1 --double-endorse 2: node 2's endorser signs both blocks of a level, another node injects the evidence from what gossip brought, and the deposits taken and rewards paid are the protocol's`, async () => {
    await withTempDir('devnet-double-endorsement', async dir => {
      const up = Child.tzp2p(['devnet', 'up', '--nodes', String(BAKERS), '--bakers', String(BAKERS), '--equivocate', '1', '--double-endorse', '2', '--dir', dir, '--detach', ...FREE_PORTS])
      try {
        assert.equal((await up.exited).code, 0, up.stderr)
        const state = JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState
        const rpc = state.nodes[0].rpc
        const offender = pkhOf(2)

        // The double endorser (node 2) is denounced on the chain, as seen from node 0.
        const denounced = await waitFor(async () => {
          const view = await getJson<DelegateJson>(`${rpc}/chains/main/blocks/head/context/delegates/${offender}`)
          return view.denounced.find(d => d.kind === 'double_endorsement' && BigInt(d.deposit_taken) > 0n)
        }, { what: 'node 2\'s double endorsement denounced, with a deposit taken', timeoutMs: 300_000, intervalMs: 1000, retryOnError: true })
        assert.notEqual(denounced.reporter, null)

        // Double endorsement evidence through the CLI, from operation hashes the RPC serves: one
        // endorsement of a block given twice is refused with the node's reason, on one line.
        const endorsement = await waitFor(async () => (await getJson<Array<{ hash: string }>>(`${rpc}/chains/main/blocks/head/operations/0`))[0]?.hash,
          { what: 'an endorsement in the head block', timeoutMs: 60_000, intervalMs: 500, retryOnError: true })
        const twice = Child.tzp2p(['devnet', 'operation', 'double-endorsement-evidence', '--operation', endorsement, '--operation', endorsement, '--node', '0', '--dir', dir])
        assert.equal((await twice.exited).code, 1, twice.stdout)
        assert.match(twice.stderr, /refused \(invalid\): not_equivocation: both endorsements endorse the same block$/m)
        assert.equal(twice.stderr.trim().split('\n').length, 1, twice.stderr)

        // Caught by a node other than the offender's, from the endorsements its mempool admitted.
        const accusers = await Promise.all(state.nodes.map(async n => (await readFile(n.logFile, 'utf8')).includes('double endorsement seen: evidence injected')))
        assert.ok(accusers.some((a, i) => a && i !== 2), `accusers: ${accusers.join(',')}`)
        assert.equal(accusers[2], false, 'the offender does not denounce itself')

        // Every delegate's deposits and every denunciation (node 1's double baking too) as the
        // protocol's rules give them from the blocks: the deposit of the offence's cycle taken, half
        // of it paid to the baker that included the evidence.
        const delegates = Array.from({ length: BAKERS }, (_, i) => pkhOf(i))
        const { model, head } = await assertDepositsAsModelled(rpc, delegates)
        const modelled = model.denouncedAt(offender, head).find(d => d.level === denounced.level && d.kind === 'double_endorsement')
        assert.deepEqual(modelled, denounced)
        assert.equal(BigInt(denounced.reward), BigInt(denounced.deposit_taken) / 2n)
        // Each field of the view is also served alone (as Octez's delegate_services.ml), asked of one head by its hash.
        await waitFor(async () => {
          const at = `${rpc}/chains/main/blocks/${await getJson<string>(`${rpc}/chains/main/blocks/head/hash`)}/context/delegates/${offender}`
          const whole = await getJson<Record<string, unknown>>(at)
          for (const field of ['balance', 'staking_balance', 'frozen_balance', 'frozen_balance_by_cycle']) assert.deepEqual(await getJson<unknown>(`${at}/${field}`), whole[field], field)
          return true
        }, { what: 'the delegate view\'s fields one by one at one head', timeoutMs: 60_000, intervalMs: 200, retryOnError: true })
        // Node 0 sees the same on the other nodes.
        for (const n of state.nodes.slice(1)) {
          await waitFor(async () => (await getJson<DelegateJson>(`${n.rpc}/chains/main/blocks/head/context/delegates/${offender}`)).denounced.some(d => d.level === denounced.level && d.deposit_taken === denounced.deposit_taken),
            { what: `the denunciation on ${n.name}`, timeoutMs: 60_000, intervalMs: 500, retryOnError: true })
        }
      } finally {
        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        await down.exited
      }
    })
  })
})
