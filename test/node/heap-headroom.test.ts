import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..')

/**
 * In a fresh Node process (the mode is process-wide): runs `setup`, fills about 100 MiB of heap
 * with objects, drops them, collects twice, and returns V8's committed heap then (MiB).
 */
function heapAfterGarbage (setup: string, env: NodeJS.ProcessEnv = process.env): number {
  const code = `
    ${setup}
    let garbage = []
    for (let i = 0; i < 2e6; i++) garbage.push({ a: i, b: [i] })
    garbage = null
    globalThis.gc(); globalThis.gc()
    console.log(process.memoryUsage().heapTotal / 1048576)
  `
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', env })
  assert.equal(result.status, 0, result.stderr)
  return Number(result.stdout.trim())
}

test('memory saver mode: V8 gives back the heap it grew once the garbage is collected', () => {
  const without = heapAfterGarbage('')
  const withMode = heapAfterGarbage('const { saveHeapMemory } = await import(\'./src/node/heap-headroom.ts\'); saveHeapMemory()')
  const viaSettings = heapAfterGarbage('await import(\'./src/node/memory-settings.ts\')')
  // Measured: about 133 MiB kept without the mode, 9 MiB with it.
  assert.ok(withMode * 4 < without, `with the mode ${withMode} MiB, without ${without} MiB`)
  assert.ok(viaSettings * 4 < without, `through memory-settings.ts ${viaSettings} MiB, without ${without} MiB`)
})

test('TZP2P_MEMORY_SAVER=0 leaves the memory saver mode off; any other value or none turns it on', () => {
  const modeIn = (value: string | undefined): string => {
    const env = { ...process.env }
    delete env.TZP2P_MEMORY_SAVER
    if (value !== undefined) env.TZP2P_MEMORY_SAVER = value
    const code = 'const { memorySaver } = await import(\'./src/node/memory-settings.ts\'); console.log(memorySaver)'
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', env })
    assert.equal(result.status, 0, result.stderr)
    return result.stdout.trim()
  }
  assert.equal(modeIn('0'), 'false')
  assert.equal(modeIn(undefined), 'true')
  assert.equal(modeIn('1'), 'true')
})
