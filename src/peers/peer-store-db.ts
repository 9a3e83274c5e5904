import { z } from 'zod'
import { sublevel, type Database, type Sublevel } from '../storage/database.ts'
import { banTargetOf, type BanKind, type BanRecord } from './bans.ts'
import { InvalidPointError, pointFromKey, pointKey } from '../net/point.ts'
import type { PointRecord } from './point-info.ts'
import type { ScoreRecord } from './score.ts'

/**
 * Persistence of the peer layer in the node's database (sublevel `peers`): known points with their
 * failure history, bans, greylist entries and peer scores, so they survive a restart.
 *
 * Keys: `point:<point key>`, `ban:<ip|peer>:<value>`, `greylist:<ip|peer>:<value>`,
 * `score:<peer id>`. Values: UTF-8 JSON objects carrying a format version `v` (currently 1), so a
 * later tzp2p can change a record and still read old ones. Every record is validated when read; one
 * that does not decode raises `PeerStoreRecordError` naming its key — the store is never silently
 * reset or thinned, since a dropped ban would quietly let a banned peer back in.
 */

export const PEER_STORE_RECORD_VERSION = 1

/** A greylist entry as stored (the greylist's own entries fit this shape). */
export interface GreylistRecord {
  kind: BanKind
  key: string
  /** Expiry (ms since the epoch). */
  until: number
  since?: number
  reason?: string
}

/** A stored record that cannot be read: not UTF-8 JSON, an unknown version, or a wrong shape. */
export class PeerStoreRecordError extends Error {
  override readonly name = 'PeerStoreRecordError'
  /** Key of the record inside the `peers` part of the store. */
  readonly key: string
  readonly reason: string

  constructor (key: string, reason: string, options?: ErrorOptions) {
    super(`peer store record ${JSON.stringify(key)} cannot be read: ${reason}; the store may be corrupted or written by a newer tzp2p — ` +
      'move the data dir\'s store aside to start afresh, or remove this record with a LevelDB tool', options)
    this.key = key
    this.reason = reason
  }
}

const time = z.number().finite().nonnegative()
const peerId = z.string().min(1).max(128)
const peerAt = z.strictObject({ peerId: z.string().max(128), at: time })
const kind = z.enum(['ip', 'peer'])

const pointSchema = z.strictObject({
  v: z.literal(PEER_STORE_RECORD_VERSION),
  key: z.string().min(1).max(1100),
  knownPublic: z.boolean(),
  expectedPeerId: peerId.optional(),
  libp2pPeerId: peerId.optional(),
  addedAt: time,
  lastFailedConnection: time.optional(),
  lastRejectedConnection: peerAt.optional(),
  lastEstablishedConnection: peerAt.optional(),
  lastDisconnection: peerAt.optional(),
  reconnection: z.strictObject({ delayMs: time, endTime: time }).optional()
})
const banSchema = z.strictObject({ v: z.literal(PEER_STORE_RECORD_VERSION), kind, key: z.string().min(1), since: time, reason: z.string().optional() })
const greylistSchema = z.strictObject({
  v: z.literal(PEER_STORE_RECORD_VERSION), kind, key: z.string().min(1), until: time, since: time.optional(), reason: z.string().optional()
})
const scoreSchema = z.strictObject({ v: z.literal(PEER_STORE_RECORD_VERSION), peerId, score: z.number().finite().min(-100).max(0), updatedAt: time })

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

function encodeRecord (value: object): Uint8Array {
  return utf8.encode(JSON.stringify({ v: PEER_STORE_RECORD_VERSION, ...value }))
}

