/**
 * Child-process script for the lifecycle test: starts N nodes on loopback, has each dial the next
 * (a ring of real handshakes), stops them all, and then simply returns. If anything (a socket, a
 * timer) were left behind, this process would not exit by itself.
 */
import { addressOf, startNode } from '../helpers/node.ts'

const count = Number(process.argv[2] ?? '20')
const nodes = await Promise.all(Array.from({ length: count }, async () => await startNode()))
// Each node ends up with two authenticated peers: the one it dialled and the one that dialled it.
const bothWays = nodes.map(async node => {
  await new Promise<void>(resolve => {
    const seen = (): void => { if (node.peers.size === 2) { node.events.off('peer:authenticated', seen); resolve() } }
    node.events.on('peer:authenticated', seen)
  })
})
await Promise.all(nodes.map(async (node, i) => await node.dial(addressOf(nodes[(i + 1) % count]))))
await Promise.all(bothWays)
const authenticated = nodes.reduce((n, node) => n + node.peers.size, 0)
await Promise.all(nodes.map(async node => { await node.stop() }))
process.stdout.write(JSON.stringify({ count, authenticated }) + '\n')
