import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RequestCancelledError } from '../../src/gossip/requester.ts'
import { hashHeader, type HashedHeader } from '../../src/sync/checks.ts'
import { SyncClient } from '../../src/sync/client.ts'
import { Fetchers, isEmptyOperationsHash } from '../../src/sync/fetchers.ts'
import { operationsHashOfPasses } from '../../src/wire/merkle.ts'
import { syntheticChain } from './helpers.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * The fetchers over a real sync client whose one peer is never connected: every request that is
 * sent fails (and is retried), so what reaches the client shows whether a fetch asked the network.
 */
function fetchersWithUnreachablePeer (): { fetchers: Fetchers, client: SyncClient, errors: Error[], reports: string[] } {
  const client = new SyncClient({ chainId: new Uint8Array(4), peer: () => undefined })
  const errors: Error[] = []
  const reports: string[] = []
  const fetchers = new Fetchers({
    client,
    peers: () => ['unreachable'],
    report: (_, misbehaviour) => { reports.push(misbehaviour); return { misbehaviour, disconnected: false, greylisted: false, trusted: false } },
    onError: (_, e) => { errors.push(e) }
  })
  return { fetchers, client, errors, reports }
}

function withOperations (base: HashedHeader, validationPass: number, operationsHash: Uint8Array): HashedHeader {
  return hashHeader({ ...base.header, shell: { ...base.header.shell, validationPass, operationsHash } })
}

describe('block operations fetch', () => {
  const block = syntheticChain(1).headers[1]

  it('takes a block whose operations_hash is that of empty passes without asking any peer', async () => {
    const { fetchers, client, reports } = fetchersWithUnreachablePeer()
    try {
      assert.deepEqual(await fetchers.operationsOf(block), [[]])
      const threePasses = withOperations(block, 3, operationsHashOfPasses([[], [], []]))
      assert.deepEqual(await fetchers.operationsOf(threePasses), [[], [], []])
      assert.equal(fetchers.blockOperations.requestsSent, 0)
      assert.equal(client.stats.exchanges, 0)
      assert.deepEqual(reports, [])
    } finally {
      fetchers.stop()
    }
  })

  it('asks peers for a block with operations, or whose empty-looking hash is for another number of passes', async () => {
    const oneOperation = withOperations(block, 1, operationsHashOfPasses([[new Uint8Array(32).fill(7)]]))
    const passMismatch = withOperations(block, 2, operationsHashOfPasses([[]]))
    for (const header of [oneOperation, passMismatch]) {
      const { fetchers, errors, reports } = fetchersWithUnreachablePeer()
      const fetch = fetchers.operationsOf(header)
      try {
        await waitFor(() => fetchers.blockOperations.requestsSent > 0 && errors.length > 0, { what: 'a request for the operations' })
        assert.match(errors[0].message, /not connected/)
        assert.deepEqual(reports, [], 'a peer that is not connected is nobody at fault')
      } finally {
        fetchers.stop()
      }
      await assert.rejects(fetch, RequestCancelledError)
    }
  })

  it('recognises the empty operations_hash of a pass count, and not that of another count', () => {
    // (Not every other count: Octez's Merkle tree repeats the last leaf, so 3 empty passes hash as 4 do.)
    for (const passes of [0, 1, 4, 8]) {
      const empty = operationsHashOfPasses(Array.from({ length: passes }, () => []))
      assert.equal(isEmptyOperationsHash(empty, passes), true, `${passes} passes`)
      assert.equal(isEmptyOperationsHash(empty, passes + 1), false, `${passes} passes taken for ${passes + 1}`)
    }
    assert.equal(isEmptyOperationsHash(operationsHashOfPasses([[new Uint8Array(32)]]), 1), false)
  })
})
