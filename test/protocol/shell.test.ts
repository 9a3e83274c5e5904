import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { b58Encode, blake2b256 } from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import { Chain } from '../../src/chain/chain.ts'
import { CheckpointStartError } from '../../src/chain/checkpoint-start.ts'
import { FutureBlockError, OperationsMismatchError, UnknownPredecessorError } from '../../src/chain/errors.ts'
import { Mempool, MempoolRefusedError } from '../../src/chain/mempool.ts'
import type { StoredHeader } from '../../src/chain/store.ts'
import { newShellHeader } from '../../src/protocol/common.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { createShellProtocol, MAX_OPERATION_DATA_LENGTH, ShellOnlyError } from '../../src/protocol/shell/index.ts'
import { createAcceptAllProtocol } from '../../src/protocol/accept-all.ts'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { blockHash, type BlockHeader } from '../../src/wire/block-header.ts'
import { compareFitness, type Fitness } from '../../src/wire/fitness.ts'
import type { Operation } from '../../src/wire/operation.ts'
import { tempDir, removeDir } from '../helpers/temp-dir.ts'

/** Mainnet's genesis protocol: the shell follows a chain whatever protocol its genesis names. */
const GENESIS_PROTOCOL = 'Ps9mPmXaRzmzk35gbAYNCAw6UXdE2qoABTHbN2oEEc1qM7CwT9P'
const GENESIS = { block: b58Encode('blockHash', blake2b256(new TextEncoder().encode('shell test genesis'))), timestamp: 1_700_000_000n, protocol: GENESIS_PROTOCOL }

/** A Tenderbake-shaped fitness (version 02, level, locked round, predecessor round, round), as Octez's `Fitness_repr.to_raw`. */
function tenderbakeFitness (level: number, round = 0, lockedRound?: number): Fitness {
  const int32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, n); return b }
  return [Uint8Array.of(2), int32(level), lockedRound === undefined ? new Uint8Array(0) : int32(lockedRound), int32(-1), int32(round)]
}

const op = (branch: Uint8Array, data: Uint8Array | number): Operation =>
  ({ branch, data: typeof data === 'number' ? Uint8Array.of(data & 0xff, data >> 8) : data })

interface BlockSpec {
  level?: number
  proto?: number
  timestamp?: bigint
  fitness?: Fitness
  operations?: Operation[][]
  passes?: number
  protocolData?: Uint8Array
}

/** A block on `pred` whose shell fields are right unless `spec` says otherwise. */
function blockOn (pred: StoredHeader, spec: BlockSpec = {}): { header: BlockHeader, operations: Operation[][] } {
  const level = pred.header.shell.level + 1
  // Block 1 is the genesis protocol's activation block: Octez's genesis protocols have no pass.
  const operations = spec.operations ?? Array.from({ length: spec.passes ?? (level === 1 ? 0 : 4) }, () => [])
  const shell = newShellHeader({
    predecessor: pred.header,
    predecessorHash: pred.hash,
    timestamp: spec.timestamp ?? pred.header.shell.timestamp + 6n,
    protoLevel: spec.proto ?? (pred.header.shell.level === 0 ? 1 : pred.header.shell.proto)
  }, { operations, context: new Uint8Array(32), fitness: spec.fitness ?? tenderbakeFitness(level) })
  return { header: { shell: { ...shell, level: spec.level ?? level }, protocolData: spec.protocolData ?? fromHex('c0ffee') }, operations }
}

