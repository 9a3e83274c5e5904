/**
 * tzp2p as the gossip backbone of an application: a shared board of notes. Each node posts notes
 * (its own data, checked by its own Protocol, `notes-protocol.ts`); tzp2p gossips them to every
 * peer, one node (the sequencer) orders them into blocks, and every node ends up with the same
 * board, in the same order.
 *
 *   node examples/gossip-backbone/main.ts [--nodes 3] [--notes 3]
 *
 * The nodes run in this one process for the demonstration, on loopback; each is a complete tzp2p
 * node (its own identity, store, TCP port), so the same code runs one node per machine by giving
 * `peers` the sequencer's address. The last line printed is a JSON summary.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { b58Encode, createNode, encode, namedGenesis, operationCodec, type HeadChange, type TzNode } from 'tzp2p'
import { createNotesProtocol } from './notes-protocol.ts'
import { decodeNote, encodeNote, type Note } from './note.ts'

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '3' }, notes: { type: 'string', default: '3' } } })
const nodeCount = Number(values.nodes)
const notesPerNode = Number(values.notes)
if (!(Number.isInteger(nodeCount) && nodeCount >= 2 && nodeCount <= 20)) throw new RangeError('--nodes is 2..20')
if (!(Number.isInteger(notesPerNode) && notesPerNode >= 1 && notesPerNode <= 100)) throw new RangeError('--notes is 1..100')

/** All nodes agree on the chain: the same protocol and a genesis derived from a name. */
const protocolHash = createNotesProtocol().hash
const genesis = namedGenesis('gossip-backbone-notes', BigInt(Math.floor(Date.now() / 1000) - 60), protocolHash)

interface BoardNode {
  name: string
  node: TzNode
  /** Notes in block order, as this node saw them applied. */
  board: string[]
}

const say = (line: string): void => { process.stdout.write(`${line}\n`) }
const describe = (n: Note): string => `${n.author}#${n.seq} "${n.text}"`

async function startBoardNode (name: string, dataDir: string, sequencer: string | undefined): Promise<BoardNode> {
  const node = await createNode({
    dataDir,
    expectedPow: 0,
    chainName: 'NOTES_EXAMPLE',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    // Everyone is told of the sequencer; peer exchange introduces the others.
    peers: sequencer === undefined ? [] : [sequencer],
    chain: {
      protocol: createNotesProtocol(),
      genesis,
      synchronisation: { threshold: 0 },
      // The sequencer bakes a block of pending notes every 250 ms (the protocol signs nothing: no key).
      ...(sequencer === undefined ? { baker: { key: new Uint8Array(0), intervalMs: 250 } } : {})
    }
  })
  const self: BoardNode = { name, node, board: [] }
  node.on('operation', ({ operation }) => { say(`[${name}] pending  ${describe(decodeNote(operation.data))}`) })
  // Blocks that joined this node's chain, oldest first; their notes are read from the store one
  // change after the other, so the board keeps block order.
  let reading: Promise<void> = Promise.resolve()
  node.on('head', (change: HeadChange) => {
    reading = reading.then(async () => {
      for (const block of change.applied) {
        for (const op of await node.chain?.getOperations(block.hash, 0) ?? []) {
          const note = decodeNote(op.data)
          self.board.push(`${note.author}#${note.seq}`)
          say(`[${name}] block ${block.header.shell.level} ${describe(note)}`)
        }
      }
    })
  })
  node.on('peer:authenticated', peer => { say(`[${name}] connected to ${peer.tezosPeerId} (${peer.direction})`) })
  await node.start()
  return self
}

const base = await mkdtemp(join(tmpdir(), 'tzp2p-gossip-backbone-'))
const nodes: BoardNode[] = []
try {
  nodes.push(await startBoardNode('node0', join(base, 'node0'), undefined))
  const seq = nodes[0].node.getMultiaddrs()[0].toString()
  say(`sequencer node0 listens on ${seq}`)
  for (let i = 1; i < nodeCount; i++) nodes.push(await startBoardNode(`node${i}`, join(base, `node${i}`), seq))
  // Wait until every node is connected to someone (the maintenance loop dials the sequencer).
  await Promise.all(nodes.map(async b => {
    if (b.node.peers.size > 0) return
    await new Promise<void>(resolve => { b.node.once('peer:authenticated', () => { resolve() }) })
  }))

  // Every node posts its notes: an operation is the note's bytes, branched on the node's head.
  for (const b of nodes) {
    for (let s = 1; s <= notesPerNode; s++) {
      const data = encodeNote({ author: b.name, seq: s, text: `hello ${s} from ${b.name}` })
      const { hash } = await b.node.inject(encode(operationCodec, { branch: b.node.head()!.hash, data }))
      say(`[${b.name}] posted   ${b.name}#${s} as ${b58Encode('operationHash', hash)}`)
    }
  }

  const expected = nodeCount * notesPerNode
  const deadline = Date.now() + 60_000
  while (nodes.some(b => b.board.length < expected)) {
    if (Date.now() > deadline) throw new Error(`boards incomplete after 60 s: ${nodes.map(b => `${b.name} ${b.board.length}/${expected}`).join(', ')}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const boards = nodes.map(b => b.board.join(','))
  process.stdout.write(`${JSON.stringify({
    event: 'summary',
    nodes: nodeCount,
    notes: expected,
    identical: boards.every(b => b === boards[0]),
    board: nodes[0].board,
    boards: Object.fromEntries(nodes.map(b => [b.name, b.board.length]))
  })}\n`)
} finally {
  await Promise.all(nodes.map(async b => { await b.node.stop() }))
  await rm(base, { recursive: true, force: true })
}
