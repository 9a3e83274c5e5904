/**
 * Octez-wire benchmark: blocks/s of a fresh node following the same generated demo chain from the
 * same peer processes (default 4, each holding 3 000 blocks × 2 transfers), in one run:
 *
 *   (libp2p) the follower dials the peers over libp2p (TCP, Noise, yamux, the Tezos handshake,
 *            /tzp2p/gossip and /tzp2p/sync; headers in ranges from every peer);
 *   (octez)  a second fresh follower dials the same peers on Octez's raw-TCP wire (`--octez-peer`:
 *            one encrypted connection per peer, answers matched by key; headers walked with
 *            Get_block_headers, as Octez does).
 *
 * Each follower is a new node with an empty store. The runs alternate (libp2p, octez, octez,
 * libp2p, …) over `--rounds` rounds so neither wire gets the peers warmed up by the other; the
 * best run of each wire is kept. Prints both rates, octez/libp2p, and each against a local import
 * of the same blocks in the same run (`bench:sync`'s reference: the blocks handed to the chain in
 * memory, after a warm-up).
 *
 *   node scripts/bench/octez-wire.ts [--blocks N] [--transfers K] [--peers P] [--rounds R] [--json file]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../src/node/create-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { parseScriptArgs } from '../script-args.ts'
import { writeBenchJson } from './results.ts'
import { generateBenchChain, importBenchChain, seedBenchStore } from './support/import-bench.ts'
import { readyLineOf, stopPeerProcesses } from './support/peer-processes.ts'

const { values } = parseScriptArgs({
  command: 'npm run bench:octez-wire --',
  summary: 'Blocks/s of a node following a chain from the same peer processes over the Octez wire and over libp2p, with the ratio.',
  options: {
    blocks: { type: 'string', default: '3000', placeholder: 'N', description: 'blocks of the generated chain' },
    transfers: { type: 'string', default: '2', placeholder: 'K', description: 'signed transfers per block' },
    peers: { type: 'string', default: '4', placeholder: 'P', description: 'peer processes holding the chain' },
    rounds: { type: 'string', default: '2', placeholder: 'R', description: 'runs of each wire (alternating); the best is kept' },
    json: { type: 'string', placeholder: 'file', description: 'also write the result as JSON there' }
  }
})
const BLOCKS = Number(values.blocks)
const TRANSFERS = Number(values.transfers)
const PEERS = Number(values.peers)
const ROUNDS = Math.max(1, Number(values.rounds))
const NETWORK = 'TZP2P_BENCH'
const NODE = join(process.cwd(), 'node_modules', '.bin', 'node')
const CHILD = join(import.meta.dirname, '..', '..', 'test', 'e2e', 'chain-child.ts')

const t = performance.now()
const chain = await generateBenchChain({ blocks: BLOCKS, transfersPerBlock: TRANSFERS })
console.log(`generated ${BLOCKS} blocks × ${TRANSFERS} transfers in ${((performance.now() - t) / 1000).toFixed(1)} s`)

// The reference: a local import of the same blocks, after a short untimed warm-up.
await importBenchChain({ ...chain, blocks: chain.blocks.slice(0, 1000) })
const local = await importBenchChain(chain)
console.log(`(local import) ${local.blocks} blocks in ${(local.milliseconds / 1000).toFixed(2)} s = ${local.blocksPerSecond.toFixed(0)} blocks/s`)

const dirs: string[] = []
const temp = async (label: string): Promise<string> => { const d = await mkdtemp(join(tmpdir(), `tzp2p-bench-octez-${label}-`)); dirs.push(d); return d }
const seed = await temp('seed')
await seedBenchStore(chain, seed, NETWORK)
// The syncing node does not need the generated blocks: dropped, so that its garbage collections
// do not mark them (at 50 000 blocks they would weigh on every major GC of the timed part).
chain.blocks = []

interface Peer { libp2p: string, octezPort: number }

/** A fresh node following the chain from `wire` options; resolves with blocks/s once at the top. */
async function follow (label: string, wire: Partial<NodeOptions>, connect: (node: Awaited<ReturnType<typeof createNode>>) => Promise<void>): Promise<number> {
  const { protocol, genesis } = chain.freshSetup()
  const node = await createNode({
    dataDir: await temp(label),
    expectedPow: 0,
    chainName: NETWORK,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    disablePeerDiscovery: true,
    ...wire,
    chain: { protocol, genesis, synchronisation: { threshold: PEERS } }
  })
  const done = Promise.withResolvers<void>()
  node.events.on('head', change => { if (change.head.header.shell.level >= BLOCKS) done.resolve() })
  const start = performance.now()
  await node.start()
  await connect(node)
  await done.promise
  const ms = performance.now() - start
  const byWire = node.networkPeers.list().map(p => p.wire)
  await node.stop()
  await protocol.close?.()
  const rate = BLOCKS / (ms / 1000)
  console.log(`(${label}) ${BLOCKS} blocks from ${byWire.length} peers (${[...new Set(byWire)].join(', ')}) in ${(ms / 1000).toFixed(2)} s = ${rate.toFixed(0)} blocks/s`)
  return rate
}

