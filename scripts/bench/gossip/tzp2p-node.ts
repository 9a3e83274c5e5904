/**
 * One tzp2p node of the gossip benchmark, in its own process:
 *
 *   node scripts/bench/gossip/tzp2p-node.ts '<json Tzp2pNodeConfig>'
 *
 * A real node (`createNode`: TCP, Noise, yamux, the Tezos handshake, /tzp2p/gossip, /tzp2p/sync,
 * the demo protocol with a classic-level store) whose topology stays as the benchmark dials it:
 * no peer discovery, no maintenance (so no pruning, swap or top-up), a high inbound rate limit
 * (every node shares 127.0.0.1).
 *
 * Events (stdout): `ready`, `arrival` (per block: `head` when it became this node's head,
 * `announced` when a peer's Current_head first named it, `ready` when validated, `applied` and
 * `written` for the stages between), `connected`, `peers`, `mark`,
 * `produced`, `injected`, `baked`, `endorsements`, `error`. Commands (stdin): `connect`, `peers`, `mark`, `produce` (baker
 * only), `inject` (sign and inject given transfers here), `bake` (baker only: one block once the
 * mempool holds the given number of operations), `endorsements` (with `consensus`: the
 * endorsement this node injected for each block), `stop`.
 *
 * With `consensus` (`--consensus`) the chain runs demo v3 (consensus.ts): every node is a delegate
 * and endorses each new head through its mempool, and the baker's blocks carry the endorsements
 * of their predecessor.
 */
import { pino } from 'pino'
import { encode, fromHex, toHex } from '../../../src/encoding/index.ts'
import { createNode } from '../../../src/node/create-node.ts'
import { Libp2pPeer } from '../../../src/node/libp2p-peer.ts'
import { demoSetup } from '../../../test/helpers/demo-chain.ts'
import { signTransfer } from '../../../src/protocol/demo/index.ts'
import { operationCodec } from '../../../src/wire/operation.ts'
import { dialAll, emit, encodeBlockPayload, now, sentBytes, serveCommands, type Command } from './child-io.ts'
import { consensusSetup, ConsensusDelegate } from './consensus.ts'

export interface Tzp2pNodeConfig {
  dataDir: string
  /** Demo chain name: keys and genesis derive from it, so every node runs the same chain. */
  chain: string
  accounts: number
  baker: boolean
  /** Listen multiaddr; 127.0.0.1 on a port of the system's choosing by default. */
  listen?: string
  /**
   * Seconds a block may be ahead of the clock. The demo baker dates a block at least one second
   * after its predecessor, so baking faster than 1/s needs room (the default, 1 s, would refuse).
   */
  maxClockDrift: number
  /**
   * `--operations-via-mempool`: transfers are injected at nodes ahead of their block and reach the
   * baker by mempool gossip (Octez's 100 ms advertisement delay), as on a real network; otherwise
   * the baker's mempool keeps them to itself and they travel inside blocks only.
   */
  operationsViaMempool?: boolean
  /** `--consensus`: this node's delegate index among `nodes` delegates (demo v3). */
  consensus?: { index: number, nodes: number }
}

const NETWORK = 'TZP2P_BENCH'
const config = JSON.parse(process.argv[2]) as Tzp2pNodeConfig
const setup = demoSetup({ name: config.chain, accounts: config.accounts, validationPasses: 1, verifyWorkers: 0 })
const consensus = config.consensus === undefined ? undefined : consensusSetup(config.chain, config.consensus.nodes)

const node = await createNode({
  dataDir: config.dataDir,
  expectedPow: 0,
  chainName: NETWORK,
  listen: [config.listen ?? '/ip4/127.0.0.1/tcp/0'],
  disablePeerDiscovery: true,
  limits: { maintenanceIdleTimeMs: null },
  inboundConnectionsPerIpPerSecond: 1_000_000,
  libp2pMetrics: true,
  logger: pino({ level: 'silent' }),
  chain: {
    protocol: consensus?.protocol ?? setup.protocol,
    genesis: consensus?.genesis ?? setup.genesis,
    maxClockDrift: config.maxClockDrift,
    ...(config.baker && consensus === undefined
      ? {
          baker: { key: setup.baker.secretKey, intervalMs: 0 },
          // Without --operations-via-mempool the operations reach peers inside the block only
          // (the benchmark measures block propagation): they are baked long before a mempool
          // announcement would go out.
          ...(config.operationsViaMempool === true ? {} : { mempool: { announceDelayMs: 600_000 } })
        }
      : {})
  }
})
const chain = node.chain
if (chain === undefined) throw new Error('the node has no chain')
const delegate = consensus === undefined || config.consensus === undefined || node.mempool === undefined
  ? undefined
  : new ConsensusDelegate(chain, node.mempool, consensus.delegates[config.consensus.index].secretKey)

