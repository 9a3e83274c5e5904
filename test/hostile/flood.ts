/**
 * Many attackers at once against one victim, each a real libp2p host on its own loopback address
 * (127.0.0.x), each keeping up its attack for as long as the flood runs (redialling when refused or
 * dropped). Four kinds, in equal numbers:
 *
 * - `slowloris`: opens the handshake stream and trickles a byte every 200 ms;
 * - `streams`: opens sync, gossip and peers streams as fast as it can, never authenticating;
 * - `sync-flood`: authenticates as a tzp2p node, then keeps 8 sync streams busy with
 *   `Get_current_head` and `Get_block_headers` (64 random hashes) requests;
 * - `garbage`: authenticates, then sends a gossip envelope announcing 4 GiB (greylisted at once;
 *   it keeps redialling from its greylisted address).
 *
 * Used by `test/hostile/resource-bounds.test.ts` and `npm run bench:attack`.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Connection } from '@libp2p/interface'
import { fromHex } from '../../src/encoding/index.ts'
import { GOSSIP_PROTOCOL } from '../../src/gossip/definitions.ts'
import { HANDSHAKE_PROTOCOL } from '../../src/handshake/service.ts'
import { createNode, type TzNode } from '../../src/node/create-node.ts'
import { PEER_EXCHANGE_PROTOCOL } from '../../src/peers/exchange/protocol.ts'
import { SYNC_PROTOCOL } from '../../src/sync/definitions.ts'
import { encodeP2pMessage } from '../../src/wire/p2p-message.ts'
import { identityWithPow } from '../helpers/node.ts'

export type AttackKind = 'slowloris' | 'streams' | 'sync-flood' | 'garbage'
export const ATTACK_KINDS: AttackKind[] = ['slowloris', 'streams', 'sync-flood', 'garbage']

export interface FloodOptions {
  /** The victim's multiaddr (with `/p2p/…`). */
  victim: string
  chainName: string
  chainId: Uint8Array
  /** Attacking connections kept up at once (split evenly between the kinds). */
  connections: number
  /** First attacker address is 127.0.<subnet>.10. */
  subnet?: number
}

export interface FloodCounts {
  dials: number
  refused: number
  authenticated: number
  streams: number
  syncRequests: number
  garbage: number
  bytesTrickled: number
}

export interface Flood {
  readonly counts: FloodCounts
  /** Attackers by kind. */
  readonly kinds: Record<AttackKind, number>
  stop: () => Promise<void>
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function rawHost (ip: string): Promise<Libp2p> {
  const dialOpts: TCPSocketOptions & { localAddress: string } = { localAddress: ip }
  const host = await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp({ dialOpts })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    connectionManager: { maxConnections: 1000 }
  })
  await host.start()
  return host
}

async function tezosHost (ip: string, chainName: string): Promise<TzNode> {
  const node = await createNode({
    identity: identityWithPow(0),
    privateKey: await generateKeyPair('Ed25519'),
    chainName,
    expectedPow: 0,
    listen: [],
    sourceAddress: ip,
    manageConnections: false
  })
  await node.start()
  return node
}

async function authenticatedConnection (node: TzNode, victim: ReturnType<typeof multiaddr>): Promise<Connection> {
  await node.dial(victim.toString())
  const c = node.libp2p.getConnections().find(x => x.status === 'open' && node.peers.isAuthenticated(x))
  if (c === undefined) throw new Error('not authenticated')
  return c
}

