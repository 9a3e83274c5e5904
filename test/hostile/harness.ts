/**
 * The hostile-peer suite's harness: a victim node as it runs in production (connection manager,
 * demo chain, store on disk), attackers that are real libp2p hosts on loopback, each dialling
 * from its own source address (127.0.0.x) so that greylisting an attacker's IP leaves honest
 * peers (127.0.1.x) free to connect, and a check that an honest peer is still served.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { pino } from 'pino'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { DemoChainBuilder, demoSetup, type DemoSetup } from '../helpers/demo-chain.ts'
import { toHex } from '../../src/encoding/index.ts'
import { EnvelopeStream } from '../../src/stream/envelope-stream.ts'
import type { Identity } from '../../src/identity/identity.ts'
import { createNode, type TzNode } from '../../src/node/create-node.ts'
import type { ChainNodeOptions } from '../../src/node/chain-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { SYNC_CHANNEL_PROTOCOL, SYNC_PROTOCOL } from '../../src/sync/definitions.ts'
import type { SyncRequest } from '../../src/sync/answers.ts'
import { blockHash } from '../../src/wire/block-header.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { identityWithPow, TEST_CHAIN } from '../helpers/node.ts'
import { connectionMessageOf, RawHandshake } from '../handshake/raw-peer.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import { waitFor } from '../helpers/wait.ts'

let nextHost = 10
/** A loopback address of its own for each attacker: 127.0.0.10, 127.0.0.11, … */
export function freshAttackerIp (): string {
  const ip = `127.0.0.${nextHost}`
  nextHost = nextHost >= 250 ? 10 : nextHost + 1
  return ip
}

let nextHonest = 10
/**
 * Honest peers dial from 127.0.1.x, one address each: the victim admits at most a few new
 * connections per second from one IP, and an honest peer reconnecting in a burst is not the point.
 */
export function freshHonestIp (): string {
  const ip = `127.0.1.${nextHonest}`
  nextHonest = nextHonest >= 250 ? 10 : nextHonest + 1
  return ip
}

/** Errors nobody caught, anywhere in this process (the victim runs in it). */
export class CrashWatch {
  readonly errors: unknown[] = []
  private readonly onError = (err: unknown): void => { this.errors.push(err) }

  start (): this {
    process.on('uncaughtException', this.onError)
    process.on('unhandledRejection', this.onError)
    return this
  }

  stop (): void {
    process.off('uncaughtException', this.onError)
    process.off('unhandledRejection', this.onError)
  }

  describe (): string {
    return this.errors.map(e => e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)).join('\n')
  }
}

export interface Victim {
  node: TzNode
  setup: DemoSetup
  builder: DemoChainBuilder
  address: string
  /** The proof of work the victim demands (honest peers have it). */
  expectedPow: number
  close: () => Promise<void>
}

/**
 * The node under attack: a managed node (scores, greylist of IP and ids, limits) running a demo
 * chain of `blocks` blocks in a store of its own, listening on 127.0.0.1.
 */
export async function startVictim (options: { name: string, blocks?: number, node?: Partial<NodeOptions>, chain?: Partial<ChainNodeOptions> }): Promise<Victim> {
  const setup = demoSetup({ name: options.name, verifyWorkers: 0 })
  const builder = new DemoChainBuilder(setup)
  const dir = await tempDir('hostile')
  const node = await createNode({
    dataDir: dir,
    chainName: TEST_CHAIN,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    // HOSTILE_LOG=debug shows what the victim made of each attack.
    ...(process.env.HOSTILE_LOG !== undefined ? { logger: pino({ level: process.env.HOSTILE_LOG }, pino.destination(2)) } : {}),
    // No dialling of its own: every connection in these tests is the attacker's or the honest peer's.
    limits: { minConnections: 0, expectedConnections: 20, maxConnections: 40 },
    ...options.node,
    expectedPow: options.node?.expectedPow ?? 0,
    chain: { protocol: setup.protocol, genesis: setup.genesis, synchronisation: { threshold: 1 }, ...options.chain }
  })
  await node.start()
  const blocks = options.blocks ?? 3
  if (blocks > 0) await node.chain?.addBlocks(await builder.grow(blocks, 1))
  const address = node.getMultiaddrs()[0]?.toString()
  if (address === undefined) throw new Error('victim has no address')
  return {
    node,
    setup,
    builder,
    address,
    expectedPow: options.node?.expectedPow ?? 0,
    close: async () => {
      await node.stop()
      await removeDir(dir)
    }
  }
}

