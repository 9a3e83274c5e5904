import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/encoding/index.ts'
import { Requester } from '../../src/gossip/requester.ts'
import { InvalidBlockError } from '../../src/protocol/errors.ts'
import { BootstrapPipeline, PipelineAbortedError, type BootstrapPlan, type BootstrapProgress, type PipelineBlock } from '../../src/sync/bootstrap-pipeline.ts'
import { InvalidAnswerError, type HashedHeader } from '../../src/sync/checks.ts'
import { planFromLocator, type BlockStatus } from '../../src/sync/plan.ts'
import {
  ancestorChunkId, checkAncestorChunk, InvalidLocatorError, rangeStepFetcher, walkStepFetcher, type AncestorChunk
} from '../../src/sync/step-headers.ts'
import type { Operation } from '../../src/wire/operation.ts'
import { locatorOf, SEED, syntheticChain, type SyntheticChain } from './helpers.ts'
import { waitFor } from '../helpers/wait.ts'

/** We hold blocks 0..have of `chain`. */
function statusIn (chain: SyntheticChain, have: number) {
  return {
    status: (h: Uint8Array): Promise<BlockStatus> => Promise.resolve((chain.byHex.get(toHex(h))?.header.shell.level ?? Infinity) <= have ? 'valid' : 'unknown'),
    levelOf: (h: Uint8Array) => Promise.resolve(chain.byHex.get(toHex(h))?.header.shell.level)
  }
}

async function planFor (chain: SyntheticChain, have: number): Promise<BootstrapPlan> {
  const outcome = await planFromLocator({ peer: 'p1', locator: await locatorOf(chain), seed: SEED, ...statusIn(chain, have) })
  assert.equal(outcome.kind, 'plan')
  return (outcome as { plan: BootstrapPlan }).plan
}

/**
 * Peers serving the ancestors of `chain` through a real requester; `liar` answers the chunks at
 * offset ≥ 10 with another branch's (self-consistent) headers.
 */
function servedBy (chain: SyntheticChain, peers: string[], liar?: { peer: string, branch: SyntheticChain }) {
  const penalized: string[] = []
  const asked = new Map<string, number>()
  const requester = new Requester<AncestorChunk, HashedHeader[]>({
    name: 'ancestors',
    keyId: ancestorChunkId,
    maxKeysPerRequest: 1,
    peers: () => peers.filter(p => !penalized.includes(p)),
    onRequestError: (peer, err) => { if (err instanceof InvalidAnswerError) penalized.push(peer) },
    request: async (peer, [chunk]) => {
      asked.set(peer, (asked.get(peer) ?? 0) + 1)
      await new Promise(resolve => setImmediate(resolve))
      const source = liar?.peer === peer && chunk.first >= 10 ? liar.branch : chain
      const top = source === chain ? chain.byHex.get(toHex(chunk.top)) : liar?.branch.headers[chain.byHex.get(toHex(chunk.top))?.header.shell.level ?? -1]
      if (top === undefined) return new Map()
      const headers = Array.from({ length: chunk.count }, (_, i) => source.headers[top.header.shell.level - chunk.first - i])
      checkAncestorChunk(peer, chunk, headers)
      return new Map([[ancestorChunkId(chunk), headers]])
    }
  })
  const fetchStepHeaders = rangeStepFetcher({
    fetchChunk: async (chunk, exclude) => await requester.fetch(chunk, { exclude }),
    report: peer => {
      penalized.push(peer.tezosPeerId ?? '')
      return { misbehaviour: 'invalid-data', disconnected: false, greylisted: false, trusted: false }
    }
  })
  return { fetchStepHeaders, penalized, asked, requester }
}

const noOperations = (h: HashedHeader): Promise<Operation[][]> => Promise.resolve([[]].slice(0, h.header.shell.validationPass))

describe('bootstrap plan from a locator', () => {
  it('cuts the history at the first block we have and derives every step\'s top level and length', async () => {
    const chain = syntheticChain(1000)
    const plan = await planFor(chain, 0)
    assert.equal(plan.startLevel, 0)
    assert.equal(plan.targetLevel, 1000)
    let level = 0
    for (const step of plan.steps) {
      assert.equal(step.topLevel, level + step.count, 'steps are contiguous, oldest first')
      assert.equal(chain.headers[step.topLevel].hex, toHex(step.top))
      assert.equal(chain.headers[step.topLevel - step.count].hex, toHex(step.predecessor))
      level = step.topLevel
    }
    assert.equal(level, 1000)
  })

  it('starts at our block when we have part of the branch', async () => {
    const chain = syntheticChain(300)
    const plan = await planFor(chain, 250)
    assert.ok(plan.startLevel <= 250 && plan.startLevel > 200, `starts at a locator entry at or below our head: ${plan.startLevel}`)
  })

  it('reports a head we have, and a branch with nothing of ours', async () => {
    const chain = syntheticChain(50)
    assert.equal((await planFromLocator({ peer: 'p', locator: await locatorOf(chain), seed: SEED, ...statusIn(chain, 50) })).kind, 'known')
    const none = { status: (): Promise<BlockStatus> => Promise.resolve('unknown'), levelOf: () => Promise.resolve(undefined) }
    assert.equal((await planFromLocator({ peer: 'p', locator: await locatorOf(chain), seed: SEED, ...none })).kind, 'unknown-ancestor')
  })

  it('refuses a locator naming a block known to be invalid', async () => {
    const chain = syntheticChain(50)
    const locator = await locatorOf(chain)
    const bad = toHex(locator.history[3])
    await assert.rejects(planFromLocator({
      peer: 'p', locator, seed: SEED,
      status: h => Promise.resolve(toHex(h) === bad ? 'invalid' : 'unknown'),
      levelOf: () => Promise.resolve(undefined)
    }), InvalidLocatorError)
  })
})