function decodeRecord<T> (key: string, bytes: Uint8Array, schema: z.ZodType<T & { v: number }>): Omit<T, 'v'> {
  let json: unknown
  try {
    json = JSON.parse(fromUtf8.decode(bytes))
  } catch (e) {
    throw new PeerStoreRecordError(key, `not UTF-8 JSON (${(e as Error).message})`, { cause: e })
  }
  const v = (json as { v?: unknown } | null)?.v
  if (typeof v === 'number' && v !== PEER_STORE_RECORD_VERSION) {
    throw new PeerStoreRecordError(key, `record format version ${v} is not known to this tzp2p (it reads version ${PEER_STORE_RECORD_VERSION})`)
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues.map(i => `${i.path.join('.') || '(record)'}: ${i.message}`).join(', ')
    throw new PeerStoreRecordError(key, `unexpected content (${problems})`)
  }
  // The version field has done its job (the schema checked it); the record is the rest.
  const record: Omit<typeof parsed.data, 'v'> & { v?: unknown } = { ...parsed.data }
  delete record.v
  return record
}

const POINT = 'point:'
const BAN = 'ban:'
const GREYLIST = 'greylist:'
const SCORE = 'score:'

export class PeerStore {
  private readonly db: Sublevel

  constructor (database: Database) {
    this.db = sublevel(database, 'peers')
  }

  // --- points -----------------------------------------------------------------------------------

  async savePoints (records: readonly PointRecord[]): Promise<void> {
    await this.db.batch(records.map(r => ({ type: 'put' as const, key: POINT + r.key, value: encodeRecord(r) })))
  }

  /** Makes the stored points exactly `records` in one atomic batch (points the book forgot are deleted). */
  async replacePoints (records: readonly PointRecord[]): Promise<void> {
    await this.replace(POINT, records.map(r => [POINT + r.key, encodeRecord(r)]))
  }

  async deletePoint (key: string): Promise<void> {
    await this.db.del(POINT + key)
  }

  async loadPoints (): Promise<PointRecord[]> {
    return await this.load(POINT, (key, bytes) => {
      const r = decodeRecord(key, bytes, pointSchema) as PointRecord
      if (POINT + r.key !== key) throw new PeerStoreRecordError(key, `the record names point ${JSON.stringify(r.key)}`)
      try {
        if (pointKey(pointFromKey(r.key)) !== r.key) throw new InvalidPointError(r.key, 'not in canonical form')
      } catch (e) {
        throw new PeerStoreRecordError(key, `bad point key: ${(e as Error).message}`, { cause: e })
      }
      return r
    })
  }

  // --- bans -------------------------------------------------------------------------------------

  async saveBan (record: BanRecord): Promise<void> {
    const r = banFields(record)
    await this.db.put(`${BAN}${r.kind}:${r.key}`, encodeRecord(r))
  }

  async deleteBan (kind: BanKind, key: string): Promise<void> {
    await this.db.del(`${BAN}${kind}:${key}`)
  }

  async replaceBans (records: readonly BanRecord[]): Promise<void> {
    const canonical = records.map(banFields)
    await this.replace(BAN, canonical.map(r => [`${BAN}${r.kind}:${r.key}`, encodeRecord(r)]))
  }

  async loadBans (): Promise<BanRecord[]> {
    return await this.load(BAN, (key, bytes) => {
      const r = decodeRecord(key, bytes, banSchema) as BanRecord
      checkAclKey(key, BAN, r.kind, r.key)
      return r
    })
  }

  // --- greylist ---------------------------------------------------------------------------------

  async saveGreylistEntry (entry: GreylistRecord): Promise<void> {
    const r = greylistFields(entry)
    await this.db.put(`${GREYLIST}${r.kind}:${r.key}`, encodeRecord(r))
  }

  async deleteGreylistEntry (kind: BanKind, key: string): Promise<void> {
    await this.db.del(`${GREYLIST}${kind}:${key}`)
  }

  async replaceGreylist (entries: readonly GreylistRecord[]): Promise<void> {
    const canonical = entries.map(greylistFields)
    await this.replace(GREYLIST, canonical.map(r => [`${GREYLIST}${r.kind}:${r.key}`, encodeRecord(r)]))
  }

