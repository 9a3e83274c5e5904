import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { b58Encode } from '../../src/crypto/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import { Child } from '../rpc/child.ts'
import { getJson, type HeaderJson } from '../rpc/rpc-json.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/** Any free ports: tests must not depend on which ports this machine has free. */
const FREE_PORTS = ['--base-p2p-port', '0', '--base-rpc-port', '0']
const readState = async (dir: string): Promise<DevnetState> => JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState

interface OpJson { hash: string, contents: { pass: number, contents: { kind: string, slot?: number, level?: number, bh1?: { level: number } } } }
interface DelegateJson { frozen_balance: string, frozen_balance_by_cycle: Array<{ cycle: number, deposits: string }>, denounced: Array<{ level: number, kind: string }> }

const BAKERS = 3
const pkhOf = (i: number): string => b58Encode('ed25519PublicKeyHash', devnetAccountKeypairs()[i].publicKeyHash)

describe('devnet of delegates (demo v3)', () => {
  it(`devnet up --bakers ${BAKERS} --equivocate 2: every delegate bakes and endorses; the double baker is denounced through gossip; manager operations through the CLI`, async () => {
    await withTempDir('devnet-bakers', async dir => {
      const up = Child.tzp2p(['devnet', 'up', '--nodes', '4', '--bakers', String(BAKERS), '--equivocate', '2', '--dir', dir, '--detach', ...FREE_PORTS])
      try {
        assert.equal((await up.exited).code, 0, up.stderr)
        const state = await readState(dir)
        assert.deepEqual(state.nodes.map(n => n.baker), [true, true, true, false])
        // node3 bakes nothing: what it shows came through gossip.
        const watcher = state.nodes[3].rpc
        const delegates = Array.from({ length: BAKERS }, (_, i) => pkhOf(i))

        // Every delegate bakes some block, and every delegate's endorsements are in blocks (read on node3).
        const bakedBy = new Set<string>()
        const endorsedBy = new Set<string>()
        let scanned = 1
        await waitFor(async () => {
          const head = await getJson<HeaderJson>(`${watcher}/chains/main/blocks/head/header`)
          for (; scanned < head.level; scanned++) {
            const level = scanned + 1
            const rights = await getJson<Array<{ delegate: string, priority: number }>>(`${watcher}/chains/main/blocks/head/helpers/baking_rights?level=${level}&max_priority=64`)
            const block = await getJson<{ metadata: { protocol_data: { priority: number } } }>(`${watcher}/chains/main/blocks/${level}`)
            bakedBy.add(rights[block.metadata.protocol_data.priority].delegate)
            const slots = await getJson<Array<{ delegate: string, slots: number[] }>>(`${watcher}/chains/main/blocks/head/helpers/endorsing_rights?level=${level - 1}`)
            for (const op of await getJson<OpJson[]>(`${watcher}/chains/main/blocks/${level}/operations/0`)) {
              assert.equal(op.contents.contents.kind, 'endorsement')
              const holder = slots.find(s => s.slots.includes(op.contents.contents.slot as number))
              if (holder !== undefined) endorsedBy.add(holder.delegate)
            }
            const fitness = await getJson<{ level: number, endorsing_power: number }>(`${watcher}/chains/main/blocks/${level}/fitness`)
            assert.equal(fitness.level, level)
          }
          return delegates.every(d => bakedBy.has(d) && endorsedBy.has(d))
        }, { what: () => `every delegate baked (${[...bakedBy].join(', ')}) and endorsed (${[...endorsedBy].join(', ')}) by level ${scanned}`, timeoutMs: 240_000, intervalMs: 500, retryOnError: true })

        // The equivocating delegate (node2's) is denounced: evidence in a block, seen the same on every node.
        const offender = pkhOf(2)
        const evidence = await waitFor(async () => {
          const head = await getJson<HeaderJson>(`${watcher}/chains/main/blocks/head/header`)
          for (let level = head.level; level >= 2; level--) {
            const found = (await getJson<OpJson[]>(`${watcher}/chains/main/blocks/${level}/operations/2`)).find(op => op.contents.contents.kind === 'double_baking_evidence')
            if (found !== undefined) return { level, hash: found.hash, offence: found.contents.contents.bh1?.level as number }
          }
          return undefined
        }, { what: 'double baking evidence in a block', timeoutMs: 240_000, intervalMs: 1000, retryOnError: true })
        for (const n of state.nodes) {
          await waitFor(async () => (await getJson<OpJson[]>(`${n.rpc}/chains/main/blocks/${evidence.level}/operations/2`)).some(op => op.hash === evidence.hash),
            { what: `the evidence in block ${evidence.level} on ${n.name}`, timeoutMs: 60_000, intervalMs: 500, retryOnError: true })
          const view = await getJson<DelegateJson>(`${n.rpc}/chains/main/blocks/head/context/delegates/${offender}`)
          assert.ok(view.denounced.some(d => d.level === evidence.offence && d.kind === 'double_baking'), `${n.name}: ${JSON.stringify(view.denounced)}`)
        }
        // The offender's two blocks at that level were two branches: every node ends on the same one,
        // the one carrying more endorsements (the lighter one was announced first).
        const atOffence = await Promise.all(state.nodes.map(async n => await getJson<string>(`${n.rpc}/chains/main/blocks/${evidence.offence}/hash`)))
        assert.equal(new Set(atOffence).size, 1, atOffence.join(' '))
        // Someone other than the offender caught it and injected the evidence.
        const accusers = await Promise.all(state.nodes.map(async n => (await readFile(n.logFile, 'utf8')).includes('double baking seen: evidence injected')))
        assert.ok(accusers.some((a, i) => a && i !== 2), `accusers: ${accusers.join(',')}`)
        assert.equal(accusers[2], false, 'the offender does not denounce itself')

        // Manager operations through the CLI, each waited for in a block: account 5 reveals, delegates to
        // delegate 0 (whose stake grows by its balance), account 0 originates a KT1 that a transaction funds.
        const stakeOf = async (i: number): Promise<bigint> => BigInt((await getJson<{ staking_balance: string }>(`${watcher}/chains/main/blocks/head/context/delegates/${pkhOf(i)}`)).staking_balance)
        const before = await stakeOf(0)
        const cli = async (args: string[]): Promise<string> => {
          const c = Child.tzp2p(['devnet', 'operation', ...args, '--dir', dir, '--wait'])
          assert.equal((await c.exited).code, 0, c.stderr)
          assert.match(c.stdout, /^included in block \d+ B\w+$/m)
          return c.stdout
        }
        await cli(['reveal', '--from', '5'])
        await cli(['delegation', '--from', '5', '--delegate', '0'])
        const origination = await cli(['origination', '--from', '0', '--amount', '1000', '--delegate', '1'])
        const kt1 = /originating (KT1\w+)/.exec(origination)?.[1]
        assert.ok(kt1 !== undefined, origination)
        await cli(['transaction', '--from', '0', '--to', kt1, '--amount', '10'])
        // The delegation moved account 5's balance into delegate 0's stake (rewards and fees also move it: at least that much).
        assert.ok(await stakeOf(0) - before >= 900_000_000_000n, `stake of delegate 0: ${before} → ${await stakeOf(0)}`)
        const refused = Child.tzp2p(['devnet', 'operation', 'delegation', '--from', '6', '--delegate', '0', '--dir', dir])
        assert.equal((await refused.exited).code, 1)
        assert.match(refused.stderr, /unrevealed_key/)
      } finally {
        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        await down.exited
      }
    })
  })
})