describe('bootstrap pipeline (injected fetchers, no sockets)', () => {
  it('fetches steps from several peers and applies every block strictly oldest first, reporting progress', async () => {
    const chain = syntheticChain(1500)
    const plan = await planFor(chain, 0)
    const { fetchStepHeaders, asked, requester } = servedBy(chain, ['p1', 'p2', 'p3'])
    const applied: number[] = []
    const progress: BootstrapProgress[] = []
    let inFlight = 0
    let maxInFlight = 0
    const pipeline = new BootstrapPipeline(plan, {
      fetchStepHeaders,
      fetchOperations: async h => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        // Answers come back out of order.
        await new Promise(resolve => setTimeout(resolve, h.header.shell.level % 3))
        inFlight--
        return await noOperations(h)
      },
      apply: (blocks: PipelineBlock[]) => { for (const b of blocks) applied.push(b.header.header.shell.level); return Promise.resolve() },
      onProgress: p => { progress.push(p) }
    }, { blocksAhead: 64 })
    const result = await pipeline.run()
    requester.stop()
    assert.deepEqual(applied, Array.from({ length: 1500 }, (_, i) => i + 1))
    assert.equal(result.level, 1500)
    assert.equal(result.applied, 1500)
    // The queue holds `blocksAhead` blocks; one more is being applied.
    assert.ok(maxInFlight <= 64 + 1, `operations fetched at most blocksAhead ahead: ${maxInFlight}`)
    assert.equal(asked.size, 3, 'every peer served chunks')
    const last = progress[progress.length - 1]
    assert.equal(last.level, 1500)
    assert.equal(last.targetLevel, 1500)
    assert.ok(last.levelsPerSecond > 0)
    assert.equal(last.etaSeconds, 0)
  })

  it('an abort ends run() at once, even while a stage waits on a fetch that never returns (the branch\'s peer was greylisted)', async () => {
    const chain = syntheticChain(300)
    const plan = await planFor(chain, 0)
    const { fetchStepHeaders, requester } = servedBy(chain, ['p1'])
    const applied: number[] = []
    let fetches = 0
    const pipeline = new BootstrapPipeline(plan, {
      fetchStepHeaders,
      // Operations of level 50 and above never come (their only source is gone).
      fetchOperations: async h => {
        fetches++
        if (h.header.shell.level >= 50) return await new Promise<Operation[][]>(() => {})
        return await noOperations(h)
      },
      apply: (blocks: PipelineBlock[]) => { for (const b of blocks) applied.push(b.header.header.shell.level); return Promise.resolve() }
    }, { blocksAhead: 16 })
    const running = pipeline.run()
    // Wait until the pipeline is stuck on level 50's operations.
    await waitFor(() => applied[applied.length - 1] === 49 && fetches >= 51, { what: 'the pipeline stuck on level 50', intervalMs: 5 })
    pipeline.abort(new PipelineAbortedError('peer p1 is gone'))
    await assert.rejects(running, { name: 'PipelineAbortedError', message: 'peer p1 is gone' })
    requester.stop()
    assert.deepEqual(applied, Array.from({ length: 49 }, (_, i) => i + 1), 'what was applied stays; nothing after')
    assert.equal(pipeline.peer, plan.peer)
  })

  it('greylists a peer whose chunk does not continue the chain and takes the chunk from another', async () => {
    const chain = syntheticChain(400)
    const other = syntheticChain(400, { from: chain, fromLevel: 0, variant: 'fork' })
    const plan = await planFor(chain, 0)
    const { fetchStepHeaders, penalized, requester } = servedBy(chain, ['liar', 'p2'], { peer: 'liar', branch: other })
    const applied: string[] = []
    await new BootstrapPipeline(plan, {
      fetchStepHeaders,
      fetchOperations: noOperations,
      apply: blocks => { for (const b of blocks) applied.push(b.header.hex); return Promise.resolve() }
    }).run()
    requester.stop()
    assert.ok(penalized.includes('liar'))
    assert.ok(!penalized.includes('p2'))
    assert.deepEqual(applied, chain.headers.slice(1).map(h => h.hex), 'only the real chain was applied')
  })

  it('stops on an invalid block: nothing after it is applied, and the error is the block\'s', async () => {
    const chain = syntheticChain(600)
    const plan = await planFor(chain, 0)
    const { fetchStepHeaders, requester } = servedBy(chain, ['p1', 'p2'])
    const applied: number[] = []
    const refusal = new InvalidBlockError('refused', 'block 321 is invalid')
    const run = new BootstrapPipeline(plan, {
      fetchStepHeaders,
      fetchOperations: noOperations,
      apply: blocks => {
        for (const b of blocks) {
          if (b.header.header.shell.level === 321) return Promise.reject(refusal)
          applied.push(b.header.header.shell.level)
        }
        return Promise.resolve()
      }
    }, { maxRun: 50 }).run()
    await assert.rejects(run, err => err === refusal)
    requester.stop()
    assert.deepEqual(applied, Array.from({ length: 320 }, (_, i) => i + 1))
  })

  it('blames the locator when its steps do not lead where it says (a wrongly seeded locator)', async () => {
    const chain = syntheticChain(300)
    // Built for another recipient: the receiver replays other step lengths than the sender used.
    const locator = await locatorOf(chain, { senderId: new Uint8Array(16).fill(7), receiverId: new Uint8Array(16).fill(8) })
    const outcome = await planFromLocator({ peer: 'p1', locator, seed: SEED, ...statusIn(chain, 0) }).catch((e: Error) => e)
    if (outcome instanceof Error) {
      assert.ok(outcome instanceof InvalidLocatorError)
      return
    }
    assert.equal(outcome.kind, 'plan')
    const { fetchStepHeaders, requester } = servedBy(chain, ['p1'])
    const run = new BootstrapPipeline((outcome as { plan: BootstrapPlan }).plan, { fetchStepHeaders, fetchOperations: noOperations, apply: async () => {} }).run()
    await assert.rejects(run, InvalidLocatorError)
    requester.stop()
  })

  it('walks a step header by header the Octez way, with the same result', async () => {
    const chain = syntheticChain(200)
    const plan = await planFor(chain, 0)
    let fetched = 0
    const fetchStepHeaders = walkStepFetcher({
      fetchHeader: hash => { fetched++; return Promise.resolve({ value: chain.byHex.get(toHex(hash)) as HashedHeader, peer: 'p1' }) }
    })
    const applied: number[] = []
    await new BootstrapPipeline(plan, { fetchStepHeaders, fetchOperations: noOperations, apply: blocks => { for (const b of blocks) applied.push(b.header.header.shell.level); return Promise.resolve() } }).run()
    assert.equal(fetched, 200)
    assert.deepEqual(applied, Array.from({ length: 200 }, (_, i) => i + 1))
  })

  it('prechecks every block before applying it, in batches, and applies blocks whose precheck failed all the same', async () => {
    const chain = syntheticChain(700)
    const plan = await planFor(chain, 0)
    const { fetchStepHeaders, requester } = servedBy(chain, ['p1', 'p2'])
    const prechecked = new Set<number>()
    const batches: number[] = []
    const applied: number[] = []
    let failures = 0
    const result = await new BootstrapPipeline(plan, {
      fetchStepHeaders,
      fetchOperations: async h => {
        await new Promise(resolve => setTimeout(resolve, h.header.shell.level % 3))
        return await noOperations(h)
      },
      precheck: async blocks => {
        batches.push(blocks.length)
        await new Promise(resolve => setImmediate(resolve))
        for (const b of blocks) prechecked.add(b.header.header.shell.level)
        // A precheck that fails is no verdict: the application checks those blocks itself.
        if (batches.length % 3 === 0) { failures++; throw new Error('verification pool broken') }
      },
      apply: blocks => {
        for (const b of blocks) {
          assert.ok(prechecked.has(b.header.header.shell.level), `block ${b.header.header.shell.level} applied before its precheck settled`)
          applied.push(b.header.header.shell.level)
        }
        return Promise.resolve()
      }
    }, { precheckBatch: 50 }).run()
    requester.stop()
    assert.equal(result.level, 700)
    assert.deepEqual(applied, Array.from({ length: 700 }, (_, i) => i + 1))
    assert.ok(failures > 0)
    assert.equal(batches.reduce((n, x) => n + x, 0), 700, 'each block prechecked once')
    assert.ok(batches.every(n => n <= 50), `batches of at most precheckBatch blocks: ${batches.join(', ')}`)
    assert.ok(batches.length < 700 / 2, `blocks prechecked together: ${batches.length} batches`)
  })

  it('skips the blocks of a step it already has', async () => {
    const chain = syntheticChain(300)
    const plan = await planFor(chain, 280)
    const { fetchStepHeaders, requester } = servedBy(chain, ['p1'])
    const operationsOf: number[] = []
    await new BootstrapPipeline(plan, {
      fetchStepHeaders,
      fetchOperations: async h => { operationsOf.push(h.header.shell.level); return await noOperations(h) },
      isKnown: h => Promise.resolve(h.header.shell.level <= 280),
      apply: async () => {}
    }).run()
    requester.stop()
    assert.deepEqual(operationsOf, Array.from({ length: 20 }, (_, i) => 281 + i))
  })
})
