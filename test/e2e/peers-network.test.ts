import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { waitFor } from '../helpers/wait.ts'
import { FAST_RECONNECTION, killAll, smallNetworkLimits, startProcesses, type NodeProcess, type NodeStatus } from './peers-harness.ts'

/**
 * Twelve nodes, each in its own process, each wanting 2 to 6 connections (`--connections 4`). One
 * seed; the eleven others are told only the seed's address. Maintenance, the Nack point lists and
 * peer exchange must spread them into a network where every node is within its bounds; killing
 * half of them (the seed included) must leave the rest to find each other again.
 */
const MIN = 2
const MAX = 6
const COUNT = 12

const within = (s: NodeStatus): boolean => s.connections >= MIN && s.connections <= MAX

/** Each node's counts, for a failure message: `#3 7 (in 4, out 3; 9 points, 2 greylisted, 41 passes)`. */
const describeAll = (statuses: NodeStatus[]): string => statuses.map((s, i) =>
  `#${i} ${s.connections} (in ${s.inbound}, out ${s.outbound}; ${s.points.length} points, ${s.greylist.length} greylisted, ${s.maintenanceRuns} passes)`).join(', ')

describe('a 12-node network from a single seed', () => {
  const nodes: NodeProcess[] = []
  after(async () => { await killAll(nodes) })

  it('converges within bounds, and recovers within bounds after half the nodes die', { timeout: 110_000 }, async () => {
    const options = { limits: smallNetworkLimits(), reconnection: FAST_RECONNECTION }
    const [seed] = await startProcesses([options])
    nodes.push(seed)
    const seedAddress = (await seed.ready).address
    nodes.push(...await startProcesses(Array.from({ length: COUNT - 1 }, () => ({ ...options, peers: [seedAddress] }))))

    let statuses: NodeStatus[] = []
    await waitFor(async () => {
      statuses = await Promise.all(nodes.map(async n => await n.status()))
      return statuses.every(within)
    }, { what: () => `every node has 2..6 connections; last seen ${describeAll(statuses)}`, timeoutMs: 60_000, intervalMs: 250 })
    for (const [i, s] of statuses.entries()) {
      assert.ok(within(s), `node ${i}: ${s.connections} connections`)
      // The seed was the only address each was given: reaching 2 connections means it found others.
      if (i > 0) assert.ok(s.points.length > 1, `node ${i} learnt points beyond the seed`)
      assert.ok(s.inbound <= MAX && s.outbound <= MAX)
    }
    // The seed is trusted by everyone; nobody has it more than once, and no node is connected to itself.
    const ids = await Promise.all(nodes.map(async n => (await n.ready).tezosPeerId))
    for (const [i, s] of statuses.entries()) {
      assert.equal(new Set(s.peers).size, s.peers.length)
      assert.ok(!s.peers.includes(ids[i]))
    }

    // Kill half, seed first: no goodbye, the kernel resets their sockets.
    const dead = nodes.slice(0, COUNT / 2)
    const alive = nodes.slice(COUNT / 2)
    const deadIds = new Set(ids.slice(0, COUNT / 2))
    const lost = statuses.slice(COUNT / 2).reduce((n, s) => n + s.peers.filter(p => deadIds.has(p)).length, 0)
    assert.ok(lost > 0, 'the survivors lose connections')
    await Promise.all(dead.map(async n => { await n.kill() }))

    await waitFor(async () => {
      statuses = await Promise.all(alive.map(async n => await n.status()))
      return statuses.every(s => within(s) && s.peers.every(p => !deadIds.has(p)))
    }, { what: () => `the survivors are back within 2..6 connections, all to live nodes; last seen ${describeAll(statuses)}`, timeoutMs: 60_000, intervalMs: 250 })
    for (const s of statuses) assert.ok(within(s))
  })
})
