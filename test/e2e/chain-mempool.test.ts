import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { b58Encode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import { operationCodec, operationHash } from '../../src/wire/operation.ts'
import {
  ChildNode, childConfig, copyDataDir, generateChain, removeAll, seededDataDir, stopAll, type GeneratedChain
} from './chain-harness.ts'

/**
 * An operation injected at one end of a line of three nodes (C – B – A) is validated and announced
 * hop by hop into every mempool; the baker at the other end puts it in a block, which every node
 * applies, and it leaves every mempool.
 */
describe('an injected operation reaches every mempool, then a block (real processes)', () => {
  const PREFIX = 5
  let chain: GeneratedChain
  const dirs: string[] = []
  const nodes: ChildNode[] = []

  before(async () => {
    chain = await generateChain({ name: 'e2e-mempool', blocks: PREFIX, transfersPerBlock: 1 })
    const seed = await seededDataDir(chain, PREFIX, 'seed')
    dirs.push(seed)
    for (let i = 0; i < 3; i++) dirs.push(await copyDataDir(seed, `node${i}`))
  })

  after(async () => {
    await stopAll(nodes)
    await removeAll(dirs)
  })

  it('is in the three mempools, then in the head block of the three nodes', async () => {
    const [a, b, c] = await Promise.all([
      ChildNode.start('A', childConfig(chain, dirs[1], { baker: true })),
      ChildNode.start('B', childConfig(chain, dirs[2])),
      ChildNode.start('C', childConfig(chain, dirs[3]))
    ])
    nodes.push(a, b, c)
    await b.call({ cmd: 'dial', address: a.address }, 'dialled')
    await c.call({ cmd: 'dial', address: b.address }, 'dialled')

    const [op] = chain.builder.transfers([{ from: 4, to: 5, amount: 123_456n, fee: 2n }])
    const hash = b58Encode('operationHash', operationHash(op))
    const injected = await c.call({ cmd: 'inject', hex: toHex(encode(operationCodec, op)) }, 'injected')
    assert.equal(injected.hash, hash)
    // C announces it to B, which fetches, validates and announces it to A.
    await Promise.all([c, b, a].map(async n => await n.waitFor(e => e.event === 'operation' && e.hash === hash)))
    for (const n of [a, b, c]) assert.deepEqual((await n.dump()).mempool, [hash], `${n.name}'s mempool`)

    const baked = await a.call({ cmd: 'bake' }, 'baked')
    assert.equal(baked.operations, 1)
    await Promise.all([b, c].map(async n => { await n.headAt(PREFIX + 1) }))
    const expected = chain.accountsAt[PREFIX].map((acct, i) => i === 4
      ? { balance: (BigInt(acct.balance) - 123_456n - 2n).toString(), counter: (BigInt(acct.counter) + 1n).toString() }
      : i === 5 ? { balance: (BigInt(acct.balance) + 123_456n).toString(), counter: acct.counter } : acct)
    for (const n of [a, b, c]) {
      const d = await n.dump()
      assert.equal(d.level, PREFIX + 1)
      assert.equal(b58Encode('blockHash', Buffer.from(d.head as string, 'hex')), baked.hash)
      assert.deepEqual(d.headOperations, [hash], `${n.name}: the operation is in the head block`)
      assert.deepEqual(d.mempool, [], `${n.name}: and no longer in the mempool`)
      // The fee goes to the baker, who is not among the accounts: only 4 and 5 changed.
      assert.deepEqual(d.accounts, expected)
    }
  })
})
