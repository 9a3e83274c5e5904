import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  FAST_RECONNECTION, killAll, NodeProcess, smallNetworkLimits, startProcesses, type NodeStatus
} from './peers-harness.ts'
import { waitFor } from '../helpers/wait.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

/** Node processes: a private node among public ones, and a node restarted on its data dir. */

const keyOf = (address: string): string => address.split('/p2p/')[0]

describe('private mode across a network of processes', () => {
  const nodes: NodeProcess[] = []
  after(async () => { await killAll(nodes) })

  it('talks only to its trusted peer, and no other node ever learns its address', { timeout: 60_000 }, async () => {
    const options = { limits: smallNetworkLimits(), reconnection: FAST_RECONNECTION }
    const [sentry] = await startProcesses([options])
    nodes.push(sentry)
    const sentryAddress = (await sentry.ready).address
    const [hidden] = await startProcesses([{ ...options, privateMode: true, peers: [sentryAddress] }])
    nodes.push(hidden)
    const hiddenKey = keyOf((await hidden.ready).address)
    nodes.push(...await startProcesses(Array.from({ length: 5 }, () => ({ ...options, peers: [sentryAddress] }))))
    const publicNodes = nodes.filter(n => n !== hidden)
    const sentryId = (await sentry.ready).tezosPeerId

    // Several maintenance rounds, peer exchanges and swaps: at every look, nobody knows the private node's address.
    const leaks: string[] = []
    let statuses: NodeStatus[] = []
    await waitFor(async () => {
      statuses = await Promise.all(publicNodes.map(async n => await n.status()))
      statuses.forEach((s, i) => { if (s.points.some(p => p.key === hiddenKey)) leaks.push(`node ${i}`) })
      const h = await hidden.status()
      return h.connections === 1 && statuses.every(s => s.connections >= 2 && s.connections <= 6) &&
        statuses.every(s => s.maintenanceRuns >= 5)
    }, { what: 'the public nodes are within bounds and the private node is up', timeoutMs: 45_000, intervalMs: 250 })
    assert.deepEqual(leaks, [])
    const h = await hidden.status()
    assert.deepEqual(h.peers, [sentryId], 'connected to its trusted peer only')
    assert.deepEqual(h.points.map(p => p.key), [keyOf(sentryAddress)], 'it takes in no advertised point')
    // A public node that tries anyway is turned away: with a Nack (No_motive), or, when the private
    // node's close wins the race with the Nack on the wire, with the stream closed (Octez itself
    // closes a private-mode refusal without any Nack). Either way it never gets in.
    await assert.rejects(nodes[2].dial((await hidden.ready).address), /No_motive|rejected|closed during the handshake/)
    assert.deepEqual((await hidden.status()).peers, [sentryId], 'still connected to its trusted peer only')
  })
})

describe('a node restarted on its data dir', () => {
  const nodes: NodeProcess[] = []
  let dataDir = ''
  after(async () => {
    await killAll(nodes)
    if (dataDir !== '') await removeDir(dataDir)
  })

  it('keeps the points it knew and reconnects to them without being told', { timeout: 60_000 }, async () => {
    dataDir = await tempDir('restart')
    const options = { limits: smallNetworkLimits({ minConnections: 3, expectedConnections: 4 }), reconnection: FAST_RECONNECTION }
    const others = await startProcesses([options, options, options])
    nodes.push(...others)
    const seed = (await others[0].ready).address
    // The other two know the seed, so the restarted node can learn them only from it.
    for (const o of others.slice(1)) await o.dial(seed)
    const first = new NodeProcess({ ...options, dataDir, peers: [seed] })
    nodes.push(first)
    await first.ready
    const otherKeys = await Promise.all(others.map(async o => keyOf((await o.ready).address)))
    await waitFor(async () => (await first.status()).connections === 3, { what: 'connected to all three', timeoutMs: 45_000, intervalMs: 250 })
    assert.equal(await first.terminate(), 0, first.errors)

    // No --peer this time: everything it knows comes from the store.
    const second = new NodeProcess({ ...options, dataDir })
    nodes.push(second)
    await second.ready
    const status = await second.status()
    for (const key of otherKeys) assert.ok(status.points.some(p => p.key === key), `${key} survived the restart`)
    assert.ok(status.points.every(p => !p.trusted), 'trust comes from configuration, not from the store')
    await waitFor(async () => (await second.status()).connections === 3, { what: 'reconnected to all three', timeoutMs: 45_000, intervalMs: 250 })
  })
})
