import type { ProtocolManifest } from '../protocol/manifest.ts'
import type { UnknownProtocolError } from './errors.ts'
import type { ProtocolLevel } from './protocol-levels.ts'

/**
 * Protocols the chain needed but did not have, and what became of them: the RPC shows them
 * (`/chains/main/protocols`, `/protocols/<hash>`), the node logs their first sighting once.
 *
 * - `fetching`: asked peers with Get_protocols, no answer yet;
 * - `not-installed`: a peer sent it (hash checked) but no installed implementation matches its
 *   manifest — the branch that needs it is not followed;
 * - `unavailable`: no peer had it;
 * - `installed`: an implementation was registered (or matched) since; the branch can be followed.
 */
export type MissingProtocolState = 'fetching' | 'not-installed' | 'unavailable' | 'installed'

export interface MissingProtocolRecord {
  /** b58 `P…`. */
  protocol: string
  protoLevel: number
  /** Level of the first block that needs it. */
  level: number
  /** b58 `B…` of that block (unknown when the node found the protocol missing in its own store at start). */
  block?: string
  state: MissingProtocolState
  /** The manifest a peer sent, when it was a tzp2p manifest. */
  manifest?: ProtocolManifest
  /** Why the received protocol could not be used (e.g. not a tzp2p manifest). */
  reason?: string
  /** Milliseconds since the epoch of the first sighting. */
  since: number
}

/** Bounded: at most this many protocols are remembered (a peer cannot make it grow without end). */
const MAX_RECORDS = 64

export class ProtocolWatch {
  private readonly records = new Map<string, MissingProtocolRecord>()

  /** Records a sighting; true the first time this protocol is seen missing (or seen again after being dropped). */
  note (e: UnknownProtocolError, now: number): boolean {
    const existing = this.records.get(e.protocol)
    if (existing !== undefined && existing.state !== 'installed') return false
    if (existing === undefined && this.records.size >= MAX_RECORDS) {
      const oldest = this.records.keys().next().value
      if (oldest !== undefined) this.records.delete(oldest)
    }
    this.records.set(e.protocol, { protocol: e.protocol, protoLevel: e.protoLevel, level: e.level, block: e.block, state: 'fetching', since: now })
    return true
  }

  /**
   * Records a protocol the head leads to that is not installed, found without a block (at start,
   * from the stored protocol table); false if it is already recorded.
   */
  noteLevel (level: ProtocolLevel, now: number): boolean {
    if (this.records.has(level.protocol) && this.records.get(level.protocol)?.state !== 'installed') return false
    this.records.set(level.protocol, { protocol: level.protocol, protoLevel: level.protoLevel, level: level.firstLevel, state: 'fetching', since: now })
    return true
  }

  update (protocol: string, patch: Partial<Pick<MissingProtocolRecord, 'state' | 'manifest' | 'reason'>>): void {
    const r = this.records.get(protocol)
    if (r !== undefined) Object.assign(r, patch)
  }

  get (protocol: string): MissingProtocolRecord | undefined {
    const r = this.records.get(protocol)
    return r === undefined ? undefined : { ...r }
  }

  list (): MissingProtocolRecord[] {
    return [...this.records.values()].map(r => ({ ...r }))
  }
}
