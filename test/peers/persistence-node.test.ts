import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ClassicLevel } from 'classic-level'
import { createNode } from '../../src/node/create-node.ts'
import { PeerStoreRecordError } from '../../src/peers/peer-store-db.ts'
import { databasePath, ForeignDatabaseError, openDatabase, sublevel } from '../../src/storage/database.ts'
import { startNode, stopAll, TEST_CHAIN } from '../helpers/node.ts'
import { connect, hostPortOf, pointKeyOf } from './managed-helpers.ts'
import { withTempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

/** The peer state in the node's store (`<data dir>/store`, sublevel `peers`) across restarts. */

async function nodeOn (dataDir: string, extra: Record<string, unknown> = {}): ReturnType<typeof createNode> {
  return await createNode({
    dataDir,
    chainName: TEST_CHAIN,
    expectedPow: 0,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    reconnection: { initialDelayMs: 60_000, disconnectionDelayMs: 200 },
    limits: { maintenanceIdleTimeMs: 60_000, timeBetweenLookingForPeersMs: 200, minConnections: 1, expectedConnections: 2, maxConnections: 4 },
    ...extra
  })
}

describe('peer state across restarts', () => {
  it('known points with their failures, bans, greylist entries and scores come back', async () => {
    await withTempDir('cm', async dir => {
      const b = await startNode()
      const stopLater: Array<{ stop: () => Promise<void> }> = [b]
      const gone = await startNode()
      const deadPoint = hostPortOf(gone)
      const deadKey = pointKeyOf(gone)
      await gone.stop()
      try {
        const first = await nodeOn(dir, { peers: [deadPoint] })
        await first.start()
        stopLater.push(first)
        await connect(first, b)
        // The trusted point is down: maintenance fails to dial it and records the failure.
        await waitFor(() => first.pointBook?.get(deadKey)?.lastFailedConnection !== undefined, { what: 'the dead point failed' })
        first.connectionManager?.ban('192.0.2.66', 'spam')
        first.greylist.greylistIp('198.51.100.7', 'test')
        first.report({ tezosPeerId: b.identity.peerId }, 'useless-answer', 'test')
        const failedAt = first.pointBook?.get(deadKey)?.lastFailedConnection
        await first.stop()

        // Restarted without --peer: what it knew is still there, trust is not (it comes from configuration).
        const second = await nodeOn(dir)
        await second.start()
        try {
          const dead = second.pointBook?.get(deadKey)
          assert.equal(dead?.lastFailedConnection, failedAt)
          assert.ok(dead?.reconnection !== undefined)
          assert.equal(dead?.trusted, false)
          const known = second.pointBook?.get(pointKeyOf(b))
          assert.equal(known?.knownPublic, true)
          assert.equal(known?.lastEstablishedConnection?.peerId, b.identity.peerId)
          assert.ok(second.banList.isBanned('192.0.2.66'))
          assert.ok(second.greylist.isGreylisted('198.51.100.7'))
          assert.ok(second.scores.score(b.identity.peerId) < 0)
          // And it uses them: maintenance reconnects to the known point by itself.
          await waitFor(() => second.peers.get(b.identity.peerId) !== undefined, { what: 'reconnected to the known peer' })
        } finally {
          await second.stop()
        }
      } finally {
        await stopAll(...stopLater)
      }
    })
  })

  it('a corrupted record stops the start with an error naming it; a foreign store is refused', async () => {
    await withTempDir('cm', async dir => {
      const first = await nodeOn(dir)
      await first.start()
      await first.stop()
      const db = await openDatabase(dir, { chainName: TEST_CHAIN })
      await sublevel(db, 'peers').put('point:/ip4/10.0.0.1/tcp/9732', new TextEncoder().encode('{"v":1,"key":'))
      await db.close()
      const second = await nodeOn(dir)
      await assert.rejects(second.start(), (err: Error) => err instanceof PeerStoreRecordError && err.key === 'point:/ip4/10.0.0.1/tcp/9732' &&
        /cannot be read/.test(err.message))
      await second.stop()
    })
    await withTempDir('cm', async dir => {
      // A LevelDB written by something else.
      const other = new ClassicLevel(databasePath(dir))
      await other.put('hello', 'world')
      await other.close()
      await assert.rejects(nodeOn(dir), ForeignDatabaseError)
    })
  })
})
