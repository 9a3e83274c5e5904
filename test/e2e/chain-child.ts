/**
 * A tzp2p node with a demo chain in its own process, driven by the chain end-to-end tests.
 *
 *   node test/e2e/chain-child.ts '<json ChildConfig>'
 *
 * Prints one JSON object per line on stdout (`ready`, `head`, `operation`, `bootstrapped`,
 * `progress`, `penalized`, `dump`, `error`) and reads commands, one JSON object per line, on stdin:
 * `dial`, `trust` (add a trusted point and dial it), `inject`, `bake`, `dump`, `stop`.
 *
 * `corrupt` (tests only) makes the node serve one corrupted answer, altering the real bytes it
 * sends: the operations or the Merkle path of its first Operations_for_blocks answer, or the
 * header of its first header answer.
 */
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { b58Encode } from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import { createNode, type TzNode } from '../../src/node/create-node.ts'
import { demoSetup } from '../helpers/demo-chain.ts'
import { createDemoProtocol, readAccount } from '../../src/protocol/demo/index.ts'
import { startRpcServer, type RpcServer } from '../../src/rpc/server.ts'
import { operationHash } from '../../src/wire/operation.ts'
import type { SyncRequest } from '../../src/sync/answers.ts'
import { parsePoint } from '../../src/net/point.ts'

export interface ChildConfig {
  dataDir: string
  /** Demo chain name (keys and genesis derive from it). */
  chain: string
  accounts: number
  validationPasses: number
  synchronisationThreshold?: number
  maxClockDrift?: number
  headerFetchMode?: 'ranges' | 'walk'
  /** Bake automatically every this many ms (0: only on the `bake` command). */
  bakeIntervalMs?: number
  baker?: boolean
  corrupt?: 'operations' | 'path' | 'header'
  logLevel?: string
  /** Network (chain) name of the node and its store (default TZP2P_E2E). */
  networkName?: string
  /** Listen on this loopback address instead of 127.0.0.1 (and dial from it). */
  ip?: string
  /** Install demo v2 besides demo v1 (test/e2e/protocols-*.test.ts). */
  installV2?: boolean
  /** As the baker: the block at this level activates demo v2. */
  activateV2At?: number
  /** Serve the RPC on a free loopback port (its URL is in the `ready` event). */
  rpc?: boolean
  /** Also listen on Octez's wire on a free port (`octezPort` in the `ready` event). */
  octez?: boolean
}

const config = JSON.parse(process.argv[2]) as ChildConfig
const out = (event: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(event) + '\n') }
const setup = demoSetup({ name: config.chain, accounts: config.accounts, validationPasses: config.validationPasses, verifyWorkers: 1 })
/** Demo v2 over the same keys and accounts (its genesis is v1's: it is only ever activated). */
const demoV2 = createDemoProtocol({
  bakerPublicKey: setup.baker.publicKey,
  bootstrapAccounts: setup.accounts.map(a => ({ publicKeyHash: a.publicKeyHash, balance: 1_000_000_000_000n })),
  validationPasses: config.validationPasses,
  verifyWorkers: 0,
  version: 2
})

/** Corrupts the first answer of the chosen kind, then serves honestly. */
function corrupter (mode: NonNullable<ChildConfig['corrupt']>): (envelope: Uint8Array, request: SyncRequest) => Uint8Array {
  let done = false
  return (envelope, request) => {
    if (done) return envelope
    const copy = envelope.slice()
    if (mode === 'header' && (request.tag === 'Get_predecessor_header' || request.tag === 'Get_block_headers')) {
      // The last byte is the end of the protocol data (the baker's signature): the hash changes.
      copy[copy.length - 1] ^= 0xff
    } else if (mode === 'operations' && request.tag === 'Get_operations_for_blocks' && copy.length > 4 + 2 + 33 + 34 + 40) {
      // The last byte is inside the last operation's signature: its hash, hence the Merkle root, changes.
      copy[copy.length - 1] ^= 0xff
    } else if (mode === 'path' && request.tag === 'Get_operations_for_blocks') {
      // Length 4, tag 2, block hash 32, pass 1; then the path: one tag byte and a 32-byte sibling
      // in either order; byte 5 of the path lies inside the sibling.
      copy[4 + 2 + 33 + 5] ^= 0xff
    } else {
      return envelope
    }
    done = true
    out({ event: 'corrupted', request: request.tag })
    return copy
  }
}

