import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { symlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { pathToFileURL } from 'node:url'
import {
  InvalidDifficultyError, PowSearchAbortedError, PowSearchOptionsError, checkIdentity, checkProofOfWork,
  generateIdentity, makePowTarget, searchProofOfWork, type PowProgress
} from '../../src/identity/index.ts'
import { x25519Keypair } from '../../src/crypto/index.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const NODE = join(ROOT, 'node_modules/.bin/node')

test('generateIdentity at a low difficulty on 2 workers gives an identity passing every check', async () => {
  for (const difficulty of [0, 6, 12.5]) {
    const id = await generateIdentity({ difficulty, workers: 2 })
    checkIdentity(id, { expectedPow: difficulty })
  }
})

test('every worker searches: progress shows each one\'s attempts', async () => {
  const { publicKey } = x25519Keypair()
  const abort = new AbortController()
  let last: PowProgress | undefined
  await assert.rejects(searchProofOfWork(publicKey, 0n, {
    workers: 3,
    chunk: 256,
    signal: abort.signal,
    progressIntervalMs: 5,
    onProgress: (p) => {
      last = p
      if (p.attemptsPerWorker.every((n) => n > 0)) abort.abort()
    }
  }), PowSearchAbortedError)
  assert.ok(last !== undefined)
  assert.equal(last.attemptsPerWorker.length, 3)
  assert.ok(last.attemptsPerWorker.every((n) => n > 0 && n % 256 === 0))
  assert.equal(last.attemptsPerWorker.reduce((a, b) => a + b), last.attempts)
  assert.ok(last.workerCpuSeconds > 0, 'the workers report the CPU time they used')
})

test('searchProofOfWork reports progress and returns a passing stamp', async () => {
  const { publicKey } = x25519Keypair()
  const target = makePowTarget(16)
  const seen: PowProgress[] = []
  const { stamp, attempts } = await searchProofOfWork(publicKey, target, {
    workers: 2, chunk: 512, progressIntervalMs: 5, onProgress: (p) => seen.push(p)
  })
  assert.ok(checkProofOfWork(publicKey, stamp, target))
  assert.ok(attempts >= 1)
  for (const p of seen) {
    assert.equal(p.workers, 2)
    assert.equal(p.expectedAttempts, 65536)
    assert.ok(p.attempts <= attempts)
  }
})

test('an abort stops the search: rejects with AbortError once the workers are gone, no more progress', async () => {
  const { publicKey } = x25519Keypair()
  const abort = new AbortController()
  let calls = 0
  let sawWork = false
  const search = searchProofOfWork(publicKey, 0n, { // target 0: no stamp can pass
    workers: 2,
    signal: abort.signal,
    progressIntervalMs: 10,
    onProgress: (p) => {
      calls++
      if (p.attempts > 0 && !sawWork) {
        sawWork = true
        assert.ok(p.hashesPerSecond >= 0 && p.etaMs > 0)
        abort.abort(new Error('user stop'))
      }
    }
  })
  await assert.rejects(search, (e: unknown) => e instanceof PowSearchAbortedError && e.name === 'AbortError' &&
    (e.cause as Error).message === 'user stop')
  const after = calls
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(calls, after)
})

test('a search whose signal is already aborted does not start', async () => {
  const { publicKey } = x25519Keypair()
  await assert.rejects(searchProofOfWork(publicKey, 0n, { signal: AbortSignal.abort() }), PowSearchAbortedError)
})

test('bad options are typed errors', async () => {
  await assert.rejects(generateIdentity({ difficulty: 300 }), InvalidDifficultyError)
  const { publicKey } = x25519Keypair()
  await assert.rejects(searchProofOfWork(publicKey, 0n, { workers: 0 }), PowSearchOptionsError)
  await assert.rejects(searchProofOfWork(publicKey, 0n, { workers: 1.5 }), PowSearchOptionsError)
})

test('after an aborted search the process has nothing left running and exits by itself', async () => {
  // A real process: if any worker outlived the search, the event loop would never drain.
  const dir = await tempDir('pow')
  try {
    const script = join(dir, 'abort.ts')
    await writeFile(script, `
import { generateIdentity } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/identity/index.ts')).href)}
const abort = new AbortController()
try {
  await generateIdentity({ difficulty: 256, workers: 2, signal: abort.signal, progressIntervalMs: 10,
    onProgress: (p) => { if (p.attempts > 0) abort.abort() } })
} catch (e) { console.log((e as Error).name) }
`)
    const { stdout } = await run(NODE, [script], { timeout: 60_000 })
    assert.equal(stdout.trim(), 'AbortError')
  } finally {
    await removeDir(dir)
  }
})

test('the compiled build (tsc → .js) starts its .js worker and generates an identity', async () => {
  const dir = await tempDir('dist')
  try {
    // Compile src/identity (and what it imports) as `npm run build` does, into a scratch dir that
    // sees the project's node_modules through a symlink.
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: {
        rootDir: join(ROOT, 'src'), outDir: join(dir, 'dist'), declaration: false, sourceMap: false,
        typeRoots: [join(ROOT, 'node_modules/@types')]
      },
      include: [join(ROOT, 'src/identity/**/*.ts')]
    }))
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { timeout: 120_000 })
    await writeFile(join(dir, 'check.js'), `
import { generateIdentity, checkIdentity } from './dist/identity/index.js'
const id = await generateIdentity({ difficulty: 8, workers: 2 })
checkIdentity(id, { expectedPow: 8 })
console.log(id.peerId)
`)
    const { stdout } = await run(NODE, [join(dir, 'check.js')], { timeout: 60_000 })
    assert.match(stdout.trim(), /^id[1-9A-HJ-NP-Za-km-z]{28}$/)
  } finally {
    await removeDir(dir)
  }
})
