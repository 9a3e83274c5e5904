import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import dns2 from 'dns2'
import { startNode, stopAll } from '../helpers/node.ts'
import { pointKeyOf, startManaged } from './managed-helpers.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * DNS bootstrap through a real DNS server on loopback (UDP, dns2): a node given only a bootstrap
 * name finds its peers through A and TXT records, trusts them, and follows the records when they
 * change.
 */

const { UDPServer, Packet } = dns2
const NAME = 'boot.tzp2p.test'
let zone: { A: string[], TXT: string[][] } = { A: [], TXT: [] }
const server = new UDPServer((request, send) => {
  const response = Packet.createResponseFromRequest(request)
  const [question] = request.questions
  if (question.name.toLowerCase() === NAME) {
    if (question.type === Packet.TYPE.A) for (const address of zone.A) response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, address }))
    if (question.type === Packet.TYPE.TXT) for (const data of zone.TXT) response.answers.push(Packet.createResourceFromQuestion(question, { ttl: 1, data }))
  } else {
    response.header.rcode = 3 // NXDOMAIN
  }
  void send(response)
})
let resolver = ''
before(async () => {
  await server.listen(0, '127.0.0.1')
  resolver = `127.0.0.1:${server.address().port}`
})
after(() => { server.close() })

const portOf = (key: string): number => Number(key.split('/')[4])

describe('DNS bootstrap in a running node', () => {
  for (const mode of ['when it runs out of candidates', 'periodically'] as const) {
    it(`finds its first peer by name and follows a changed record (re-resolved ${mode})`, { timeout: 40_000 }, async () => {
      const first = await startNode()
      const second = await startNode()
      const firstKey = pointKeyOf(first)
      zone = { A: ['127.0.0.1'], TXT: [] }
      const node = await startManaged({
        bootstrapDns: [`${NAME}:${portOf(pointKeyOf(first))}`],
        dnsResolvers: [resolver],
        dnsRefreshIntervalMs: mode === 'periodically' ? 300 : null,
        reconnection: { initialDelayMs: 100, disconnectionDelayMs: 100 },
        limits: { minConnections: 1, expectedConnections: 1, maxConnections: 3, maintenanceIdleTimeMs: 60_000 }
      })
      try {
        await waitFor(() => node.peers.get(first.identity.peerId) !== undefined, { what: 'connected to the peer the A record names' })
        assert.equal(node.pointBook?.get(firstKey)?.trusted, true)

        // The record moves to a TXT multiaddr naming the second peer; the first goes away.
        zone = { A: [], TXT: [[`tzp2p=${pointKeyOf(second)}/p2p/${second.peerId.toString()}`], ['v=spf1 -all']] }
        await first.stop()
        await waitFor(() => node.peers.get(second.identity.peerId) !== undefined, { what: 'connected to the peer the new record names' })
        const moved = node.pointBook?.get(pointKeyOf(second))
        assert.equal(moved?.trusted, true)
        assert.equal(moved?.libp2pPeerId, second.peerId.toString())
        assert.equal(node.pointBook?.get(firstKey)?.trusted, false, 'a point no longer resolved stops being trusted')
      } finally {
        await stopAll(node, first, second)
      }
    })
  }
})