const node: TzNode = await createNode({
  dataDir: config.dataDir,
  expectedPow: 0,
  chainName: config.networkName ?? 'TZP2P_E2E',
  listen: [`/ip4/${config.ip ?? '127.0.0.1'}/tcp/0`],
  ...(config.ip === undefined ? {} : { sourceAddress: config.ip }),
  disablePeerDiscovery: true,
  ...(config.octez === true ? { octezListen: `${config.ip ?? '127.0.0.1'}:0` } : {}),
  logger: pino({ level: config.logLevel ?? 'silent' }, pino.destination(2)),
  chain: {
    protocol: setup.protocol,
    ...(config.installV2 === true ? { protocols: [demoV2] } : {}),
    genesis: setup.genesis,
    synchronisation: { threshold: config.synchronisationThreshold ?? 1 },
    ...(config.maxClockDrift === undefined ? {} : { maxClockDrift: config.maxClockDrift }),
    ...(config.headerFetchMode === undefined ? {} : { headerFetchMode: config.headerFetchMode }),
    ...(config.baker === true
      ? {
          baker: {
            key: setup.baker.secretKey,
            intervalMs: config.bakeIntervalMs ?? 0,
            ...(config.activateV2At === undefined ? {} : { activations: [{ level: config.activateV2At, protocol: demoV2.hash }] })
          }
        }
      : {}),
    ...(config.corrupt === undefined ? {} : { rewriteSyncAnswer: corrupter(config.corrupt) })
  }
})

const chain = node.chain
const mempool = node.mempool
if (chain === undefined || mempool === undefined) throw new Error('the node has no chain')

node.events.on('head', change => {
  // `at`: milliseconds since the epoch, comparable between processes of one machine.
  out({ event: 'head', level: change.head.header.shell.level, hash: b58Encode('blockHash', change.head.hash), applied: change.applied.length, removed: change.removed.length, at: performance.timeOrigin + performance.now() })
})
node.events.on('operation', e => { out({ event: 'operation', hash: b58Encode('operationHash', e.hash) }) })
node.events.on('bootstrapped', () => { out({ event: 'bootstrapped' }) })
node.events.on('sync:progress', p => { out({ event: 'progress', level: p.level, target: p.targetLevel, levelsPerSecond: p.levelsPerSecond }) })
node.events.on('peer:penalized', p => { out({ event: 'penalized', peer: p.peerId, kind: p.kind, action: p.action, detail: p.detail }) })
node.events.on('peer:authenticated', p => { out({ event: 'connected', peer: p.tezosPeerId }) })
node.events.on('peer:disconnected', p => { out({ event: 'disconnected', peer: p.tezosPeerId }) })

/** Every block hash of the current chain, balances and counters of every account, the mempool. */
async function dump (): Promise<Record<string, unknown>> {
  const head = chain!.head
  const hashes: string[] = []
  for (let level = 0; level <= head.header.shell.level; level++) hashes.push((await chain!.getBlockByLevel(level))?.hex ?? 'missing')
  const accounts: Array<{ balance: string, counter: string } | null> = []
  for (const a of setup.accounts) {
    const acct = await readAccount(chain!.state, a.publicKeyHash)
    accounts.push(acct === undefined ? null : { balance: acct.balance.toString(), counter: acct.counter.toString() })
  }
  const headOperations: string[] = []
  for (let pass = 0; pass < head.header.shell.validationPass; pass++) {
    for (const op of await chain!.getOperations(head.hash, pass) ?? []) headOperations.push(b58Encode('operationHash', operationHash(op)))
  }
  return {
    event: 'dump',
    level: head.header.shell.level,
    head: head.hex,
    hashes,
    accounts,
    headOperations,
    mempool: mempool!.hashes().map(h => b58Encode('operationHash', h)),
    greylisted: node.greylist.list().map(e => e.key),
    proto: head.header.shell.proto,
    bakerBalance: ((await readAccount(chain!.state, setup.baker.publicKeyHash))?.balance ?? 0n).toString(),
    protocol: chain!.protocol.hash,
    v2: demoV2.hash,
    protocolLevels: chain!.protocolLevels,
    ...node.syncStatus()
  }
}

