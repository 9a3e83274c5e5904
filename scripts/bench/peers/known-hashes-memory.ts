/**
 * What the gossip service's per-peer "known hashes" caches cost once full, with a key string per
 * peer (plain `BoundedCache`, as before) and with keys shared through a `HashKeyPool`: `peers`
 * caches, each filled with the same `entries` hashes, keys made per peer with `toHex` as the
 * service makes them. Heap measured after full GCs.
 *
 *   node --expose-gc scripts/bench/peers/known-hashes-memory.ts [--peers 200] [--entries 9216]
 */
import { parseArgs } from 'node:util'
import { BoundedCache } from '../../../src/chain/cache.ts'
import { randomBytes } from '../../../src/crypto/index.ts'
import { toHex } from '../../../src/encoding/index.ts'
import { HashKeyPool, KnownHashes } from '../../../src/gossip/known-hashes.ts'

const { values } = parseArgs({ options: { peers: { type: 'string', default: '200' }, entries: { type: 'string', default: '9216' } } })
const PEERS = Number(values.peers)
const ENTRIES = Number(values.entries)
const gc = globalThis.gc
if (gc === undefined) throw new Error('run with --expose-gc')

const hashes = Array.from({ length: ENTRIES }, () => randomBytes(32))

function heapAfterGc (): number { gc!(); gc!(); return process.memoryUsage().heapUsed }

function measure (make: () => BoundedCache<string, true>): number {
  const before = heapAfterGc()
  const caches = Array.from({ length: PEERS }, make)
  for (const cache of caches) for (const h of hashes) cache.set(toHex(h), true)
  const after = heapAfterGc()
  if (caches.some(c => c.size !== ENTRIES)) throw new Error('a cache lost entries')
  return (after - before) / PEERS
}

const perPeerSeparate = measure(() => new BoundedCache<string, true>(ENTRIES))
const pool = new HashKeyPool(ENTRIES)
const perPeerShared = measure(() => new KnownHashes(ENTRIES, pool))
console.log(`${PEERS} peers × ${ENTRIES} known hashes: ${(perPeerSeparate / 1024).toFixed(0)} KiB per peer with a key per peer, ` +
  `${(perPeerShared / 1024).toFixed(0)} KiB per peer with shared keys (×${(perPeerSeparate / perPeerShared).toFixed(2)} less)`)
