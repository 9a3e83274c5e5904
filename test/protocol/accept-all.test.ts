import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blake2b256 } from '../../src/crypto/index.ts'
import { createAcceptAllProtocol } from '../../src/protocol/accept-all.ts'
import { levelFitness } from '../../src/protocol/common.ts'
import { ScratchState, EMPTY_STATE } from '../../src/protocol/state.ts'
import { genesisHeader, namedGenesis, resolveGenesis } from '../../src/chain/genesis.ts'
import { blockHash } from '../../src/wire/block-header.ts'

test('accept-all takes any operation, sorts operations into passes, and checks only fitness and pass count', async () => {
  const p = createAcceptAllProtocol({ validationPasses: 2 })
  const branch = blake2b256(Uint8Array.of(1))
  assert.deepEqual(await p.validateOperation({ branch, data: Uint8Array.of(3, 9) }, new ScratchState(EMPTY_STATE)), { ok: true, pass: 1 })
  assert.deepEqual(await p.validateOperation({ branch, data: new Uint8Array(0) }, new ScratchState(EMPTY_STATE)), { ok: true, pass: 0 })
  const g = resolveGenesis(namedGenesis('aa', 1_600_000_000, p.hash))
  const gh = genesisHeader(g, p.genesis().context)
  const baked = await p.makeBlock({ predecessor: gh, predecessorHash: g.hash, timestamp: 1_600_000_001n, candidates: [{ branch, data: Uint8Array.of(1) }, { branch, data: Uint8Array.of(2) }], state: EMPTY_STATE })
  assert.equal(baked.operations[0].length, 1)
  assert.equal(baked.operations[1].length, 1)
  assert.deepEqual(baked.header.shell.fitness, levelFitness(1))
  assert.deepEqual(p.validateHeader(baked.header, gh), { ok: true })
  const v = p.validateHeader({ ...baked.header, shell: { ...baked.header.shell, fitness: levelFitness(5) } }, gh)
  assert.equal(v.ok ? 'ok' : v.error.code, 'bad_fitness')
  const w = p.validateHeader({ ...baked.header, shell: { ...baked.header.shell, validationPass: 1 } }, gh)
  assert.equal(w.ok ? 'ok' : w.error.code, 'bad_validation_passes')
  assert.deepEqual(await p.applyBlock({ header: baked.header, operations: baked.operations, predecessor: gh, state: EMPTY_STATE }), { writes: [] })
  assert.equal(blockHash(baked.header).length, 32)
})