/** Starts the attacking loops at once; they run until `stop`. */
export function startFlood (options: FloodOptions): Flood {
  const counts: FloodCounts = { dials: 0, refused: 0, authenticated: 0, streams: 0, syncRequests: 0, garbage: 0, bytesTrickled: 0 }
  const kinds = { slowloris: 0, streams: 0, 'sync-flood': 0, garbage: 0 }
  const victim = multiaddr(options.victim)
  if (!victim.getComponents().some(c => c.name === 'p2p')) throw new Error('the victim address needs its /p2p/ part')
  let running = true
  const hosts: Array<{ stop: () => unknown }> = []
  const loops: Array<Promise<void>> = []
  const subnet = options.subnet ?? 0

  const getHeadEnvelope = encodeP2pMessage({ tag: 'Get_current_head', chainId: options.chainId })
  const randomHash = (): Uint8Array => fromHex(Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join(''))

  /** Dials until it gets a connection (the victim refuses many: limits, rate, greylist). */
  const connect = async (dial: () => Promise<Connection>): Promise<Connection | undefined> => {
    while (running) {
      counts.dials++
      try {
        return await dial()
      } catch {
        counts.refused++
        await sleep(250)
      }
    }
    return undefined
  }
  const closed = async (c: Connection): Promise<void> => {
    while (running && c.status === 'open') await sleep(100)
  }

  /** A tzp2p node that authenticates, runs `misbehave` on the connection, and starts over. */
  const authenticatedAttacker = async (ip: string, misbehave: (c: Connection) => Promise<void>): Promise<void> => {
    const node = await tezosHost(ip, options.chainName)
    hosts.push(node)
    while (running) {
      const c = await connect(async () => await authenticatedConnection(node, victim))
      if (c === undefined) return
      counts.authenticated++
      await misbehave(c)
      await closed(c)
    }
  }

  const attack: Record<AttackKind, (ip: string) => Promise<void>> = {
    async slowloris (ip) {
      const host = await rawHost(ip)
      hosts.push(host)
      while (running) {
        const c = await connect(async () => await host.dial(victim, { force: true }))
        if (c === undefined) return
        try {
          const stream = await c.newStream(HANDSHAKE_PROTOCOL)
          while (running && c.status === 'open') {
            stream.send(new Uint8Array([0]))
            counts.bytesTrickled++
            await sleep(200)
          }
        } catch {
          // The victim cut the connection or refused the stream: dial again.
        }
        await c.close().catch(() => {})
      }
    },
    async streams (ip) {
      const host = await rawHost(ip)
      hosts.push(host)
      const protocols = [SYNC_PROTOCOL, GOSSIP_PROTOCOL, PEER_EXCHANGE_PROTOCOL]
      while (running) {
        const c = await connect(async () => await host.dial(victim, { force: true }))
        if (c === undefined) return
        let i = 0
        while (running && c.status === 'open') {
          const batch = Array.from({ length: 32 }, () => c.newStream(protocols[i++ % 3], { signal: AbortSignal.timeout(2000) })
            .then(s => {
              counts.streams++
              try {
                s.send(new Uint8Array(64))
              } catch {
                // Reset already by the victim (streams of an unauthenticated connection are): nothing to send.
              }
            }, () => {}))
          await Promise.all(batch)
          await sleep(10)
        }
      }
    },
    async 'sync-flood' (ip) {
      await authenticatedAttacker(ip, async c => {
        const worker = async (): Promise<void> => {
          while (running && c.status === 'open') {
            try {
              const stream = await c.newStream(SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
              counts.streams++
              const ask = Math.random() < 0.5
                ? [getHeadEnvelope]
                : [encodeP2pMessage({ tag: 'Get_block_headers', blockHashes: Array.from({ length: 10 }, randomHash) })]
              for (const e of ask) stream.send(e)
              counts.syncRequests += ask.length
              await stream.close({ signal: AbortSignal.timeout(5000) })
            } catch {
              await sleep(20)
            }
          }
        }
        await Promise.all(Array.from({ length: 8 }, worker))
      })
    },
    async garbage (ip) {
      await authenticatedAttacker(ip, async c => {
        try {
          const stream = await c.newStream(GOSSIP_PROTOCOL)
          stream.send(new Uint8Array([0xff, 0xff, 0xff, 0xf0, 0, 0x10]))
          counts.garbage++
        } catch {
          // The victim refused the stream or closed the connection: the attacker starts over.
        }
      })
    }
  }

  for (let i = 0; i < options.connections; i++) {
    const kind = ATTACK_KINDS[i % ATTACK_KINDS.length]
    kinds[kind]++
    const ip = `127.0.${subnet + Math.floor(i / 240)}.${10 + (i % 240)}`
    loops.push(attack[kind](ip).catch(() => {}))
  }

  return {
    counts,
    kinds,
    stop: async () => {
      running = false
      // A host that fails to stop (its connections already torn down) must not keep the others from stopping.
      await Promise.all(hosts.map(async h => { try { await h.stop() } catch { /* nothing left to stop */ } }))
      // Loops end at their next check of `running`; one stuck on a dead stream is not waited for.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all(loops), new Promise(resolve => { timer = setTimeout(resolve, 3000); timer.unref() })])
      clearTimeout(timer)
    }
  }
}