const children: ChildProcess[] = []
try {
  const peers: Peer[] = []
  for (let i = 0; i < PEERS; i++) {
    const dir = await temp(`peer${i}`)
    await cp(join(seed, 'store'), join(dir, 'store'), { recursive: true })
    const child = spawn(NODE, [CHILD, JSON.stringify({
      dataDir: dir, chain: chain.setup.name, accounts: 200, validationPasses: 1, networkName: NETWORK, octez: true
    })], { stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(child)
    const ready = await readyLineOf(child)
    if (ready.octezPort === undefined) throw new Error('a peer process listens on no Octez-wire port')
    peers.push({ libp2p: ready.address, octezPort: ready.octezPort })
  }

  const overLibp2p = async (): Promise<number> => await follow('libp2p', {}, async node => { await Promise.all(peers.map(async p => await node.dial(p.libp2p))) })
  const overOctez = async (): Promise<number> => await follow('octez', { octezPeers: peers.map(p => `127.0.0.1:${p.octezPort}`) }, async () => {})
  let libp2pRate = 0
  let octezRate = 0
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      libp2pRate = Math.max(libp2pRate, await overLibp2p())
      octezRate = Math.max(octezRate, await overOctez())
    } else {
      octezRate = Math.max(octezRate, await overOctez())
      libp2pRate = Math.max(libp2pRate, await overLibp2p())
    }
  }
  console.log(`best of ${ROUNDS}: libp2p ${libp2pRate.toFixed(0)} blocks/s, Octez wire ${octezRate.toFixed(0)} blocks/s`)
  const ratio = octezRate / libp2pRate
  console.log(`octez/libp2p = ${ratio.toFixed(2)}; against the local import: octez ${(octezRate / local.blocksPerSecond).toFixed(2)}, libp2p ${(libp2pRate / local.blocksPerSecond).toFixed(2)} (goals: ≥ 5000 blocks/s and ≥ 0.8)`)
  await writeBenchJson(process.argv, {
    bench: 'octez-wire',
    command: 'npm run bench:octez-wire',
    params: { blocks: BLOCKS, transfersPerBlock: TRANSFERS, peers: PEERS, rounds: ROUNDS },
    figures: [
      {
        name: `following a chain from ${PEERS} peer processes over the Octez wire`,
        unit: 'blocks/s',
        value: octezRate,
        reference: { name: 'the same over libp2p', value: libp2pRate },
        ratio
      },
      {
        name: `bootstrap from ${PEERS} peer processes over the Octez wire, against a local import`,
        unit: 'blocks/s',
        value: octezRate,
        reference: { name: 'local import of the same blocks', value: local.blocksPerSecond },
        ratio: octezRate / local.blocksPerSecond,
        goal: '≥ 5 000 blocks/s and ≥ 0.8× the local import',
        met: octezRate >= 5000 && octezRate / local.blocksPerSecond >= 0.8
      },
      { name: `following a chain from ${PEERS} peer processes over libp2p`, unit: 'blocks/s', value: libp2pRate }
    ]
  })
} finally {
  await stopPeerProcesses(children)
  await chain.setup.protocol.close?.()
  await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
}
