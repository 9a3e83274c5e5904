import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { b58Encode } from '../../src/crypto/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import { delegatesProtocolJson } from '../../src/runtime/devnet/delegates.ts'
import { devnetFundraiser, DEVNET_FUNDRAISER_AMOUNT } from '../../src/runtime/devnet/fundraisers.ts'
import { toHex } from '../../src/encoding/index.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import { Child } from '../rpc/child.ts'
import { getJson, type HeaderJson } from '../rpc/rpc-json.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'
import { assertDepositsAsModelled } from './deposits-model.ts'

/** Any free ports: tests must not depend on which ports this machine has free. */
const FREE_PORTS = ['--base-p2p-port', '0', '--base-rpc-port', '0']
const readState = async (dir: string): Promise<DevnetState> => JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState

interface EvidenceHeaderJson { hash: string, level: number, fitness: string[] }
interface OpJson { hash: string, branch: string, contents: { pass: number, contents: { kind: string, slot?: number, level?: number, bh1?: EvidenceHeaderJson, bh2?: EvidenceHeaderJson } } }
/** The endorsing power a demo v3 fitness claims: its second element, a 4-byte big-endian count. */
const endorsingPowerOf = (h: EvidenceHeaderJson): number => Number.parseInt(h.fitness[1], 16)
interface DelegateJson { denounced: Array<{ level: number, kind: string }> }

/** Five nodes, each a delegate: every node bakes in turn and endorses. */
const BAKERS = 5
/** What the late joiner must bootstrap across: every kind the devnet produces on its own or through the CLI. */
const EVERY_KIND = ['endorsement', 'seed_nonce_revelation', 'double_baking_evidence', 'activate_account', 'reveal', 'delegation', 'origination', 'transaction']
const pkhOf = (i: number): string => b58Encode('ed25519PublicKeyHash', devnetAccountKeypairs()[i].publicKeyHash)