/** A bare libp2p host (TCP, Noise, yamux; no tzp2p service) dialling from `ip`. */
export async function startRawAttacker (ip = freshAttackerIp()): Promise<{ host: Libp2p, ip: string }> {
  const dialOpts: TCPSocketOptions & { localAddress: string } = { localAddress: ip }
  const host = await createLibp2p({
    addresses: { listen: [`/ip4/${ip}/tcp/0`] },
    transports: [tcp({ dialOpts })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false }
  })
  await host.start()
  return { host, ip }
}

/**
 * A tzp2p node (handshake and all, optionally a chain) dialling from its own address: an attacker
 * that authenticates like anyone, then misbehaves on the application protocols.
 */
export async function startNodeAttacker (options: Partial<NodeOptions> = {}): Promise<{ node: TzNode, ip: string, close: () => Promise<void> }> {
  const ip = freshAttackerIp()
  const dir = options.chain !== undefined ? await tempDir('attacker') : undefined
  const node = await createNode({
    ...(dir === undefined ? { identity: identityWithPow(0), privateKey: await generateKeyPair('Ed25519') } : { dataDir: dir }),
    chainName: TEST_CHAIN,
    expectedPow: 0,
    listen: [`/ip4/${ip}/tcp/0`],
    sourceAddress: ip,
    manageConnections: false,
    ...options
  })
  await node.start()
  return {
    node,
    ip,
    close: async () => {
      await node.stop()
      if (dir !== undefined) await removeDir(dir)
    }
  }
}

/**
 * Runs a handshake by hand from a raw host, as an honest peer would, up to the point where each
 * side has the other's metadata: what is left is the Ack or Nack.
 */
export async function rawHandshakeToAck (host: Libp2p, address: string, identity: Identity): Promise<{ connection: Connection, hs: RawHandshake }> {
  const connection = await host.dial(multiaddr(address))
  const hs = await RawHandshake.open(host, connection)
  const sent = await hs.sendMessage(connectionMessageOf(identity))
  const received = await hs.readFrame()
  hs.deriveCipher(identity, sent, received, host)
  await hs.sendMetadata()
  await hs.readChunk('metadata')
  return { connection, hs }
}

/** Completes a handshake by hand from a raw host, as an honest peer would; returns the connection. */
export async function rawAuthenticate (host: Libp2p, address: string, identity: Identity): Promise<{ connection: Connection, hs: RawHandshake }> {
  const { connection, hs } = await rawHandshakeToAck(host, address, identity)
  await hs.sendAck({ tag: 'Ack' })
  const ack = await hs.readAck()
  if (ack.tag !== 'Ack') throw new Error(`victim answered ${ack.tag}`)
  return { connection, hs }
}

/** The victim holds no connection from this libp2p peer and refuses its IP and PeerId. */
export async function assertDisconnectedAndGreylisted (victim: Victim, attacker: { ip: string, peerId: PeerId }): Promise<void> {
  await waitFor(() => victim.node.greylist.isGreylisted(attacker.ip), { what: `IP ${attacker.ip} greylisted` })
  await waitFor(() => victim.node.greylist.isGreylisted(attacker.peerId), { what: 'libp2p PeerId greylisted' })
  await waitFor(() => victim.node.libp2p.getConnections(attacker.peerId).length === 0, { what: 'attacker disconnected' })
}

