/**
 * What the gossip service's record of "hashes known to each peer" costs once full: as a bounded
 * map per peer whose keys are shared through a pool (the design before `KnownHashTable`), and as
 * one `KnownHashTable` with a bit per peer and hash. `peers` peers each know the same `entries`
 * hashes, keys made with `toHex` as the service makes them. Heap measured after full GCs.
 *
 *   node --expose-gc scripts/bench/peers/known-hashes-memory.ts [--peers 200] [--entries 9216]
 */
import { parseArgs } from 'node:util'
import { BoundedCache } from '../../../src/chain/cache.ts'
import { randomBytes } from '../../../src/crypto/index.ts'
import { toHex } from '../../../src/encoding/index.ts'
import { KnownHashTable } from '../../../src/gossip/known-hashes.ts'

const { values } = parseArgs({ options: { peers: { type: 'string', default: '200' }, entries: { type: 'string', default: '9216' } } })
const PEERS = Number(values.peers)
const ENTRIES = Number(values.entries)
const gc = globalThis.gc
if (gc === undefined) throw new Error('run with --expose-gc')

const hashes = Array.from({ length: ENTRIES }, () => randomBytes(32))

function heapAfterGc (): number { gc!(); gc!(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers }

/** Per peer, bytes: `fill` builds every peer's record and returns something holding it all. */
function measure (fill: () => unknown): number {
  const before = heapAfterGc()
  const held = fill()
  const after = heapAfterGc()
  if (held === undefined) throw new Error('nothing held')
  return (after - before) / PEERS
}

const perPeerMaps = measure(() => {
  const pool = new BoundedCache<string, string>(ENTRIES)
  const intern = (key: string): string => { const k = pool.get(key); if (k !== undefined) return k; pool.set(key, key); return key }
  const caches = Array.from({ length: PEERS }, () => new BoundedCache<string, true>(ENTRIES))
  for (const cache of caches) for (const h of hashes) cache.set(intern(toHex(h)), true)
  if (caches.some(c => c.size !== ENTRIES)) throw new Error('a cache lost entries')
  return caches
})
const perPeerTable = measure(() => {
  const table = new KnownHashTable(ENTRIES)
  const peers = Array.from({ length: PEERS }, () => table.join())
  for (const peer of peers) for (const h of hashes) peer.set(toHex(h), true)
  if (!peers.every(p => hashes.every(h => p.has(toHex(h))))) throw new Error('the table lost entries')
  return peers
})
console.log(`${PEERS} peers × ${ENTRIES} known hashes: ${(perPeerMaps / 1024).toFixed(1)} KiB per peer with a map per peer (shared keys), ` +
  `${(perPeerTable / 1024).toFixed(1)} KiB per peer with one table (×${(perPeerMaps / perPeerTable).toFixed(0)} less)`)