describe('the shell protocol (--protocol shell) on a real store', () => {
  let dir: string
  let db: Database
  let chain: Chain
  const nowMs = Number(GENESIS.timestamp + 100_000n) * 1000

  before(async () => {
    dir = await tempDir('shell')
    db = await openDatabase(dir, { chainName: 'TZP2P_TEST' })
    chain = await Chain.open(db, { protocol: createShellProtocol({ hash: GENESIS_PROTOCOL }), genesis: GENESIS, now: () => nowMs })
  })
  after(async () => {
    await db.close()
    await removeDir(dir)
  })

  it('takes block 1 of Octez\'s genesis protocol with no validation pass, as mainnet\'s, and no other', async () => {
    const four = blockOn(chain.head, { passes: 4 })
    await assert.rejects(chain.addBlock(four.header, four.operations), /bad_validation_passes: 4 validation passes, the protocol has 0/)
    const b = blockOn(chain.head)
    assert.equal(b.header.shell.validationPass, 0)
    await chain.addBlock(b.header, b.operations)
    assert.equal(chain.head.header.shell.level, 1)
  })

  it('takes a block with opaque protocol data and fitness, any genesis protocol, 4 validation passes', async () => {
    // The operation's branch is a live block: genesis.
    const b = blockOn(chain.head, { operations: [[], [], [], [op(chain.head.hash, 1)]] })
    const r = await chain.addBlock(b.header, b.operations)
    assert.equal(r.head.header.shell.level, 2)
    assert.equal(chain.protocol.name, 'shell')
    assert.equal(chain.protocol.hash, GENESIS_PROTOCOL)
    assert.deepEqual(chain.protocol.describeProtocolData(r.head.header), { data: 'c0ffee' })
  })

  const refusals: Array<[string, (head: StoredHeader) => ReturnType<typeof blockOn>, RegExp]> = [
    ['a level other than the predecessor\'s + 1', h => blockOn(h, { level: h.header.shell.level + 2 }), /bad_level: level \d+ on a predecessor at level \d+/],
    ['a timestamp not after the predecessor\'s', h => blockOn(h, { timestamp: h.header.shell.timestamp }), /non_increasing_timestamp/],
    ['a fitness not above the predecessor\'s', h => blockOn(h, { fitness: h.header.shell.fitness }), /bad_fitness/],
    ['a shorter fitness list (Octez compares list lengths first)', h => blockOn(h, { fitness: [fromHex('ffffffffffffffff')] }), /bad_fitness/],
    ['3 validation passes', h => blockOn(h, { passes: 3 }), /bad_validation_passes: 3 validation passes, the protocol has 4/],
    ['a protocol level two above the predecessor\'s', h => blockOn(h, { proto: h.header.shell.proto + 2 }), /bad_proto_level/],
    ['133 operations in the anonymous pass (Tallinn allows 132)', h => blockOn(h, { operations: [[], [], Array.from({ length: 133 }, (_, i) => op(h.hash, i)), []] }), /too many operations in validation pass 3: 133, at most 132/],
    ['an operation above 32 KiB', h => blockOn(h, { operations: [[], [], [], [op(h.hash, new Uint8Array(MAX_OPERATION_DATA_LENGTH - 31))]] }), /oversized operation 0 of validation pass 4: 32769 bytes, at most 32768/],
    ['an operation listed twice', h => blockOn(h, { operations: [[op(h.hash, 7)], [], [], [op(h.hash, 7)]] }), /operation 0 of validation pass 4 is listed twice/],
    ['an operation branched on an unknown block', h => blockOn(h, { operations: [[], [], [], [op(new Uint8Array(32).fill(9), 1)]] }), /operation_branch_not_live: operation 0 of pass 3: branch .* is unknown/]
  ]
  for (const [what, make, reason] of refusals) {
    it(`refuses ${what}, with a clear reason`, async () => {
      const b = make(chain.head)
      await assert.rejects(chain.addBlock(b.header, b.operations), (e: Error) => {
        assert.ok(e instanceof InvalidBlockError, `${e.name}: ${e.message}`)
        assert.match(e.message, reason)
        return true
      })
    })
  }

  it('refuses operations that do not hash to operations_hash, without calling the block invalid', async () => {
    const b = blockOn(chain.head)
    b.operations[0].push(op(chain.head.hash, 3))
    await assert.rejects(chain.addBlock(b.header, b.operations), (e: Error) => e instanceof OperationsMismatchError && /operations_hash/.test(e.message))
  })

  it('refuses a block beyond the clock drift (Octez: 1 s)', async () => {
    const b = blockOn(chain.head, { timestamp: BigInt(nowMs / 1000) + 2n })
    await assert.rejects(chain.addBlock(b.header, b.operations), FutureBlockError)
  })

  it('takes a protocol level one above the predecessor\'s (an activation it cannot see) and keeps it', async () => {
    const b = blockOn(chain.head, { proto: chain.head.header.shell.proto + 1 })
    await chain.addBlock(b.header, b.operations)
    assert.equal(chain.head.header.shell.proto, 2)
    const next = blockOn(chain.head)
    await chain.addBlock(next.header, next.operations)
    assert.equal(chain.head.header.shell.proto, 2)
    const back = blockOn(chain.head, { proto: 1 })
    await assert.rejects(chain.addBlock(back.header, back.operations), /bad_proto_level: protocol level 1 after a block at protocol level 2/)
  })

  it('relays operations on a live branch unvalidated, refusing dead branches and oversized ones', async () => {
    const mempool = new Mempool({ chain, announceDelayMs: 1 })
    try {
      const added = await mempool.add(op(chain.head.hash, 42))
      assert.equal(added.status, 'added')
      await assert.rejects(mempool.add(op(new Uint8Array(32).fill(1), 1)), (e: Error) => e instanceof MempoolRefusedError && e.code === 'branch_not_live')
      await assert.rejects(mempool.add(op(chain.head.hash, new Uint8Array(MAX_OPERATION_DATA_LENGTH))), (e: Error) => e instanceof MempoolRefusedError && /oversized operation/.test(e.message))
      assert.equal(chain.protocol.describeOperation(op(chain.head.hash, 42)).validated, false)
    } finally {
      mempool.stop()
    }
  })

  it('describes real Tezos operations by kind, unvalidated, and other bytes as unparsed', () => {
    // A transaction forged by @taquito/local-forging (1 tez, tz1KqTp… to tz1gjaF…), then a 64-byte signature.
    const transaction = fromHex('6c0002298c03ed7d454a101eb7022bc95f7e5f41ac788c0b07e852ac02c0843d0000e7670f32038107a59a2b9cfefae36ea21f5aa63c00' + 'cd'.repeat(64))
    const described = chain.protocol.describeOperation(op(chain.head.hash, transaction))
    assert.equal(described.validated, false)
    assert.deepEqual(described.kinds, ['transaction'])
    assert.equal((described.contents as Array<Record<string, unknown>>)[0].destination, 'tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN')
    assert.equal(described.signature, 'cd'.repeat(64))
    // Evidence the library does not decode is named by its tag; bytes of no known tag are unparsed.
    assert.deepEqual(chain.protocol.describeOperation(op(chain.head.hash, Uint8Array.of(3, ...new Uint8Array(80)))), { validated: false, kind: 'double_baking_evidence', data: '03' + '00'.repeat(80) })
    assert.equal(chain.protocol.describeOperation(op(chain.head.hash, Uint8Array.of(0xfe, 1))).kind, 'unparsed')
  })

  it('cannot bake or compute a fitness', async () => {
    assert.throws(() => chain.protocol.fitness(2, chain.head.header), ShellOnlyError)
    await assert.rejects(chain.protocol.makeBlock({ predecessor: chain.head.header, predecessorHash: chain.head.hash, timestamp: 0n, candidates: [], state: chain.state }), ShellOnlyError)
  })
})

