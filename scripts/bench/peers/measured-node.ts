/**
 * The node whose memory `npm run bench:peers` measures, in its own process (run with
 * `--expose-gc`): a tzp2p node with the demo chain, a baker producing a head every
 * `bakeIntervalMs`, `opsPerHead` signed transfers injected after each head (so every head carries
 * operations and the mempool is announced between heads), and connection limits raised so that
 * every peer of the benchmark is accepted.
 *
 *   node --expose-gc scripts/bench/peers/measured-node.ts '<json MeasuredNodeConfig>'
 *
 * Requests (JSON lines, see json-lines.ts): `memory` (after a full GC when `gc` is true, after
 * V8's memory-pressure GC, which also returns its pooled pages, when `gc` is 'last-resort') and
 * `heapSnapshot` (writes a V8 heap snapshot to `path`).
 */
// First, as the `tzp2p` launcher does: the process-wide memory settings (young generation,
// buffer pool, V8's memory saver mode) before anything else loads.
import '../../../src/node/memory-settings.ts'
import { readFileSync } from 'node:fs'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { pino } from 'pino'
import { encode } from '../../../src/encoding/index.ts'
import { createNode } from '../../../src/node/create-node.ts'
import { readAccount, signTransfer } from '../../../src/protocol/demo/index.ts'
import { operationCodec } from '../../../src/wire/operation.ts'
import { serveJsonLines } from './json-lines.ts'
import { BENCH_NETWORK, benchDemoSetup, type MeasuredNodeConfig, type MemorySample } from './shared.ts'

const config = JSON.parse(process.argv[2]) as MeasuredNodeConfig
const setup = benchDemoSetup(config.chain, 1)

const node = await createNode({
  dataDir: config.dataDir,
  expectedPow: 0,
  chainName: BENCH_NETWORK,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  // Every peer of the benchmark dials us from 127.0.0.1, in bursts.
  inboundConnectionsPerIpPerSecond: 1_000_000,
  maxIncomingPendingConnections: 64,
  disablePeerDiscovery: true,
  ...(config.logFile === undefined ? {} : { logger: pino({ level: 'info' }, pino.destination(config.logFile)) }),
  limits: {
    minConnections: 1,
    expectedConnections: config.maxPeers,
    // Octez's maintenance stops accepting a third of the way from max down to expected: keep
    // max far enough above expected that all `maxPeers` fit under that threshold.
    maxConnections: config.maxPeers + Math.ceil(config.maxPeers / 4) + 3,
    maxKnownPoints: { max: 4 * config.maxPeers + 100, target: 2 * config.maxPeers + 100 },
    maxKnownPeerIds: { max: 4 * config.maxPeers + 100, target: 2 * config.maxPeers + 100 },
    // No maintenance: the peers come to us; the node neither prunes nor dials.
    maintenanceIdleTimeMs: null
  },
  chain: {
    protocol: setup.protocol,
    genesis: setup.genesis,
    synchronisation: { threshold: 0 },
    baker: { key: setup.baker.secretKey, intervalMs: config.bakeIntervalMs }
  }
})
const chain = node.chain
if (chain === undefined) throw new Error('the node has no chain')

/** Transfers from accounts in rotation, so an account is reused only long after its last one was baked. */
let nextAccount = 0
let injected = 0
let refused = 0
async function injectTransfers (): Promise<void> {
  const head = chain!.head
  for (let i = 0; i < config.opsPerHead; i++) {
    const from = setup.accounts[nextAccount]
    const to = setup.accounts[(nextAccount + 1) % setup.accounts.length]
    nextAccount = (nextAccount + 1) % setup.accounts.length
    const account = await readAccount(chain!.state, from.publicKeyHash)
    const data = signTransfer(head.hash, {
      publicKey: from.publicKey, destination: to.publicKeyHash, amount: 1n, fee: 0n, counter: (account?.counter ?? 0n) + 1n
    }, from.secretKey)
    const result = await node.inject(encode(operationCodec, { branch: head.hash, data })).catch(() => undefined)
    if (result !== undefined && result.status === 'added') injected++
    else refused++
  }
}
node.events.on('head', () => { injectTransfers().catch(() => { refused++ }) })

let disconnections = 0
let penalties = 0
node.events.on('peer:disconnected', () => { disconnections++ })
node.events.on('peer:penalized', () => { penalties++ })

