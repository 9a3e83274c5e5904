import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { b58Decode, b58Encode, blake2b256 } from '../../src/crypto/index.ts'
import { devnetAccountKeypairs } from '../../src/config/presets.ts'
import { bytesEqual, encode, fromHex, toHex } from '../../src/encoding/index.ts'
import { anonymousOperation, decodeBlockData, inlineEndorsement, seedNonceFor, signOperation, type Contents } from '../../src/protocol/demo-v3/index.ts'
import { devnetFundraiser } from '../../src/runtime/devnet/fundraisers.ts'
import type { DevnetState } from '../../src/runtime/devnet/state.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import type { BlockHeader } from '../../src/wire/block-header.ts'
import { Child } from '../rpc/child.ts'
import { getJson, requestJson, type HeaderJson } from '../rpc/rpc-json.ts'
import type { RpcErrorBody } from '../../src/rpc/errors.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

const FREE_PORTS = ['--base-p2p-port', '0', '--base-rpc-port', '0']
const keys = devnetAccountKeypairs()
const pkh = (i: number): string => b58Encode('ed25519PublicKeyHash', keys[i].publicKeyHash)

/** What an invalid form is built from: the head (its hash is the branch) and account counters. */
interface Head { level: number, branch: Uint8Array, counter: (i: number) => Promise<bigint> }
interface InvalidForm { what: string, code: string, reason: RegExp, build: (head: Head) => { data: Uint8Array } | Promise<{ data: Uint8Array }> }

const manager = async (head: Head, i: number, counter?: bigint): Promise<{ source: Uint8Array, fee: bigint, counter: bigint, gasLimit: bigint, storageLimit: bigint }> =>
  ({ source: keys[i].publicKeyHash, fee: 0n, counter: counter ?? await head.counter(i) + 1n, gasLimit: 0n, storageLimit: 0n })
const signed = (head: Head, c: Contents, signer: number): { data: Uint8Array } => ({ data: signOperation(head.branch, c, keys[signer].secretKey) })
const header = (level: number): BlockHeader => ({
  shell: { level, proto: 1, predecessor: new Uint8Array(32), timestamp: 0n, validationPass: 4, operationsHash: new Uint8Array(32), fitness: [], context: new Uint8Array(32) },
  protocolData: new Uint8Array(75)
})

