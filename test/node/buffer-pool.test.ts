import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..')

/** Runs `code` in a fresh Node process (the pool is process-wide) and returns its stdout. */
function runNode (code: string): string {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  return result.stdout.trim()
}

test('the memory settings module cuts small buffers from 8 KiB slabs', () => {
  const out = runNode(`
    await import('./src/node/memory-settings.ts')
    for (let i = 0; i < 2000; i++) Buffer.allocUnsafe(40)
    const a = Buffer.allocUnsafe(40)
    const b = Buffer.allocUnsafe(40)
    console.log(JSON.stringify({ poolSize: Buffer.poolSize, slab: a.buffer.byteLength, shared: a.buffer === b.buffer }))
  `)
  // Small buffers still share a slab (the pool is kept, only smaller).
  assert.deepEqual(JSON.parse(out), { poolSize: 8192, slab: 8192, shared: true })
})

test('boundBufferPool takes another size and refuses a bad one', () => {
  const out = runNode(`
    const { boundBufferPool } = await import('./src/node/buffer-pool.ts')
    boundBufferPool(4096)
    // The slab in use when the size changes is used up first: 64 KiB at most.
    for (let i = 0; i < 2000; i++) Buffer.allocUnsafe(40)
    const slab = Buffer.allocUnsafe(40).buffer.byteLength
    let error = ''
    try { boundBufferPool(-1) } catch (err) { error = err.name + ': ' + err.message }
    console.log(JSON.stringify({ slab, error, poolSize: Buffer.poolSize }))
  `)
  assert.deepEqual(JSON.parse(out), { slab: 4096, error: 'RangeError: buffer pool size must be a non-negative integer, got -1', poolSize: 4096 })
})