  /** Stored greylist entries, expired ones included (the greylist decides what has expired). */
  async loadGreylist (): Promise<GreylistRecord[]> {
    return await this.load(GREYLIST, (key, bytes) => {
      const r = decodeRecord(key, bytes, greylistSchema) as GreylistRecord
      checkAclKey(key, GREYLIST, r.kind, r.key)
      return r
    })
  }

  // --- scores -----------------------------------------------------------------------------------

  async replaceScores (records: readonly ScoreRecord[]): Promise<void> {
    await this.replace(SCORE, records.map(r => [SCORE + r.peerId, encodeRecord(r)]))
  }

  async loadScores (): Promise<ScoreRecord[]> {
    return await this.load(SCORE, (key, bytes) => {
      const r = decodeRecord(key, bytes, scoreSchema) as ScoreRecord
      if (SCORE + r.peerId !== key) throw new PeerStoreRecordError(key, `the record names peer ${JSON.stringify(r.peerId)}`)
      return r
    })
  }

  // --- helpers ----------------------------------------------------------------------------------

  private async load<T> (prefix: string, decode: (key: string, bytes: Uint8Array) => T): Promise<T[]> {
    const out: T[] = []
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) out.push(decode(key, value))
    return out
  }

  private async replace (prefix: string, entries: Array<[string, Uint8Array]>): Promise<void> {
    const keep = new Set(entries.map(([k]) => k))
    const ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }> = []
    for await (const key of this.db.keys({ gte: prefix, lt: prefixEnd(prefix) })) if (!keep.has(key)) ops.push({ type: 'del', key })
    for (const [key, value] of entries) ops.push({ type: 'put', key, value })
    await this.db.batch(ops)
  }
}

