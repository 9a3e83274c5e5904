/**
 * Child-process node for the multi-process peer tests. argv[2] is a JSON object of `NodeOptions`
 * (plus `identityPow`), the node runs on loopback with difficulty 0, and stdin/stdout speak JSON
 * lines:
 *
 *   → {"id":1,"cmd":"status"}             ← {"id":1,"status":{…}}
 *   → {"id":2,"cmd":"dial","address":…}   ← {"id":2,"ok":true} | {"id":2,"error":"…"}
 *   → {"id":3,"cmd":"stop"}               ← {"id":3,"ok":true}, then the process exits
 *
 * Before any command it prints {"ready":{…addresses and ids}}. SIGTERM stops the node gracefully
 * (as `tzp2p run` does), so the peer state is written to the store before the process exits.
 */
import { createInterface } from 'node:readline'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNode, type TzNode } from '../../src/node/create-node.ts'
import type { NodeOptions } from '../../src/node/options.ts'
import { identityWithPow } from '../helpers/node.ts'

const config = JSON.parse(process.argv[2] ?? '{}') as Partial<NodeOptions>
const keys = config.dataDir === undefined ? { identity: identityWithPow(0), privateKey: await generateKeyPair('Ed25519') } : {}
const node: TzNode = await createNode({
  chainName: 'TZP2P_E2E',
  expectedPow: 0,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  ...keys,
  ...config
})
await node.start()

function out (value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}

function status (): Record<string, unknown> {
  const counts = node.connectionManager?.directionCounts() ?? { inbound: 0, outbound: 0 }
  return {
    connections: node.peers.size,
    ...counts,
    peers: node.peers.list().map(p => p.tezosPeerId),
    points: node.pointBook?.all().map(p => ({
      key: p.key, state: p.state, trusted: p.trusted, knownPublic: p.knownPublic, lastFailedConnection: p.lastFailedConnection ?? null
    })) ?? [],
    greylist: node.greylist.list().map(e => e.key),
    maintenanceRuns: node.connectionManager?.maintenance.runs ?? 0
  }
}

out({
  ready: {
    address: node.getMultiaddrs()[0]?.toString(),
    tezosPeerId: node.identity.peerId,
    libp2pPeerId: node.peerId.toString()
  }
})

let stopping = false
async function stop (): Promise<void> {
  if (stopping) return
  stopping = true
  await node.stop()
}

process.on('SIGTERM', () => { void stop().then(() => process.exit(0)) })

const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  void (async () => {
    const request = JSON.parse(line) as { id: number, cmd: string, address?: string }
    try {
      if (request.cmd === 'status') out({ id: request.id, status: status() })
      else if (request.cmd === 'dial') {
        await node.dial(request.address ?? '')
        out({ id: request.id, ok: true })
      } else if (request.cmd === 'stop') {
        await stop()
        out({ id: request.id, ok: true })
        process.exit(0)
      } else out({ id: request.id, error: `unknown command ${request.cmd}` })
    } catch (err) {
      out({ id: request.id, error: `${(err as Error).name}: ${(err as Error).message}` })
    }
  })()
})
// The parent closing our stdin (it exited or was killed) ends us too.
lines.on('close', () => { void stop().then(() => process.exit(0)) })
