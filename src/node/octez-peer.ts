import { BoundedCache } from '../chain/cache.ts'
import { toHex } from '../encoding/index.ts'
import type { PeerRef } from '../misbehaviour/index.ts'
import type { OctezConnection } from '../octez/connection.ts'
import type { AnswerKind, NetworkPeer } from '../peer/index.ts'
import { normaliseIp } from '../peers/greylist.ts'
import { blockHash } from '../wire/block-header.ts'
import { operationHash } from '../wire/operation.ts'
import type { P2pMessage } from '../wire/p2p-message.ts'
import { protocolHash } from '../wire/protocol-sources.ts'

/**
 * The key an answer is matched by on the Octez wire, or undefined for a message that answers
 * nothing. One connection carries everything and has no stream end (`src/lib_shell/p2p_reader.ml`
 * hands each answer to the requester of its table by key), so the key is all that ties an answer
 * to its request: block hash, (block hash, validation pass), (block hash, offset), operation
 * hash, protocol hash, or the chain for Current_branch / Current_head / Checkpoint.
 */
export function octezAnswerKey (m: P2pMessage): string | undefined {
  switch (m.tag) {
    case 'Block_header': return `Block_header:${toHex(blockHash(m.header))}`
    case 'Operation': return `Operation:${toHex(operationHash(m.operation))}`
    case 'Protocol': return `Protocol:${toHex(protocolHash(m.protocol))}`
    case 'Operations_for_blocks': return `Operations_for_blocks:${toHex(m.blockHash)}:${m.validationPass}`
    case 'Predecessor_header': return `Predecessor_header:${toHex(m.blockHash)}:${m.offset}`
    case 'Current_branch':
    case 'Current_head':
    case 'Checkpoint': return `${m.tag}:${toHex(m.chainId)}`
    case 'Protocol_branch': return `Protocol_branch:${toHex(m.chainId)}:${m.protoLevel}`
    default: return undefined
  }
}

/** The keys of the answers a request asks for (see `octezAnswerKey`). */
export function octezRequestKeys (r: P2pMessage): string[] {
  switch (r.tag) {
    case 'Get_block_headers': return r.blockHashes.map(h => `Block_header:${toHex(h)}`)
    case 'Get_operations': return r.operationHashes.map(h => `Operation:${toHex(h)}`)
    case 'Get_protocols': return r.protocolHashes.map(h => `Protocol:${toHex(h)}`)
    case 'Get_operations_for_blocks': return r.keys.map(k => `Operations_for_blocks:${toHex(k.blockHash)}:${k.validationPass}`)
    case 'Get_predecessor_header': return [`Predecessor_header:${toHex(r.blockHash)}:${r.offset}`]
    case 'Get_current_branch': return [`Current_branch:${toHex(r.chainId)}`]
    case 'Get_current_head': return [`Current_head:${toHex(r.chainId)}`]
    case 'Get_checkpoint': return [`Checkpoint:${toHex(r.chainId)}`]
    case 'Get_protocol_branch': return [`Protocol_branch:${toHex(r.chainId)}:${r.protoLevel}`]
    default: return []
  }
}

/** What became of an incoming answer. */
export type Delivery = 'delivered' | 'late' | 'unrequested'

interface Waiting {
  remaining: Set<string>
  answers: P2pMessage[]
  done: () => void
}

/** Keys whose request timed out are remembered this many at a time: their late answers are no fault. */
const EXPIRED_KEYS = 4096

let connectionCount = 0

/**
 * A peer on Octez's wire (`protocols/octez-wire.md`): `send` queues a message on the connection;
 * `request` sends the request messages and waits for the answers by key. An answer that never
 * comes is a timeout (the requester asks another peer); an answer nobody asked for is reported by
 * the reader (`octez-session.ts`) as `unrequested-data`.
 */
export class OctezPeer implements NetworkPeer {
  readonly wire = 'octez'
  readonly connection: OctezConnection
  readonly connectionId: string
  readonly remoteIp: string
  readonly ref: PeerRef
  /** The point (`ip:port`) this peer was dialled at or listens on, when known. */
  point: string | undefined
  private readonly waiting = new Map<string, Set<Waiting>>()
  private readonly expired = new BoundedCache<string, true>(EXPIRED_KEYS)

  constructor (connection: OctezConnection) {
    this.connection = connection
    this.connectionId = `octez-${++connectionCount}`
    this.remoteIp = normaliseIp(connection.remoteAddress) ?? connection.remoteAddress
    this.ref = { tezosPeerId: connection.tezosPeerId, ip: this.remoteIp }
  }

  get tezosPeerId (): string { return this.connection.tezosPeerId }
  get version (): OctezConnection['version'] { return this.connection.version }
  get metadata (): OctezConnection['metadata'] { return this.connection.metadata }
  /** The remote's listening point (`ip:port`) as Octez records it, when it has one. */
  get listeningPort (): number | undefined { return this.connection.listeningPort }
  get incoming (): boolean { return this.connection.incoming }

  async send (message: P2pMessage): Promise<void> {
    await this.connection.send(message)
  }

  async request (requests: readonly P2pMessage[], _kind: AnswerKind, signal: AbortSignal): Promise<P2pMessage[]> {
    const keys = [...new Set(requests.flatMap(octezRequestKeys))]
    const waiting: Waiting = { remaining: new Set(keys), answers: [], done: () => {} }
    const finished = new Promise<void>(resolve => { waiting.done = resolve })
    for (const key of keys) {
      let set = this.waiting.get(key)
      if (set === undefined) this.waiting.set(key, set = new Set())
      set.add(waiting)
    }
    const onAbort = (): void => { waiting.done() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      for (const r of requests) await this.connection.send(r)
      if (keys.length > 0 && !signal.aborted) await Promise.race([finished, this.connection.closed])
    } finally {
      signal.removeEventListener('abort', onAbort)
      for (const key of waiting.remaining) {
        const set = this.waiting.get(key)
        set?.delete(waiting)
        if (set?.size === 0) {
          this.waiting.delete(key)
          this.expired.set(key, true)
        }
      }
    }
    return waiting.answers
  }

  /** Hands an incoming answer to the requests waiting for its key. */
  deliver (message: P2pMessage): Delivery {
    const key = octezAnswerKey(message)
    if (key === undefined) return 'unrequested'
    const set = this.waiting.get(key)
    if (set !== undefined && set.size > 0) {
      this.waiting.delete(key)
      for (const w of set) {
        w.answers.push(message)
        w.remaining.delete(key)
        if (w.remaining.size === 0) w.done()
      }
      return 'delivered'
    }
    if (this.expired.get(key) !== undefined) {
      this.expired.delete(key)
      return 'late'
    }
    return 'unrequested'
  }

  /** Whether a request waits for this answer's key now (Current_branch / Current_head are also announcements). */
  awaits (message: P2pMessage): boolean {
    const key = octezAnswerKey(message)
    return key !== undefined && (this.waiting.get(key)?.size ?? 0) > 0
  }
}