/** One invalid form of each kind (protocols/sync.md A.2's table of checks), each with the code and reason it must be refused with. */
const INVALID: InvalidForm[] = [
  { what: 'an endorsement of a level that is not the head\'s', code: 'wrong_endorsement_level', reason: /endorses level \d+; a block at level \d+ carries endorsements of level \d+/, build: h => signed(h, { kind: 'endorsement', level: h.level + 5, slot: 0 }, 0) },
  { what: 'an endorsement of a slot beyond the level\'s', code: 'wrong_slot', reason: /slot 40 is beyond the 32 slots/, build: h => signed(h, { kind: 'endorsement', level: h.level, slot: 40 }, 0) },
  { what: 'an endorsement signed by another key than the slot\'s delegate', code: 'bad_signature', reason: /not the slot delegate's/, build: h => signed(h, { kind: 'endorsement', level: h.level, slot: 0 }, 7) },
  { what: 'a seed nonce revelation of a level not in the previous cycle', code: 'unexpected_nonce', reason: /revealed during the cycle after it/, build: h => ({ data: anonymousOperation({ kind: 'seed_nonce_revelation', level: h.level + 100, nonce: new Uint8Array(32) }) }) },
  { what: 'an activation with a wrong secret', code: 'invalid_activation', reason: /no unactivated commitment/, build: () => ({ data: anonymousOperation({ kind: 'activate_account', pkh: devnetFundraiser(0).keypair.publicKeyHash, secret: new Uint8Array(20).fill(7) }) }) },
  {
    what: 'double endorsement evidence of one endorsement twice',
    code: 'not_equivocation',
    reason: /both endorsements endorse the same block/,
    build: h => {
      const e = inlineEndorsement(h.branch, h.level - 1, 0, keys[0].secretKey)
      return { data: anonymousOperation({ kind: 'double_endorsement_evidence', op1: e, op2: e }) }
    }
  },
  { what: 'double baking evidence of two levels', code: 'not_equivocation', reason: /the blocks are at levels 1 and 2/, build: () => ({ data: anonymousOperation({ kind: 'double_baking_evidence', bh1: header(1), bh2: header(2) }) }) },
  { what: 'double baking evidence of one header twice', code: 'not_equivocation', reason: /both headers are the same block/, build: () => ({ data: anonymousOperation({ kind: 'double_baking_evidence', bh1: header(1), bh2: header(1) }) }) },
  { what: 'a reveal of a key already revealed', code: 'already_revealed', reason: /already revealed its public key/, build: async h => signed(h, { kind: 'reveal', ...await manager(h, 0), publicKey: keys[0].publicKey }, 0) },
  { what: 'a reveal of a key not hashing to the source', code: 'bad_public_key', reason: /does not hash to the source/, build: async h => signed(h, { kind: 'reveal', ...await manager(h, 6), publicKey: keys[7].publicKey }, 6) },
  { what: 'a transaction from an unrevealed account', code: 'unrevealed_key', reason: /needs the source's public key revealed first/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 7), amount: 1n, destination: { kind: 'implicit', pkh: keys[0].publicKeyHash } }, 7) },
  { what: 'a transaction signed by another key', code: 'bad_signature', reason: /does not match the source key/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 0), amount: 1n, destination: { kind: 'implicit', pkh: keys[1].publicKeyHash } }, 1) },
  { what: 'a transaction with a used counter', code: 'counter_in_the_past', reason: /already used/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 0, 0n), amount: 1n, destination: { kind: 'implicit', pkh: keys[1].publicKeyHash } }, 0) },
  { what: 'a transaction skipping a counter', code: 'counter_in_the_future', reason: /skips ahead/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 0, await h.counter(0) + 5n), amount: 1n, destination: { kind: 'implicit', pkh: keys[1].publicKeyHash } }, 0) },
  { what: 'a transaction of nothing', code: 'invalid_amount', reason: /amount must be positive, got 0/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 0), amount: 0n, destination: { kind: 'implicit', pkh: keys[1].publicKeyHash } }, 0) },
  { what: 'a transaction to a KT1 never originated', code: 'unknown_contract', reason: /never originated/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 0), amount: 1n, destination: { kind: 'originated', hash: new Uint8Array(20).fill(9) } }, 0) },
  { what: 'a transaction of more than the balance', code: 'balance_too_low', reason: /spends \d+ with a balance of \d+/, build: async h => signed(h, { kind: 'transaction', ...await manager(h, 0), amount: 1n << 52n, destination: { kind: 'implicit', pkh: keys[1].publicKeyHash } }, 0) },
  { what: 'an origination delegating to an unregistered delegate', code: 'not_a_delegate', reason: /contract's delegate is not registered/, build: async h => signed(h, { kind: 'origination', ...await manager(h, 0), balance: 1n, delegate: keys[7].publicKeyHash }, 0) },
  { what: 'an origination with a negative balance', code: 'invalid_amount', reason: /balance must not be negative/, build: async h => signed(h, { kind: 'origination', ...await manager(h, 0), balance: -1n }, 0) },
  { what: 'a delegation to an unregistered delegate', code: 'not_a_delegate', reason: /new delegate is not registered/, build: async h => signed(h, { kind: 'delegation', ...await manager(h, 5), delegate: keys[7].publicKeyHash }, 5) },
  { what: 'a registered delegate delegating elsewhere', code: 'delegate_unchangeable', reason: /stays its own delegate/, build: async h => signed(h, { kind: 'delegation', ...await manager(h, 0), delegate: keys[1].publicKeyHash }, 0) }
]