describe('devnet of delegates (demo v3)', () => {
  it(`devnet up --nodes ${BAKERS} --bakers ${BAKERS} --equivocate 2: every delegate bakes and endorses; the double baker is denounced through gossip; manager operations through the CLI`, async () => {
    await withTempDir('devnet-bakers', async dir => {
      let joiner: Child | undefined
      const up = Child.tzp2p(['devnet', 'up', '--nodes', String(BAKERS), '--bakers', String(BAKERS), '--equivocate', '2', '--dir', dir, '--detach', ...FREE_PORTS])
      try {
        assert.equal((await up.exited).code, 0, up.stderr)
        const state = await readState(dir)
        assert.deepEqual(state.nodes.map(n => n.baker), Array.from({ length: BAKERS }, () => true))
        // Read on the last node: the other delegates' blocks and endorsements reached it through gossip.
        const watcher = state.nodes[BAKERS - 1].rpc
        const delegates = Array.from({ length: BAKERS }, (_, i) => pkhOf(i))

        // Every delegate bakes some block, and every delegate's endorsements are in blocks (read on the watcher).
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
        // Wanted: evidence of two blocks with different endorsement counts (the equivocator drops one
        // endorsement from its second block; a block it baked without endorsements has none to drop).
        const offender = pkhOf(2)
        const evidence = await waitFor(async () => {
          const head = await getJson<HeaderJson>(`${watcher}/chains/main/blocks/head/header`)
          for (let level = head.level; level >= 2; level--) {
            for (const op of await getJson<OpJson[]>(`${watcher}/chains/main/blocks/${level}/operations/2`)) {
              const { kind, bh1, bh2 } = op.contents.contents
              if (kind !== 'double_baking_evidence' || bh1 === undefined || bh2 === undefined) continue
              const [p1, p2] = [endorsingPowerOf(bh1), endorsingPowerOf(bh2)]
              if (p1 !== p2) return { level, hash: op.hash, offence: bh1.level, blocks: [bh1.hash, bh2.hash], heavier: Math.max(p1, p2), lighter: Math.min(p1, p2) }
            }
          }
          return undefined
        }, { what: 'double baking evidence of two blocks with different endorsement counts in a block', timeoutMs: 300_000, intervalMs: 1000, retryOnError: true })
        for (const n of state.nodes) {
          await waitFor(async () => (await getJson<OpJson[]>(`${n.rpc}/chains/main/blocks/${evidence.level}/operations/2`)).some(op => op.hash === evidence.hash),
            { what: `the evidence in block ${evidence.level} on ${n.name}`, timeoutMs: 60_000, intervalMs: 500, retryOnError: true })
          const view = await getJson<DelegateJson>(`${n.rpc}/chains/main/blocks/head/context/delegates/${offender}`)
          assert.ok(view.denounced.some(d => d.level === evidence.offence && d.kind === 'double_baking'), `${n.name}: ${JSON.stringify(view.denounced)}`)
        }
        // The offender's two blocks at that level were two branches: every node ends on the same one,
        // the one carrying more endorsements (the lighter one was announced first).
        // Its node, and every node that caught it, saw the lighter one first and switched to the heavier.
        const atOffence = await Promise.all(state.nodes.map(async n => await getJson<string>(`${n.rpc}/chains/main/blocks/${evidence.offence}/hash`)))
        assert.equal(new Set(atOffence).size, 1, atOffence.join(' '))
        for (const n of state.nodes) {
          const fitness = await getJson<{ level: number, endorsing_power: number }>(`${n.rpc}/chains/main/blocks/${evidence.offence}/fitness`)
          assert.equal(fitness.endorsing_power, evidence.heavier, `${n.name} at level ${evidence.offence}: the block with ${evidence.heavier} endorsements, not ${evidence.lighter}`)
        }
        // Someone other than the offender caught it and injected the evidence.
        const accusers = await Promise.all(state.nodes.map(async n => (await readFile(n.logFile, 'utf8')).includes('double baking seen: evidence injected')))
        assert.ok(accusers.some((a, i) => a && i !== 2), `accusers: ${accusers.join(',')}`)
        assert.equal(accusers[2], false, 'the offender does not denounce itself')
        // The same offence denounced again through the CLI, from the two block hashes (their headers
        // fetched from the nodes): refused with the node's reason, the offence being on the chain already.
        const denounceAgain = Child.tzp2p(['devnet', 'operation', 'double-baking-evidence', '--block', evidence.blocks[0], '--block', evidence.blocks[1], '--dir', dir])
        assert.equal((await denounceAgain.exited).code, 1, denounceAgain.stdout)
        assert.match(denounceAgain.stderr, new RegExp(`already_denounced: the baker was already denounced for level ${evidence.offence}$`, 'm'))
        assert.equal(denounceAgain.stderr.trim().split('\n').length, 1, denounceAgain.stderr)

        // A hand-made endorsement by delegate 0, through its own node, of the head's level on another
        // branch (the block before) once the node endorsed the head: a second endorsement of the
        // level by one delegate, refused as a duplicate. Retried when it arrives before the node's
        // own (then the pool refuses the node's) or after the head moved on (an old level).
        let lastTry = 'none'
        const duplicate = await waitFor(async () => {
          const c = Child.tzp2p(['devnet', 'operation', 'endorsement', '--from', '0', '--block', 'head~1', '--node', '0', '--dir', dir])
          const code = (await c.exited).code
          lastTry = `${c.stdout}${c.stderr}`
          if (code === 0 || /wrong_endorsement_level/.test(c.stderr)) return undefined
          return { code, stderr: c.stderr }
        }, { what: () => `a hand-made endorsement refused as a duplicate of node 0's (last try: ${lastTry})`, timeoutMs: 120_000, intervalMs: 200 })
        assert.match(duplicate.stderr.trim(), /^tzp2p: \/injection\/operation: operation o\w+ refused \(invalid\): duplicate_endorsement: the delegate of slot \d+ already endorsed level \d+$/, duplicate.stderr.trim())
        assert.equal(duplicate.stderr.trim().split('\n').length, 1, duplicate.stderr)
        // Of the head itself, it is the node's own operation byte for byte (Ed25519 signs
        // deterministically), or the node's is refused when it comes second: accepted either way.
        const same = Child.tzp2p(['devnet', 'operation', 'endorsement', '--from', '0', '--node', '0', '--dir', dir])
        assert.equal((await same.exited).code === 0 || /wrong_endorsement_level/.test(same.stderr), true, same.stderr)
        if ((await same.exited).code === 0) assert.match(same.stdout, new RegExp(`^injected endorsement o\\w+ through node0: delegate 0 \\(${pkhOf(0)}\\) endorses level \\d+ on B\\w+ at slot \\d+$`, 'm'))

        // The deposits it took and the reward it paid are the protocol's (protocols/sync.md A.2):
        // every delegate's frozen deposits and denunciations, recomputed from the blocks, match the
        // node's views; the offence took all the offender's deposits of its cycle, half to the
        // baker of the block carrying the evidence.
        // Checked at one head whose blocks carry the evidence: on a loaded machine the watcher may
        // switch for a while to a branch whose block at the evidence's level does not carry it yet.
        let modelled: Awaited<ReturnType<typeof assertDepositsAsModelled>> | undefined
        const slashed = await waitFor(async () => {
          modelled = await assertDepositsAsModelled(watcher, delegates, modelled?.model)
          return modelled.model.denouncedAt(offender, modelled.head).find(d => d.level === evidence.offence && d.kind === 'double_baking')
        }, { what: `the double baking of level ${evidence.offence} among the modelled denunciations at one head`, timeoutMs: 120_000, intervalMs: 500 })
        assert.ok(BigInt(slashed.deposit_taken) > 0n, JSON.stringify(slashed))
        assert.equal(BigInt(slashed.reward), BigInt(slashed.deposit_taken) / 2n)

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
        // An activation claims fundraiser 1's genesis commitment with its secret; a second finds none left.
        const fundraiser = b58Encode('ed25519PublicKeyHash', devnetFundraiser(1).keypair.publicKeyHash)
        await assert.rejects(getJson(`${watcher}/chains/main/blocks/head/context/contracts/${fundraiser}`), /404|no account/)
        assert.match(await cli(['activation', '--from', '1']), new RegExp(`for fundraiser 1 \\(${fundraiser}\\) with secret ${toHex(devnetFundraiser(1).secret)}`))
        const activated = await getJson<{ balance: string }>(`${watcher}/chains/main/blocks/head/context/contracts/${fundraiser}`)
        assert.equal(BigInt(activated.balance), DEVNET_FUNDRAISER_AMOUNT)
        const again = Child.tzp2p(['devnet', 'operation', 'activation', '--from', '1', '--dir', dir])
        assert.equal((await again.exited).code, 1)
        assert.match(again.stderr, /invalid_activation/)

        // A late joiner: once the chain holds every kind, a new node bootstraps across it and ends
        // in the same state as the others.
        const kinds = new Set<string>()
        let kindsScanned = 1
        await waitFor(async () => {
          const head = await getJson<HeaderJson>(`${watcher}/chains/main/blocks/head/header`)
          for (; kindsScanned < head.level; kindsScanned++) {
            for (let pass = 0; pass < 4; pass++) {
              for (const op of await getJson<OpJson[]>(`${watcher}/chains/main/blocks/${kindsScanned + 1}/operations/${pass}`)) kinds.add(op.contents.contents.kind)
            }
          }
          return EVERY_KIND.every(k => kinds.has(k))
        }, { what: () => `blocks carrying every kind (${[...kinds].join(', ')} by level ${kindsScanned})`, timeoutMs: 240_000, intervalMs: 1000, retryOnError: true })
        const joinerDir = join(dir, 'late-joiner')
        await mkdir(joinerDir)
        await writeFile(join(joinerDir, 'config.json'), `${JSON.stringify({ protocol: delegatesProtocolJson(BAKERS) }, null, 2)}\n`)
        joiner = Child.tzp2p(['run', '--data-dir', joinerDir, '--expected-pow', '0', '--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:0',
          '--protocol', 'demo', '--log-output', 'stdout', '--synchronisation-threshold', '1', '--peer', state.nodes[0].p2p])
        const joinerRpc = (await joiner.nodeRunning(120_000)).rpc[0]
        const rpcs = [...state.nodes.map(n => n.rpc), joinerRpc]
        // Only the head's state is served, and the head moves: a view counts when the head is the same
        // before and after reading it; the nodes agree once one head has a view from every node.
        const viewsByHead = rpcs.map(() => new Map<string, string>())
        const viewAt = async (rpc: string): Promise<{ head: string, view: string } | undefined> => {
          const before = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
          const view = JSON.stringify({
            delegates: await Promise.all(delegates.map(async d => await getJson<unknown>(`${rpc}/chains/main/blocks/head/context/delegates/${d}`))),
            accounts: await Promise.all([...[0, 5, 6].map(pkhOf), fundraiser].map(async a => await getJson<unknown>(`${rpc}/chains/main/blocks/head/context/contracts/${a}`)))
          })
          const after = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
          return before.hash === after.hash ? { head: before.hash, view } : undefined
        }
        const agreed = await waitFor(async () => {
          await Promise.all(rpcs.map(async (rpc, i) => {
            const seen = await viewAt(rpc)
            if (seen !== undefined) viewsByHead[i].set(seen.head, seen.view)
          }))
          return [...viewsByHead[rpcs.length - 1].keys()].find(h => viewsByHead.every(m => m.has(h)))
        }, { what: 'the late joiner and every devnet node at one head', timeoutMs: 240_000, intervalMs: 200, retryOnError: true })
        const views = viewsByHead.map(m => m.get(agreed))
        for (let i = 0; i < views.length - 1; i++) assert.equal(views[rpcs.length - 1], views[i], `the late joiner's state at ${agreed} against ${state.nodes[i].name}'s`)
      } finally {
        joiner?.kill()
        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        await down.exited
      }
    })
  })
})