/** Resident anonymous and file-backed memory (Linux /proc/self/status; 0 elsewhere), bytes. */
function residentKinds (): { rssAnon: number, rssFile: number } {
  let status = ''
  try { status = readFileSync('/proc/self/status', 'latin1') } catch { return { rssAnon: 0, rssFile: 0 } }
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
  return { rssAnon: kib('RssAnon'), rssFile: kib('RssFile') }
}

/**
 * Resident anonymous memory by kind of mapping (Linux /proc/self/smaps; zeros elsewhere), bytes:
 * V8's heap pages (read-write anonymous mappings of exactly V8's 256 KiB page), glibc's main
 * malloc heap (`[heap]`), glibc's other arenas (a read-write mapping followed by its unused
 * reserve, 64 MiB together: glibc's HEAP_MAX_SIZE on 64-bit), executable ones (V8's compiled
 * code), and every other anonymous mapping (V8's large objects, thread stacks, malloc blocks
 * mapped on their own).
 */
function residentByMapping (): MemorySample['residentByMapping'] {
  const out = { v8Pages: 0, v8Code: 0, mallocMain: 0, mallocArenas: 0, otherAnon: 0 }
  let smaps: string
  try { smaps = readFileSync('/proc/self/smaps', 'latin1') } catch { return out }
  const maps: Array<{ start: number, end: number, perms: string, name: string, rss: number }> = []
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (header !== null) maps.push({ start: parseInt(header[1], 16), end: parseInt(header[2], 16), perms: header[3], name: header[4].trim(), rss: 0 })
    else if (line.startsWith('Rss:') && maps.length > 0) maps[maps.length - 1].rss = Number(/(\d+) kB/.exec(line)?.[1] ?? 0) * 1024
  }
  maps.forEach((m, i) => {
    if (m.name === '[heap]') { out.mallocMain += m.rss; return }
    if (m.name !== '') return
    const next = maps[i + 1]
    if (m.perms.includes('x')) out.v8Code += m.rss
    else if (m.perms.startsWith('rw-') && m.end - m.start === 256 * 1024) out.v8Pages += m.rss
    else if (m.perms.startsWith('rw-') && next !== undefined && next.name === '' && next.start === m.end && next.perms.startsWith('---') && next.end - m.start === 64 * 1024 * 1024) out.mallocArenas += m.rss
    else out.otherAnon += m.rss
  })
  return out
}

/** Open streams over all connections, by protocol: what each peer holds open. */
function streamsByProtocol (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const c of node.libp2p.getConnections()) for (const s of c.streams) counts[s.protocol ?? '(unnegotiated)'] = (counts[s.protocol ?? '(unnegotiated)'] ?? 0) + 1
  return counts
}

/** `gc()`'s options (V8's gc extension); its declared type takes none. */
function lastResortGc (): void {
  (globalThis.gc as unknown as (options: { type: 'major', execution: 'sync', flavor: 'last-resort' }) => void)({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}

async function memory (): Promise<MemorySample> {
  const m = process.memoryUsage()
  const cpu = process.cpuUsage()
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    ...residentKinds(),
    residentByMapping: residentByMapping(),
    heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map(s => [s.space_name, { used: s.space_used_size, committed: s.physical_space_size }])),
    peers: node.peers.size,
    connections: node.libp2p.getConnections().length,
    streams: streamsByProtocol(),
    level: chain!.head.header.shell.level,
    mempool: node.mempool?.hashes().length ?? 0,
    injected,
    refused,
    cpuMs: (cpu.user + cpu.system) / 1000,
    disconnections,
    penalties,
    knownPoints: node.pointBook?.size ?? 0,
    peerStorePeers: (await node.libp2p.peerStore.all()).length
  }
}

await node.start()
serveJsonLines(
  { address: node.getMultiaddrs()[0].toString(), level: chain.head.header.shell.level },
  async request => {
    switch (request.cmd) {
      case 'memory':
        // Twice: the first pass runs finalizers that free more on the second.
        if (request.gc === true && globalThis.gc !== undefined) { globalThis.gc(); globalThis.gc() }
        // The GC V8 runs under memory pressure: it also returns the heap pages V8 keeps pooled
        // for reuse, which a forced GC keeps (docs/profiles.md).
        if (request.gc === 'last-resort' && globalThis.gc !== undefined) lastResortGc()
        return { memory: await memory() }
      case 'heapSnapshot':
        return { path: writeHeapSnapshot(request.path as string) }
      default:
        throw new Error(`unknown command ${String(request.cmd)}`)
    }
  },
  async () => { await node.stop() }
)
