import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { openDatabase, sublevel, databasePath, ForeignDatabaseError, DatabaseOpenError } from '../../src/storage/database.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

test('a new store is created, marked, and reopens with its data', async () => {
  const dir = await tempDir('db')
  try {
    const db = await openDatabase(dir, { chainName: 'TEST' })
    await sublevel(db, 'peers').put('x', Uint8Array.of(1, 2, 3))
    await db.close()
    const again = await openDatabase(dir, { chainName: 'TEST' })
    const got = await sublevel(again, 'peers').get('x')
    assert.ok(got !== undefined)
    assert.deepEqual(Uint8Array.from(got), Uint8Array.of(1, 2, 3))
    await again.close()
  } finally { await removeDir(dir) }
})

test('a store of another chain is refused with a clear error', async () => {
  const dir = await tempDir('db')
  try {
    await (await openDatabase(dir, { chainName: 'A' })).close()
    await assert.rejects(openDatabase(dir, { chainName: 'B' }), (e: Error) =>
      e instanceof ForeignDatabaseError && /belongs to chain "A"/.test(e.message))
  } finally { await removeDir(dir) }
})

test('a LevelDB written by another program is refused, not reset', async () => {
  const dir = await tempDir('db')
  try {
    const other = new ClassicLevel(databasePath(dir))
    await other.put('someone', 'else')
    await other.close()
    await assert.rejects(openDatabase(dir, { chainName: 'A' }), ForeignDatabaseError)
    const check = new ClassicLevel(databasePath(dir))
    assert.equal(await check.get('someone'), 'else')
    await check.close()
  } finally { await removeDir(dir) }
})

test('corrupted store files give DatabaseOpenError', async () => {
  const dir = await tempDir('db')
  try {
    await (await openDatabase(dir, { chainName: 'A' })).close()
    const path = databasePath(dir)
    for (const f of await readdir(path)) {
      if (f.startsWith('MANIFEST') || f === 'CURRENT') await writeFile(join(path, f), 'garbage')
    }
    await assert.rejects(openDatabase(dir, { chainName: 'A' }), DatabaseOpenError)
  } finally { await removeDir(dir) }
})

test('a store held by another handle gives DatabaseOpenError naming the lock', async () => {
  const dir = await tempDir('db')
  try {
    const db = await openDatabase(dir, { chainName: 'A' })
    await assert.rejects(openDatabase(dir, { chainName: 'A' }), (e: Error) => e instanceof DatabaseOpenError && /another tzp2p node/.test(e.message))
    await db.close()
  } finally { await removeDir(dir) }
})