/** The first string after every string starting with `prefix` (its last character incremented). */
function prefixEnd (prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

/** The stored form of a ban: its own fields only, the key normalised. */
function banFields (b: BanRecord): BanRecord {
  const r: BanRecord = { kind: b.kind, key: canonicalAclKey(b.kind, b.key), since: b.since }
  if (b.reason !== undefined) r.reason = b.reason
  return r
}

/** The stored form of a greylist entry: its own fields only (no extras), the key normalised. */
function greylistFields (e: GreylistRecord): GreylistRecord {
  const r: GreylistRecord = { kind: e.kind, key: canonicalAclKey(e.kind, e.key), until: e.until }
  if (e.since !== undefined) r.since = e.since
  if (e.reason !== undefined) r.reason = e.reason
  return r
}

export class InvalidAclKeyError extends TypeError {
  override readonly name = 'InvalidAclKeyError'
}

/** Normalises an IP or peer id before it is written, so the record reads back; refuses anything else. */
function canonicalAclKey (kind: BanKind, value: string): string {
  const target = banTargetOf(value)
  if (target === undefined || target.kind !== kind) {
    throw new InvalidAclKeyError(`cannot store ${JSON.stringify(value)} as ${kind === 'ip' ? 'an IP address' : 'a peer id'}`)
  }
  return target.key
}

function checkAclKey (storeKey: string, prefix: string, kind: BanKind, value: string): void {
  if (`${prefix}${kind}:${value}` !== storeKey) throw new PeerStoreRecordError(storeKey, `the record names ${kind} ${JSON.stringify(value)}`)
  const target = banTargetOf(value)
  if (target === undefined || target.kind !== kind || target.key !== value) {
    throw new PeerStoreRecordError(storeKey, `${JSON.stringify(value)} is not a normalised ${kind === 'ip' ? 'IP address' : 'peer id'}`)
  }
}

// --- keeping the store in step with the live state --------------------------------------------------

/** The live peer state a journal persists. */
export interface PersistedPeerState {
  pointBook: { snapshot: () => PointRecord[], restore: (records: readonly PointRecord[]) => void }
  scores: { snapshot: () => ScoreRecord[], restore: (records: readonly ScoreRecord[]) => void }
  greylist: { restore: (records: readonly GreylistRecord[]) => void }
  banList: { restore: (records: readonly BanRecord[]) => void }
}

export interface PeerStateJournalOptions {
  /** Points and scores change with every connection; they are written at most this often (default 30 s). */
  flushIntervalMs?: number
  /** A write that failed (the node keeps running; the next write tries again). */
  onError?: (error: Error) => void
}

export type JournalChange =
  | { type: 'add', entry: GreylistRecord }
  | { type: 'remove', kind: BanKind, key: string }
  | { type: 'ban', record: BanRecord }
  | { type: 'unban', kind: BanKind, key: string }
  | { type: 'clear-greylist' }
  | { type: 'clear-bans' }

/**
 * Keeps the store in step with the live peer state. Greylist and ban changes are rare and matter
 * (a lost ban lets a banned peer back in after a crash), so each is written as it happens, in
 * order, through one queue. The point book and the scores change on every connection, so they are
 * written as whole snapshots at most every `flushIntervalMs`, and on `close()`.
 */
export class PeerStateJournal {
  private readonly store: PeerStore
  private readonly state: PersistedPeerState
  private readonly flushIntervalMs: number
  private readonly onError: (error: Error) => void
  private queue: Promise<void> = Promise.resolve()
  private dirty = false
  private timer: ReturnType<typeof setInterval> | undefined
  private closed = false

  constructor (store: PeerStore, state: PersistedPeerState, options: PeerStateJournalOptions = {}) {
    this.store = store
    this.state = state
    this.flushIntervalMs = options.flushIntervalMs ?? 30_000
    this.onError = options.onError ?? (() => {})
  }

  /**
   * Restores every stored record into the live state, then starts the periodic flush. A record that
   * does not decode throws `PeerStoreRecordError`: the node must not start on a half-read store.
   */
  async load (): Promise<{ points: number, greylist: number, bans: number, scores: number }> {
    const [points, greylist, bans, scores] = await Promise.all([
      this.store.loadPoints(), this.store.loadGreylist(), this.store.loadBans(), this.store.loadScores()
    ])
    this.state.banList.restore(bans)
    this.state.greylist.restore(greylist)
    this.state.pointBook.restore(points)
    this.state.scores.restore(scores)
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = setInterval(() => { if (this.dirty) void this.flush() }, this.flushIntervalMs)
    this.timer.unref()
    return { points: points.length, greylist: greylist.length, bans: bans.length, scores: scores.length }
  }

  /** Records one greylist or ban change (queued, written in order). */
  record (change: JournalChange): void {
    if (this.closed) return
    this.enqueue(async () => {
      switch (change.type) {
        case 'add': await this.store.saveGreylistEntry(change.entry); break
        case 'remove': await this.store.deleteGreylistEntry(change.kind, change.key); break
        case 'ban': await this.store.saveBan(change.record); break
        case 'unban': await this.store.deleteBan(change.kind, change.key); break
        case 'clear-greylist': await this.store.replaceGreylist([]); break
        case 'clear-bans': await this.store.replaceBans([]); break
      }
    })
  }

  /** Points or scores changed: they go out with the next flush. */
  markDirty (): void {
    this.dirty = true
  }

  /** Writes the point book and the scores now (after the changes already queued). */
  async flush (): Promise<void> {
    this.dirty = false
    const points = this.state.pointBook.snapshot()
    const scores = this.state.scores.snapshot()
    this.enqueue(async () => {
      await this.store.replacePoints(points)
      await this.store.replaceScores(scores)
    })
    await this.queue
  }

  /** Final flush; later changes are ignored. */
  async close (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    if (this.closed) { await this.queue; return }
    await this.flush()
    this.closed = true
  }

  private enqueue (write: () => Promise<void>): void {
    this.queue = this.queue.then(write).catch((err: Error) => {
      this.dirty = true
      this.onError(err)
    })
  }
}
