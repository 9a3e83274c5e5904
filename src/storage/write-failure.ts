import type { Database } from './database.ts'

/**
 * A write to the node's store failed because of the machine, not of the data: the disk is full,
 * the file system went read-only, permissions changed, an I/O error. LevelDB refuses every later
 * write once one has failed, so the node cannot go on: it reports this error once and stops
 * cleanly. Nothing applied is lost — each block is committed in one atomic batch, so the store
 * holds whole blocks up to the last committed head, and a restart resumes from there.
 */
export class StorageWriteError extends Error {
  override readonly name = 'StorageWriteError'
  /** What went wrong, in words (`the disk is full`, …). */
  readonly reason: string
  /** The store directory. */
  readonly path: string
  constructor (path: string, reason: string, options?: ErrorOptions) {
    super(`cannot write to the store at ${path}: ${reason}`, options)
    this.path = path
    this.reason = reason
  }
}

/** Known causes, matched on LevelDB's status text or on the Node.js errno code. */
const CAUSES: Array<{ code: string, text: RegExp, reason: string }> = [
  { code: 'ENOSPC', text: /no space left on device/i, reason: 'the disk is full (no space left on device); free some space, then restart the node' },
  { code: 'EDQUOT', text: /quota exceeded/i, reason: 'the disk quota is exceeded; free some space or raise the quota, then restart the node' },
  { code: 'EFBIG', text: /file too large/i, reason: 'a store file hit the file size limit (file too large); raise the limit (ulimit -f), then restart the node' },
  { code: 'EROFS', text: /read-only file system/i, reason: 'the file system is read-only; remount it read-write or choose another --data-dir' },
  { code: 'EACCES', text: /permission denied/i, reason: 'permission denied; give the node\'s user write access to the data dir' },
  { code: 'EPERM', text: /operation not permitted/i, reason: 'operation not permitted; give the node\'s user write access to the data dir' },
  { code: 'EIO', text: /input\/output error/i, reason: 'an input/output error on the disk; check the device' }
]

/** Describes an error raised by a store write, or `undefined` if it is not a machine failure. */
export function describeWriteFailure (err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined
  const codes = new Set<string>()
  const texts: string[] = []
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') codes.add(code)
    texts.push(e.message)
  }
  for (const cause of CAUSES) {
    if (codes.has(cause.code) || texts.some(t => cause.text.test(t))) return cause.reason
  }
  // classic-level reports every other LevelDB write failure as LEVEL_IO_ERROR.
  if (codes.has('LEVEL_IO_ERROR')) return `LevelDB I/O error (${texts[texts.length - 1]})`
  return undefined
}

type FailureListener = (error: StorageWriteError) => void

const listeners = new WeakMap<Database, Set<FailureListener>>()

/**
 * Calls `listener` whenever a write to `db` (or any of its sublevels: they write through the
 * root) fails for a machine reason. The failed call still rejects, with a `StorageWriteError`.
 *
 * Why here and not at every call site: the chain, the peer store and the greylist journal all
 * write to the one database, and a full disk must stop the node whichever of them meets it
 * first. abstract-level routes every sublevel's put/del/batch through the root's public methods,
 * so wrapping those three on the root instance sees every write.
 */
export function onStoreWriteFailure (db: Database, listener: FailureListener): () => void {
  let set = listeners.get(db)
  if (set === undefined) {
    set = new Set()
    listeners.set(db, set)
    wrapWrites(db, set)
  }
  set.add(listener)
  return () => { set.delete(listener) }
}

function wrapWrites (db: Database, set: Set<FailureListener>): void {
  const guard = (err: unknown): never => {
    const reason = describeWriteFailure(err)
    if (reason === undefined) throw err
    const failure = new StorageWriteError(db.location, reason, { cause: err })
    for (const l of set) {
      try { l(failure) } catch { /* a listener's fault must not hide the write failure thrown below */ }
    }
    throw failure
  }
  // The promise forms and chained batches (`db.batch()` then `write()`) are what the node uses; no callbacks.
  const put = db.put.bind(db)
  const del = db.del.bind(db)
  const batch = db.batch.bind(db) as (ops?: unknown[], options?: unknown) => Promise<void> | ChainedBatch
  Object.assign(db, {
    put: async (...args: Parameters<typeof put>) => await put(...args).catch(guard),
    del: async (...args: Parameters<typeof del>) => await del(...args).catch(guard),
    batch: (ops?: unknown[], options?: unknown) => {
      if (ops === undefined) {
        const chained = batch() as ChainedBatch
        const write = chained.write.bind(chained)
        chained.write = async (writeOptions?: unknown) => await write(writeOptions).catch(guard)
        return chained
      }
      return (batch(ops, options) as Promise<void>).catch(guard)
    }
  })
}

interface ChainedBatch {
  write: (options?: unknown) => Promise<void>
}
