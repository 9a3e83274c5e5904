import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { b58Decode } from '../crypto/index.ts'
import { normaliseIpAddress } from '../net/point.ts'

/**
 * The ban list (Octez's blacklist, `P2p_acl.IPBlacklist`/`PeerBlacklist`): IP addresses and peer
 * ids refused until an operator lifts the ban through the node API. Unbounded, as in Octez — only
 * an operator adds to it, never a peer. Peer ids are Tezos ones (`id…`, known after the
 * handshake) or libp2p PeerIds (known as soon as Noise completes), so the connection gater can
 * refuse a banned peer at the earliest point either is known.
 */

export type BanKind = 'ip' | 'peer'

export interface BanRecord {
  kind: BanKind
  /** Normalised IP, Tezos `id…`, or libp2p PeerId in its base58 form. */
  key: string
  /** When the ban was set (ms since the epoch). */
  since: number
  reason?: string
}

export type BanChange = { type: 'ban', record: BanRecord } | { type: 'unban', kind: BanKind, key: string } | { type: 'clear' }

/** Something that is neither an IP address nor a Tezos or libp2p peer id. */
export class InvalidBanTargetError extends Error {
  override readonly name = 'InvalidBanTargetError'
  readonly target: string
  constructor (target: string) {
    super(`cannot ban ${JSON.stringify(target)}: expected an IP address (1.2.3.4, ::1), a Tezos peer id (id…) or a libp2p peer id (12D3Koo…, Qm…)`)
    this.target = target
  }
}

/** Classifies and normalises a ban target; undefined when it is none of the accepted forms. */
export function banTargetOf (target: string | PeerId): { kind: BanKind, key: string } | undefined {
  if (typeof target !== 'string') return { kind: 'peer', key: target.toString() }
  const ip = normaliseIpAddress(target)
  if (ip !== undefined) return { kind: 'ip', key: ip.address }
  if (target.startsWith('id')) {
    try {
      b58Decode('peerId', target)
      return { kind: 'peer', key: target }
    } catch {
      // not a Tezos peer id; it may still be a libp2p one
    }
  }
  try {
    return { kind: 'peer', key: peerIdFromString(target).toString() }
  } catch {
    return undefined
  }
}

export interface BanListOptions {
  now?: () => number
  /** Told about every change, e.g. to persist it. */
  onChange?: (change: BanChange) => void
}

export class BanList {
  private readonly ips = new Map<string, BanRecord>()
  private readonly peers = new Map<string, BanRecord>()
  private readonly now: () => number
  private readonly onChange: (change: BanChange) => void

  constructor (options: BanListOptions = {}) {
    this.now = options.now ?? Date.now
    this.onChange = options.onChange ?? (() => {})
  }

  /** Bans an IP or a peer id (recognised by its form). Throws `InvalidBanTargetError` for anything else. */
  ban (target: string | PeerId, reason?: string): BanRecord {
    const t = banTargetOf(target)
    if (t === undefined) throw new InvalidBanTargetError(String(target))
    const record: BanRecord = { kind: t.kind, key: t.key, since: this.now() }
    if (reason !== undefined) record.reason = reason
    this.table(t.kind).set(t.key, record)
    this.onChange({ type: 'ban', record })
    return record
  }

  banIp (ip: string, reason?: string): BanRecord {
    if (normaliseIpAddress(ip) === undefined) throw new InvalidBanTargetError(ip)
    return this.ban(ip, reason)
  }

  banPeer (peer: string | PeerId, reason?: string): BanRecord {
    const t = banTargetOf(peer)
    if (t?.kind !== 'peer') throw new InvalidBanTargetError(String(peer))
    return this.ban(peer, reason)
  }

  /** Lifts a ban; returns whether there was one. */
  unban (target: string | PeerId): boolean {
    const t = banTargetOf(target)
    if (t === undefined) return false
    const removed = this.table(t.kind).delete(t.key)
    if (removed) this.onChange({ type: 'unban', kind: t.kind, key: t.key })
    return removed
  }

  /**
   * True if the IP or peer id is banned. Never throws: the gater asks with whatever the remote
   * gave, and anything unrecognisable is simply not banned.
   */
  isBanned (target: string | PeerId | undefined): boolean {
    if (target === undefined) return false
    const t = banTargetOf(target)
    return t !== undefined && this.table(t.kind).has(t.key)
  }

  list (): BanRecord[] {
    return [...this.ips.values(), ...this.peers.values()].map(r => ({ ...r }))
  }

  get size (): number {
    return this.ips.size + this.peers.size
  }

  clear (): void {
    this.ips.clear()
    this.peers.clear()
    this.onChange({ type: 'clear' })
  }

  /** Loads persisted bans (without change notifications: they are already stored). */
  restore (records: readonly BanRecord[]): void {
    for (const r of records) {
      const t = banTargetOf(r.key)
      if (t === undefined || t.kind !== r.kind) throw new InvalidBanTargetError(r.key)
      this.table(t.kind).set(t.key, { ...r, key: t.key })
    }
  }

  private table (kind: BanKind): Map<string, BanRecord> {
    return kind === 'ip' ? this.ips : this.peers
  }
}