node.events.on('head', change => {
  const t = now()
  for (const block of change.applied) emit({ event: 'arrival', kind: 'head', key: block.hex, level: block.header.shell.level, t })
})
// The producer's origin: the block ready to be announced (validated, or applied in memory),
// whichever the node announces at; its head event comes after the store write.
const ready = new Set<string>()
const stampReady = (hex: string): void => {
  if (ready.has(hex)) return
  ready.add(hex)
  emit({ event: 'arrival', kind: 'ready', key: hex, t: now() })
}
chain.on('head:validated', head => { stampReady(head.hex) })
chain.on('block:validated', ({ block }) => { stampReady(block.hex) })
// The breakdown of validated → head at every node: `applied` when the application is done and the
// head's write begins (`head:validated`), `written` when the store's write of it is done.
chain.on('head:validated', head => { emit({ event: 'arrival', kind: 'applied', key: head.hex, t: now() }) })
const storeCommit = chain.store.commit.bind(chain.store)
chain.store.commit = async (batch, beforeWrite) => {
  await storeCommit(batch, beforeWrite)
  if (batch.head !== undefined) emit({ event: 'arrival', kind: 'written', key: batch.head.hex, t: now() })
}
const announced = new Set<string>()
node.libp2p.services.gossip?.on('head', a => {
  const t = now()
  const key = toHex(a.hash)
  if (announced.has(key)) return
  announced.add(key)
  emit({ event: 'arrival', kind: 'announced', key, t })
})

/** What the node's protocols did so far, to explain the bytes (summed over nodes by the parent). */
function counters (): Record<string, number> {
  const gossip = node.libp2p.services.gossip
  const sync = node.libp2p.services.sync
  const out: Record<string, number> = {
    'gossip messages sent': gossip?.stats.sent ?? 0,
    'sync exchanges (a stream, a channel batch, a gossip-stream request or pushed answers taken, each)': sync?.client.stats.exchanges ?? 0,
    'sync requests sent': sync?.client.stats.requests ?? 0,
    'sync answers received': sync?.client.stats.answers ?? 0,
    // Block operations pushed with announcements (protocols/gossip.md §4.6), and those a fetch took.
    'pushes sent': gossip?.stats.pushesSent ?? 0,
    'pushed answers received': gossip?.stats.pushesReceived ?? 0,
    'pushed answers taken': node.networkPeers.list().reduce((n, p) => n + (p instanceof Libp2pPeer ? p.requestStats.pushedKeysUsed : 0), 0)
  }
  // New blocks first announced by the pusher or by another peer; after another's, when the
  // pusher's push and the gossip-stream fetch's answer arrived (ms summed: divide by the count).
  const t = gossip?.pushTiming.stats
  if (t !== undefined) {
    out['first Current_head from the pusher'] = t.firstFromPusher
    out['first Current_head from another'] = t.firstFromOther
    out['after another: pushes'] = t.pushAfterOther
    out['after another: push ms'] = t.pushAfterOtherMs
    out['after another: fetch answers'] = t.answerAfterOther
    out['after another: fetch answer ms'] = t.answerAfterOtherMs
    out['after another: push before answer'] = t.pushBeforeAnswer
  }
  for (const [tag, n] of gossip?.receivedByTag ?? []) out[`gossip ${tag} received`] = n
  return out
}

/** Next counter of each account (the chain starts fresh, and every transfer is baked). */
const transferCounters = new Map<number, bigint>()

/**
 * Bakes `count` blocks, block i at start + i × interval (a steady rate, not drifting with the bake
 * time), each with `operations` signed transfers injected just before from distinct accounts.
 */