describe('Fitness.compare vectors (src/lib_base/fitness.ml)', () => {
  const f = (...hex: string[]): Fitness => hex.map(h => fromHex(h))
  const vectors: Array<[Fitness, Fitness, number, string]> = [
    [f(), f(), 0, 'empty lists are equal'],
    [f('00', '0000000000000001'), f('02', '00000001', '', 'ffffffff', '00000000'), -1, 'an Emmy fitness (2 elements) is below any Tenderbake one (5): list length first'],
    [f('ff'), f('00', '00'), -1, 'a longer list wins whatever its bytes'],
    [f('02', '00000001', '', 'ffffffff', '00000000'), f('02', '00000001', '00000000', 'ffffffff', '00000000'), -1, 'an empty locked round is shorter than a set one: element length before bytes'],
    [f('02', '00000002', '', 'ffffffff', '00000000'), f('02', '00000001', '00000000', 'ffffffff', '00000000'), 1, 'elements compare in order: the level decides before the locked round'],
    [f('02', '00000002', '', 'ffffffff', '00000000'), f('02', '00000001', '', 'ffffffff', '00000000'), 1, 'same shapes: the higher level wins'],
    [f('02', '00000001', '', 'fffffffe', '00000000'), f('02', '00000001', '', 'ffffffff', '00000000'), -1, 'bytes compare unsigned: fe < ff'],
    [f('02', '00000001', '', 'ffffffff', '00000001'), f('02', '00000001', '', 'ffffffff', '00000001'), 0, 'equal fitnesses']
  ]
  for (const [a, b, expected, what] of vectors) {
    it(what, () => {
      assert.equal(compareFitness(a, b), expected)
      assert.equal(compareFitness(b, a), -expected || 0)
    })
  }
})

