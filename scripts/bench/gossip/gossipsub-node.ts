/**
 * One `@libp2p/gossipsub` node of the gossip benchmark's reference run, in its own process: the
 * same libp2p stack as a tzp2p node (TCP, Noise, yamux with mplex offered, identify, ping, the
 * same prometheus byte counters) with gossipsub in place of the Tezos protocols, every option at
 * gossipsub's defaults. It is a measuring harness, not part of the node.
 *
 *   node scripts/bench/gossip/gossipsub-node.ts [listen multiaddr, default /ip4/127.0.0.1/tcp/0] [operations]
 *
 * With `operations` (`--operations-via-mempool`), the node also subscribes to an operations
 * topic, on which the benchmark publishes each block's operations ahead of the block, as tzp2p's
 * mempools gossip them; the block message still carries its operations in full (a push protocol
 * has no way to leave out what the receiver already holds).
 *
 * With `--consensus`, the `endorse` command gives the node its endorsement of each block (the
 * bytes its tzp2p counterpart made), which it publishes on the operations topic as the block
 * arrives (the producer: as it publishes the block), one message per node per block.
 *
 * Events (stdout): `ready`, `arrival` (kind `head`: a block payload was delivered on the topic),
 * `connected`, `peers` (connected peers, topic subscribers, mesh size), `mark`, `published`,
 * `error`. Commands (stdin): `connect`, `peers`, `mark`, `publish` (blocks), `publish-operations`, `endorse`, `stop`.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { ping } from '@libp2p/ping'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { Registry } from 'prom-client'
import { fromHex } from '../../../src/encoding/index.ts'
import { dialAll, emit, now, payloadKey, sentBytes, serveCommands, type Command } from './child-io.ts'

const TOPIC = 'tzp2p-bench/blocks'
const OPERATIONS_TOPIC = 'tzp2p-bench/operations'
const withOperations = process.argv[3] === 'operations'
const registry = new Registry()
const libp2p = await createLibp2p({
  privateKey: await generateKeyPair('Ed25519'),
  addresses: { listen: [process.argv[2] ?? '/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux(), mplex()],
  services: { identify: identify(), ping: ping(), pubsub: gossipsub() },
  metrics: prometheusMetrics({ registry, preserveExistingMetrics: true }),
  // On loopback every node shares 127.0.0.1: libp2p's default of 5 new inbound connections/s per IP would refuse some edges.
  connectionManager: { inboundConnectionThreshold: 1_000_000 }
})
const pubsub = libp2p.services.pubsub
/** `getMeshPeers` is on gossipsub's class, not on its exported interface. */
const mesh = pubsub as unknown as { getMeshPeers: (topic: string) => string[] }

/** Block key → this node's endorsement of it (`endorse`). */
let endorsements = new Map<string, Uint8Array>()
/** With `--consensus`: endorsements this node published and received on the operations topic (the `mark` counters). */
const endorsementCounts = { published: 0, received: 0 }

/** Publishes this node's endorsement of a block, if it has one (each block is endorsed once). */
function endorse (key: string): void {
  const op = endorsements.get(key)
  if (op === undefined) return
  endorsements.delete(key)
  endorsementCounts.published++
  pubsub.publish(OPERATIONS_TOPIC, op).catch((err: unknown) => { emit({ event: 'error', cmd: 'endorse', name: (err as Error).name, message: (err as Error).message }) })
}

pubsub.addEventListener('message', e => {
  const t = now()
  if (e.detail.topic === OPERATIONS_TOPIC && endorsements.size + endorsementCounts.published > 0) endorsementCounts.received++
  if (e.detail.topic !== TOPIC) return
  const key = payloadKey(e.detail.data)
  emit({ event: 'arrival', kind: 'head', key, t })
  endorse(key)
})

/** Publishes payload i at start + i × interval, reporting when each publish began. */
async function publish (payloads: string[], intervalMs: number): Promise<Array<{ key: string, t: number, recipients: number }>> {
  const bytes = payloads.map(p => fromHex(p))
  const out = []
  const start = now()
  for (let i = 0; i < bytes.length; i++) {
    const wait = start + i * intervalMs - now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    const t = now()
    const result = await pubsub.publish(TOPIC, bytes[i])
    const key = payloadKey(bytes[i])
    out.push({ key, t, recipients: result.recipients.length })
    endorse(key)
  }
  return out
}

async function command (c: Command): Promise<void> {
  switch (c.cmd) {
    case 'connect': {
      const addresses = c.addresses as string[]
      await dialAll(addresses, async a => await libp2p.dial(multiaddr(a)))
      emit({ event: 'connected', count: addresses.length })
      return
    }
    case 'peers':
      emit({
        event: 'peers',
        peers: libp2p.getConnections().map(conn => conn.remotePeer.toString()),
        subscribers: pubsub.getSubscribers(TOPIC).length,
        mesh: mesh.getMeshPeers(TOPIC).length
      })
      return
    case 'mark':
      emit({
        event: 'mark',
        ...await sentBytes(registry),
        counters: endorsementCounts.published + endorsements.size > 0 ? { 'endorsements published': endorsementCounts.published, 'endorsements received': endorsementCounts.received } : {}
      })
      return
    case 'publish':
      emit({ event: 'published', heads: await publish(c.payloads as string[], c.intervalMs as number) })
      return
    case 'publish-operations':
      for (const op of c.operations as string[]) await pubsub.publish(OPERATIONS_TOPIC, fromHex(op))
      emit({ event: 'published-operations' })
      return
    case 'endorse':
      endorsements = new Map(Object.entries(c.byBlock as Record<string, string>).map(([k, v]) => [k, fromHex(v)]))
      emit({ event: 'endorsing', blocks: endorsements.size })
      return
    case 'stop':
      await libp2p.stop()
      emit({ event: 'stopped' })
      process.exit(0)
  }
}

await libp2p.start()
pubsub.subscribe(TOPIC)
if (withOperations) pubsub.subscribe(OPERATIONS_TOPIC)
emit({ event: 'ready', address: libp2p.getMultiaddrs()[0].toString(), peer: libp2p.peerId.toString() })
serveCommands(command, async () => { await libp2p.stop() })