describe('invalid operations on a devnet of delegates (demo v3)', () => {
  it('the RPC refuses an invalid form of each kind with its code and a reason that says what is wrong; the CLI\'s seed nonce revelation with a wrong nonce too, and with the committed one is included', async () => {
    await withTempDir('devnet-invalid-operations', async dir => {
      const up = Child.tzp2p(['devnet', 'up', '--nodes', '2', '--bakers', '2', '--dir', dir, '--detach', ...FREE_PORTS])
      try {
        assert.equal((await up.exited).code, 0, up.stderr)
        const state = JSON.parse(await readFile(join(dir, 'devnet.json'), 'utf8')) as DevnetState
        const rpc = state.nodes[1].rpc
        const counter = async (i: number): Promise<bigint> => BigInt(await getJson<string>(`${rpc}/chains/main/blocks/head/context/contracts/${pkh(i)}/counter`))
        await waitFor(async () => (await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)).level >= 3, { what: 'level 3', timeoutMs: 120_000, intervalMs: 250, retryOnError: true })
        // Account 5 reveals its key first (a delegation's own checks come after the source's key).
        const reveal = Child.tzp2p(['devnet', 'operation', 'reveal', '--from', '5', '--dir', dir, '--wait'])
        assert.equal((await reveal.exited).code, 0, reveal.stderr)
        for (const form of INVALID) {
          // Built on the head of the moment; a head that moved on in between can only change an
          // endorsement's verdict to its level (retried), nothing else.
          const refusal = await waitFor(async () => {
            const head = await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)
            const { data } = await form.build({ level: head.level, branch: b58Decode('blockHash', head.hash), counter })
            const bytes = encode(operationCodec, { branch: b58Decode('blockHash', head.hash), data })
            const r = await requestJson<RpcErrorBody>(`${rpc}/injection/operation`, { method: 'POST', body: JSON.stringify(toHex(bytes)), headers: { 'content-type': 'application/json' } })
            assert.equal(r.status, 400, `${form.what}: answered ${r.status} ${JSON.stringify(r.body)}`)
            if (form.code !== 'wrong_endorsement_level' && /wrong_endorsement_level/.test(r.body.error)) return undefined
            return r.body.error
          }, { what: form.what, timeoutMs: 60_000, intervalMs: 100 })
          assert.match(refusal, new RegExp(`refused \\(invalid\\): ${form.code}: `), `${form.what}: ${refusal}`)
          assert.match(refusal, form.reason, `${form.what}: ${refusal}`)
        }

        // A seed nonce revelation through the CLI with a wrong nonce: refused as not the committed
        // one. Wanted: a commitment of delegate 0 its node never reveals, so node 0 stops after
        // committing and before the end of that cycle (it reveals once the head is the cycle's last
        // level); node 1 bakes on alone, and the right nonce (derived by the CLI) is then accepted.
        const BLOCKS_PER_CYCLE = 16
        const cycleEnd = (level: number): number => (Math.floor((level - 1) / BLOCKS_PER_CYCLE) + 1) * BLOCKS_PER_CYCLE
        const committedBy0 = async (level: number): Promise<boolean> => {
          const data = decodeBlockData(fromHex((await getJson<{ protocol_data: string }>(`${rpc}/chains/main/blocks/${level}/header`)).protocol_data))
          return data.seedNonceHash !== undefined && bytesEqual(data.seedNonceHash, blake2b256(seedNonceFor(keys[0].secretKey, level)))
        }
        const committed = await waitFor(async () => {
          const head = (await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)).level
          if (head >= cycleEnd(head) - 1) return undefined
          for (let level = cycleEnd(head) - BLOCKS_PER_CYCLE + 1; level <= head; level++) if (await committedBy0(level)) return level
          return undefined
        }, { what: 'a seed nonce commitment of delegate 0 two blocks or more before its cycle ends', timeoutMs: 240_000, intervalMs: 250, retryOnError: true })
        process.kill(state.nodes[0].pid, 'SIGKILL')
        await waitFor(async () => (await getJson<HeaderJson>(`${rpc}/chains/main/blocks/head/header`)).level >= cycleEnd(committed),
          { what: `node 1 baking to the end of level ${committed}'s cycle`, timeoutMs: 240_000, intervalMs: 250, retryOnError: true })
        const wrong = Child.tzp2p(['devnet', 'operation', 'seed-nonce-revelation', '--level', String(committed), '--nonce', '11'.repeat(32), '--node', '1', '--dir', dir])
        assert.equal((await wrong.exited).code, 1, wrong.stdout)
        assert.match(wrong.stderr, new RegExp(`refused \\(invalid\\): bad_nonce: the nonce does not hash to the commitment of level ${committed}$`, 'm'))
        assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr)
        const right = Child.tzp2p(['devnet', 'operation', 'seed-nonce-revelation', '--level', String(committed), '--node', '1', '--dir', dir, '--wait'])
        assert.equal((await right.exited).code, 0, right.stderr)
        assert.match(right.stdout, new RegExp(`reveals the delegate 0's nonce ${toHex(seedNonceFor(keys[0].secretKey, committed))} of level ${committed}`))
        assert.match(right.stdout, /^included in block \d+ B\w+$/m)
      } finally {
        const down = Child.tzp2p(['devnet', 'down', '--dir', dir])
        await down.exited
      }
    })
  })
})
