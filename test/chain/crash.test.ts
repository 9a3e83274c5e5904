import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { toHex } from '../../src/encoding/index.ts'
import { seededRandom } from '../helpers/seeded-random.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { DemoChainBuilder, demoSetup } from '../helpers/demo-chain.ts'
import { dumpState, openChain } from './helpers.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const CHILD = fileURLToPath(new URL('./fixtures/apply-child.ts', import.meta.url))
const TOTAL = 600
const KILLS = 10
const KILL_SEED = 424242
/** No kill is aimed above this level, so a fast machine cannot finish the chain before a kill lands. */
const LAST_KILL_LEVEL = TOTAL - 100

/**
 * Runs the child until it reports a level ≥ `killAt`, then SIGKILLs it `delayMs` later, in the
 * middle of its next run of blocks (or lets it finish). `killed` is true only when the signal
 * reached a running child: a fast child may finish the chain inside the delay.
 */
async function runChild (dir: string, killAt: number | undefined, delayMs = 0): Promise<{ killed: boolean, lastReported: number }> {
  const child = spawn(process.execPath, [CHILD, dir, String(TOTAL)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let lastReported = -1
  let buffered = ''
  let killRequested = false
  let killed = false
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const m = /^(applied|resumed) (\d+)$/.exec(buffered.slice(0, nl))
      buffered = buffered.slice(nl + 1)
      if (m === null) continue
      lastReported = Number(m[2])
      if (m[1] === 'applied' && killAt !== undefined && lastReported >= killAt && !killRequested) {
        killRequested = true
        setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) killed = child.kill('SIGKILL')
        }, delayMs)
      }
    }
  })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  if (!killed) assert.equal(code, 0, 'the child finished cleanly')
  return { killed, lastReported }
}

test('SIGKILL while applying blocks never leaves a half-applied block; restarts resume from the stored head', { timeout: 300_000 }, async () => {
  const setup = demoSetup({ name: 'crash', accounts: 10, validationPasses: 2, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const snapshots: Array<Map<string, string>> = [builder.stateSnapshot()]
  const blocks = []
  for (let i = 0; i < TOTAL; i++) {
    blocks.push(...await builder.grow(1, 3))
    snapshots.push(builder.stateSnapshot())
  }
  const dir = await tempDir('chain')
  try {
    let previousHead = 0
    let kills = 0
    // Ten kills at seeded random moments (a random level above the stored head, then a random
    // 0–24 ms into the next run of blocks), then a run to the end. Each kill level is drawn from
    // what is left between the stored head and LAST_KILL_LEVEL, so the kills stay spread out
    // however far a run gets before its kill lands.
    const random = seededRandom(KILL_SEED)
    for (let run = 0; ; run++) {
      const left = KILLS - kills
      const room = LAST_KILL_LEVEL - previousHead
      const killAt = left > 0 && room > 0 ? previousHead + 1 + Math.floor(random() * room / left) : undefined
      const delayMs = Math.floor(random() * 25)
      const child = await runChild(dir, killAt, delayMs)
      if (child.killed) kills++
      const node = await openChain(dir, setup)
      const head = node.chain.head.header.shell.level
      assert.ok(head >= previousHead, 'the head never goes back')
      assert.ok(head >= child.lastReported && head <= TOTAL)
      if (!child.killed) assert.equal(head, TOTAL, 'a run that was not killed finishes the chain')
      // The head is a block of the chain, and every level below it is complete.
      assert.equal(node.chain.head.hex, toHex(blockHash(blocks[head - 1].header)))
      for (let level = 1; level <= head; level++) {
        const hash = blockHash(blocks[level - 1].header)
        assert.equal((await node.chain.getBlockByLevel(level))?.hex, toHex(hash), `level ${level}`)
        assert.equal((await node.chain.getOperationListHashes(hash))?.length, 2)
        for (let pass = 0; pass < 2; pass++) {
          assert.equal((await node.chain.getOperations(hash, pass))?.length, blocks[level - 1].operations[pass].length)
        }
        assert.ok(await node.chain.store.getUndo(toHex(hash)) !== undefined, `undo record of level ${level}`)
      }
      assert.equal(await node.chain.store.levelLevel.get((head + 1).toString(16).padStart(8, '0')), undefined)
      // Every stored header has its record and operations (no block is half written).
      for await (const hex of node.chain.store.headerLevel.keys()) {
        const record = await node.chain.store.getBlockRecord(hex)
        assert.ok(record !== undefined, `record of ${hex}`)
        for (let pass = 0; pass < record.listHashes.length; pass++) assert.ok(await node.chain.store.getEncodedOperations(hex, pass) !== undefined)
      }
      // The state is exactly the state after `head` blocks.
      assert.deepEqual(await dumpState(node.chain), snapshots[head])
      await node.close()
      previousHead = head
      if (!child.killed) break
      assert.ok(run < 4 * KILLS, 'the kills end')
    }
    // A machine fast enough to outrun several kill delays still gets most of its kills.
    assert.ok(kills >= KILLS / 2, `the child was killed mid-run ${kills} times`)
  } finally {
    await removeDir(dir)
  }
})