const view = (c: { hash: Uint8Array, level: number }): { hash: string, level: number } => ({ hash: toHex(c.hash), level: c.level })

describe('a shell chain started from a checkpoint', () => {
  it('holds the checkpoint as head, checkpoint and caboose, follows from it, refuses forks below it, and keeps it across a restart', async () => {
    const dir = await tempDir('shell')
    const protocol = createShellProtocol({ hash: GENESIS_PROTOCOL })
    try {
      // A source chain of 12 blocks, of which block 8 is the checkpoint.
      const sourceDb = await openDatabase(`${dir}/source`, { chainName: 'TZP2P_TEST' })
      const source = await Chain.open(sourceDb, { protocol, genesis: GENESIS, now: () => Date.now() + 3600_000 })
      const blocks: Array<ReturnType<typeof blockOn>> = []
      for (let i = 0; i < 12; i++) {
        const b = blockOn(source.head, i === 0 ? {} : { operations: [[], [op(source.head.hash, i)], [], []] })
        await source.addBlock(b.header, b.operations)
        blocks.push(b)
      }
      await sourceDb.close()
      const checkpoint = blocks[7]
      const checkpointHash = blockHash(checkpoint.header)

      const db = await openDatabase(`${dir}/node`, { chainName: 'TZP2P_TEST' })
      let chain = await Chain.open(db, { protocol, genesis: GENESIS })
      await chain.startFromCheckpoint(checkpoint.header, checkpoint.operations)
      assert.equal(chain.head.header.shell.level, 8)
      assert.deepEqual(view(chain.checkpoint), view({ hash: checkpointHash, level: 8 }))
      assert.deepEqual(view(chain.caboose), view({ hash: checkpointHash, level: 8 }))
      assert.equal(await chain.getBlockByLevel(7), undefined)
      assert.equal((await chain.getBlockByLevel(0))?.header.shell.level, 0, 'genesis stays')
      await assert.rejects(chain.startFromCheckpoint(blocks[9].header, blocks[9].operations), CheckpointStartError)
      // Below the checkpoint: nothing to attach to.
      await assert.rejects(chain.addBlock(blocks[6].header, blocks[6].operations), UnknownPredecessorError)
      await chain.addBlocks(blocks.slice(8))
      assert.equal(chain.head.header.shell.level, 12)
      await db.close()

      const reopened = await openDatabase(`${dir}/node`, { chainName: 'TZP2P_TEST' })
      chain = await Chain.open(reopened, { protocol, genesis: GENESIS })
      assert.deepEqual(view(chain.caboose), view({ hash: checkpointHash, level: 8 }))
      assert.equal(chain.head.header.shell.level, 12)
      await reopened.close()
    } finally {
      await protocol.close?.()
      await removeDir(dir)
    }
  })

  it('is refused to a protocol that needs the state below the checkpoint', async () => {
    const dir = await tempDir('shell')
    const protocol = createAcceptAllProtocol()
    const db = await openDatabase(dir, { chainName: 'TZP2P_TEST' })
    try {
      const chain = await Chain.open(db, { protocol, genesis: { ...GENESIS, protocol: protocol.hash } })
      const b = blockOn(chain.head, { passes: 1 })
      await assert.rejects(chain.startFromCheckpoint(b.header, b.operations), /only --protocol shell starts from a checkpoint/)
    } finally {
      await db.close()
      await removeDir(dir)
    }
  })
})