async function produce (count: number, intervalMs: number, operations: number): Promise<Array<{ key: string, payload: string }>> {
  const produced: string[] = []
  const start = now()
  for (let i = 0; i < count; i++) {
    const wait = start + i * intervalMs - now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    const branch = chain!.head.hash
    for (let k = 0; k < operations; k++) {
      const from = (i * operations + k) % setup.accounts.length
      const to = (from + 1) % setup.accounts.length
      const counter = (transferCounters.get(from) ?? 0n) + 1n
      transferCounters.set(from, counter)
      const a = setup.accounts[from]
      const data = signTransfer(branch, { publicKey: a.publicKey, destination: setup.accounts[to].publicKeyHash, amount: 1n, fee: 0n, counter }, a.secretKey)
      await node.inject(encode(operationCodec, { branch, data }))
    }
    const baked = await node.bake()
    if (baked.refused.length > 0 || baked.operations !== operations) {
      throw new Error(`block ${baked.hash} has ${baked.operations} operations of ${operations}: ${baked.refused.map(r => r.error.message).join('; ')}`)
    }
    produced.push(toHex(chain!.head.hash))
  }
  const out = []
  for (const key of produced) out.push(await payloadOf(key))
  return out
}

/** Signs transfers on this node's head (any node can: the demo accounts derive from the chain name) and injects them here. */
async function inject (transfers: Array<{ from: number, to: number, counter: string }>): Promise<string[]> {
  const branch = chain!.head.hash
  const out: string[] = []
  for (const t of transfers) {
    const a = setup.accounts[t.from]
    const data = signTransfer(branch, { publicKey: a.publicKey, destination: setup.accounts[t.to].publicKeyHash, amount: 1n, fee: 0n, counter: BigInt(t.counter) }, a.secretKey)
    const bytes = encode(operationCodec, { branch, data })
    await node.inject(bytes)
    out.push(toHex(bytes))
  }
  return out
}

/**
 * Bakes one block once the mempool holds `operations` operations (they were injected elsewhere
 * and are still travelling), or at `deadlineMs` with what it has; a block with fewer fails.
 */
async function bakeOne (operations: number, deadlineMs: number): Promise<Block> {
  const mempool = node.mempool
  if (mempool === undefined) throw new Error('the node has no mempool')
  const deadline = Date.now() + deadlineMs
  if (mempool.size < operations && Date.now() < deadline) {
    await new Promise<void>(resolve => {
      const check = (): void => {
        if (mempool.size < operations && Date.now() < deadline) return
        node.events.off('operation', check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(check, deadline - Date.now())
      node.events.on('operation', check)
    })
  }
  const baked = await node.bake()
  if (baked.refused.length > 0 || baked.operations !== operations) {
    throw new Error(`block ${baked.hash} has ${baked.operations} operations of ${operations}: ${baked.refused.map(r => r.error.message).join('; ')}`)
  }
  return await payloadOf(toHex(chain!.head.hash))
}

interface Block { key: string, payload: string }

/** A block's exact header and operation bytes, which the other stack will carry. */
async function payloadOf (key: string): Promise<Block> {
  const stored = await chain!.getHeader(fromHex(key))
  if (stored === undefined) throw new Error(`block ${key} is not stored`)
  const ops: Uint8Array[] = []
  for (let pass = 0; pass < chain!.protocol.validationPasses; pass++) {
    for (const op of await chain!.getOperations(stored.hash, pass) ?? []) ops.push(encode(operationCodec, op))
  }
  return { key, payload: toHex(encodeBlockPayload(stored.bytes, ops)) }
}

async function command (c: Command): Promise<void> {
  switch (c.cmd) {
    case 'connect': {
      const addresses = c.addresses as string[]
      await dialAll(addresses, async a => await node.dial(a))
      emit({ event: 'connected', count: addresses.length })
      return
    }
    case 'peers':
      emit({ event: 'peers', peers: node.peers.list().map(p => p.libp2pPeerId.toString()) })
      return
    case 'mark':
      emit({ event: 'mark', ...await sentBytes(node.metricsRegistry), counters: counters() })
      return
    case 'produce':
      emit({ event: 'produced', heads: await produce(c.count as number, c.intervalMs as number, c.operations as number) })
      return
    case 'inject':
      emit({ event: 'injected', operations: await inject(c.transfers as Array<{ from: number, to: number, counter: string }>) })
      return
    case 'bake':
      emit({ event: 'baked', block: delegate !== undefined ? await payloadOf(await delegate.bake(c.operations as number, c.deadlineMs as number)) : await bakeOne(c.operations as number, c.deadlineMs as number) })
      return
    case 'endorsements':
      emit({ event: 'endorsements', byBlock: Object.fromEntries(delegate?.endorsements ?? []) })
      return
    case 'stop':
      await node.stop()
      emit({ event: 'stopped' })
      process.exit(0)
  }
}

await node.start()
delegate?.start()
emit({ event: 'ready', address: node.getMultiaddrs()[0].toString(), peer: node.peerId.toString() })
serveCommands(command, async () => { await node.stop() })