/** The victim holds no connection from this peer, and did not greylist it (Octez would not). */
export async function assertDisconnectedNotGreylisted (victim: Victim, attacker: { ip: string, peerId: PeerId }): Promise<void> {
  await waitFor(() => victim.node.libp2p.getConnections(attacker.peerId).length === 0, { what: 'attacker disconnected' })
  if (victim.node.greylist.isGreylisted(attacker.ip)) throw new Error(`IP ${attacker.ip} was greylisted`)
  if (victim.node.greylist.isGreylisted(attacker.peerId)) throw new Error('attacker PeerId was greylisted')
}

/**
 * A fresh honest node (from an address of its own) authenticates with the victim and gets an answer to
 * Get_current_head naming the victim's head: the victim still serves honest peers.
 */
export async function assertHonestServed (victim: Victim, identity?: Identity): Promise<void> {
  const honest = await createNode({
    identity: identity ?? identityWithPow(victim.expectedPow),
    privateKey: await generateKeyPair('Ed25519'),
    chainName: TEST_CHAIN,
    expectedPow: 0,
    listen: [],
    sourceAddress: freshHonestIp(),
    manageConnections: false
  })
  await honest.start()
  try {
    await honest.dial(victim.address)
    const chainId = victim.node.chain?.genesis.chainId
    const head = victim.node.chain?.head
    if (chainId === undefined || head === undefined) throw new Error('victim has no chain')
    const stream = await openStream(honest, victim.node.peerId, SYNC_PROTOCOL)
    const reader = new EnvelopeStream(stream, SYNC_PROTOCOL, 1 << 22)
    stream.send(encodeP2pMessage({ tag: 'Get_current_head', chainId }))
    await stream.close()
    const answer = await reader.read({ signal: AbortSignal.timeout(10_000) })
    if (answer?.message.tag !== 'Current_head') throw new Error(`honest peer got ${answer?.message.tag ?? 'nothing'}`)
    const answered = toHex(blockHash(answer.message.header))
    if (answered !== toHex(head.hash)) throw new Error(`honest peer was told head ${answered}, victim's head is ${toHex(head.hash)}`)
  } finally {
    await honest.stop()
  }
}

/**
 * Serves `/tzp2p/sync/1.0.0` on a node without a chain by hand: each request stream's messages go
 * to `answer`, whose envelopes are written back before the stream closes; `undefined` means
 * "never answer" (the stream is held open until the requester gives up).
 */
export async function serveSyncByHand (node: TzNode, answer: (request: SyncRequest) => Uint8Array[] | undefined, protocol = SYNC_PROTOCOL): Promise<{ requests: SyncRequest[] }> {
  const seen: SyncRequest[] = []
  // Served by hand on sync streams only: without the sync channel, the victim asks on streams.
  if (protocol === SYNC_PROTOCOL) await node.libp2p.unhandle(SYNC_CHANNEL_PROTOCOL)
  await node.libp2p.handle(protocol, async (stream) => {
    const reader = new EnvelopeStream(stream, protocol, 1 << 16)
    const out: Uint8Array[] = []
    let silent = false
    try {
      for (;;) {
        const read = await reader.read()
        if (read === undefined) break
        const request = read.message as SyncRequest
        seen.push(request)
        const answers = answer(request)
        if (answers === undefined) silent = true
        else out.push(...answers)
      }
      if (silent) return
      for (const a of out) await reader.write(a)
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 256 })
  return { requests: seen }
}

/** A stream for `protocol` on `from`'s authenticated connection to `to`. */
export async function openStream (from: TzNode, to: PeerId, protocol: string): Promise<Stream> {
  const connection = from.libp2p.getConnections(to).find(c => from.peers.isAuthenticated(c))
  if (connection === undefined) throw new Error('not authenticated with that peer')
  return await connection.newStream(protocol)
}

/** A 4-byte big-endian length prefix: the start of a P2P envelope announcing `n` bytes. */
export function lengthPrefix4 (n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}