/** Memory, connections and the bounded queues, for the resource-bound tests and benchmark. */
function stats (collect: boolean): Record<string, unknown> {
  if (collect) (globalThis as { gc?: () => void }).gc?.()
  const memory = process.memoryUsage()
  const connections = node.libp2p.getConnections()
  const { gossip, sync } = node.libp2p.services
  return {
    event: 'stats',
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    connections: connections.length,
    maxStreamsPerConnection: Math.max(0, ...connections.map(c => c.streams.length)),
    streams: connections.reduce((n, c) => n + c.streams.length, 0),
    authenticated: node.peers.list().length,
    greylisted: node.greylist.list().length,
    gossipQueued: gossip?.queuedWrites().total ?? 0,
    gossipQueueHighWater: gossip?.queueHighWater ?? 0,
    gossipQueueBound: gossip?.queuedWrites().perPeerBound ?? 0,
    gossipDropped: gossip?.stats.dropped ?? 0,
    syncInFlight: sync?.load.inFlight ?? 0,
    syncHighWater: sync?.load.highWater ?? 0,
    syncThrottled: sync?.stats.throttled ?? 0,
    syncBadRequests: sync?.stats.badRequests ?? 0,
    mempool: mempool!.hashes().length,
    level: chain!.head.header.shell.level
  }
}

async function command (c: Record<string, unknown>): Promise<void> {
  switch (c.cmd) {
    case 'dial':
      await node.dial(c.address as string)
      out({ event: 'dialled', address: c.address })
      return
    case 'trust': {
      // A trusted point bypasses the greylist (on loopback every peer shares the greylisted IP).
      node.connectionManager?.addTrustedPoint(parsePoint(c.address as string))
      await node.dial(c.address as string)
      out({ event: 'dialled', address: c.address })
      return
    }
    case 'inject': {
      const result = await node.inject(fromHex(c.hex as string))
      out({ event: 'injected', hash: b58Encode('operationHash', result.hash) })
      return
    }
    case 'bake': {
      const r = await node.bake()
      out({ event: 'baked', hash: r.hash, level: r.header.shell.level, operations: r.operations })
      return
    }
    case 'dump':
      out(await dump())
      return
    case 'stats':
      out(stats(c.gc === true))
      return
    case 'stop':
      await rpc?.close()
      await node.stop()
      out({ event: 'stopped' })
      process.exit(0)
  }
}

await node.start()
const rpc: RpcServer | undefined = config.rpc === true ? await startRpcServer({ node, listen: [{ host: '127.0.0.1', port: 0 }] }) : undefined
out({ event: 'ready', address: node.getMultiaddrs()[0].toString(), peer: node.identity.peerId, level: chain.head.header.shell.level, head: toHex(chain.head.hash), rpc: rpc?.urls[0], octezPort: node.octez?.listenAddress?.port })

const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  let c: Record<string, unknown>
  try { c = JSON.parse(line) as Record<string, unknown> } catch { return }
  command(c).catch((err: Error) => { out({ event: 'error', cmd: c.cmd, name: err.name, message: err.message }) })
})
lines.on('close', () => { void (rpc?.close() ?? Promise.resolve()).then(async () => { await node.stop() }).then(() => process.exit(0)) })
