import { ClassicLevel } from 'classic-level'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The node's one embedded database (LevelDB through classic-level) in `<data dir>/store`.
 * Parts of the node each own a sublevel (`chain`, `peers`, …) so their keys never collide, and a
 * batch that spans several sublevels still commits atomically.
 *
 * The store carries a format marker written on creation. Opening checks it, so a database from
 * another program, another format version or another chain is refused with a clear error instead
 * of being silently reset or misread.
 */

export type Database = ClassicLevel<string, Uint8Array>

export const DATABASE_FORMAT = 'tzp2p-store/1'
const FORMAT_KEY = 'meta:format'
const CHAIN_KEY = 'meta:chain-name'

export class DatabaseError extends Error {
  override readonly name: string = 'DatabaseError'
  readonly path: string
  constructor (path: string, message: string, options?: ErrorOptions) {
    super(`${message} (database at ${path})`, options)
    this.path = path
  }
}

/** The directory holds something that is not a tzp2p store, or a store of another format/chain. */
export class ForeignDatabaseError extends DatabaseError {
  override readonly name = 'ForeignDatabaseError'
}

/** LevelDB could not open the store (corrupted files, held by another process, unwritable). */
export class DatabaseOpenError extends DatabaseError {
  override readonly name = 'DatabaseOpenError'
}

export interface OpenDatabaseOptions {
  /** Chain the store belongs to; a store created for another chain is refused. */
  chainName: string
}

/** A named part of the store with string keys and byte values (classic-level sublevels default to utf8 values). */
export function sublevel (db: Database, name: string) {
  return db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
}

export type Sublevel = ReturnType<typeof sublevel>

export function databasePath (dataDir: string): string {
  return join(dataDir, 'store')
}

export async function openDatabase (dataDir: string, options: OpenDatabaseOptions): Promise<Database> {
  const path = databasePath(dataDir)
  try {
    await mkdir(path, { recursive: true })
  } catch (e) {
    throw new DatabaseOpenError(path, `cannot create the store directory: ${(e as Error).message}`, { cause: e })
  }
  // No Snappy compression: most of what is stored is hashes, signatures and keys, which do not
  // compress, and compressing every table file on flush and compaction cost CPU on the thread
  // that writes the blocks a bootstrap applies (docs/profiles.md, "Applying blocks"). Each table
  // records its own compression, so stores written before open as they are.
  // A 16 MiB memtable (LevelDB's default is 4 MiB) flushes a bootstrap's writes in fewer, larger
  // tables, so fewer compactions rewrite them: a third less LevelDB CPU per block at 30 000 blocks.
  // The memtable grows only with what is written, so an idle node does not pay for it.
  const db: Database = new ClassicLevel<string, Uint8Array>(path, {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
    compression: false,
    writeBufferSize: 16 << 20
  })
  try {
    await db.open()
  } catch (e) {
    const cause = (e as { cause?: Error }).cause ?? (e as Error)
    const hint = /lock/i.test(cause.message)
      ? 'is another tzp2p node running on this data dir?'
      : 'the files may be corrupted; move the store directory away to start a fresh one'
    throw new DatabaseOpenError(path, `cannot open the store: ${cause.message}; ${hint}`, { cause: e })
  }
  try {
    await checkFormat(db, path, options)
  } catch (e) {
    await db.close()
    throw e
  }
  return db
}

const text = new TextEncoder()
const untext = new TextDecoder()

async function checkFormat (db: Database, path: string, options: OpenDatabaseOptions): Promise<void> {
  const format = await db.get(FORMAT_KEY)
  if (format === undefined) {
    // A fresh store has no keys at all; anything else without our marker is someone else's data.
    for await (const key of db.keys({ limit: 1 })) {
      throw new ForeignDatabaseError(path, `the store holds data (first key ${JSON.stringify(key)}) but no tzp2p format marker; it was not written by tzp2p`)
    }
    await db.batch([
      { type: 'put', key: FORMAT_KEY, value: text.encode(DATABASE_FORMAT) },
      { type: 'put', key: CHAIN_KEY, value: text.encode(options.chainName) }
    ])
    return
  }
  const found = untext.decode(format)
  if (found !== DATABASE_FORMAT) {
    throw new ForeignDatabaseError(path, `store format is ${JSON.stringify(found)}, this tzp2p reads ${JSON.stringify(DATABASE_FORMAT)}`)
  }
  const chain = await db.get(CHAIN_KEY)
  const chainName = chain === undefined ? undefined : untext.decode(chain)
  if (chainName !== options.chainName) {
    throw new ForeignDatabaseError(path, `store belongs to chain ${JSON.stringify(chainName)}, not ${JSON.stringify(options.chainName)}; use another --data-dir for another chain`)
  }
}
