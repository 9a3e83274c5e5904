import { after, test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkProofOfWork, makePowTarget } from '../../src/identity/index.ts'
import { loadNativePow, NATIVE_POW_ADDON_PATH, targetToLeBytes, type NativePowStatus } from '../../src/identity/pow-native.ts'
import { NATIVE_POW, PowScanner, type PowEngine } from '../../src/identity/pow-scanner.ts'
import { incrementNonce } from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/encoding/index.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

// The addon is optional (npm run build:native). When it is not built but this machine can build
// it (a C compiler and libsodium's headers), the tests build one into a temporary directory with
// the same script, so they run wherever they can; only a machine that cannot build it skips. A
// built addon that fails to load or fails its self-check is a failure here, not a skip.
const canBuild = existsSync('/usr/include/sodium.h') && spawnSync(process.env.CC ?? 'cc', ['--version']).status === 0
const buildDir = existsSync(NATIVE_POW_ADDON_PATH) || !canBuild ? undefined : await tempDir('pow-addon')
after(async () => { if (buildDir !== undefined) await removeDir(buildDir) })

function buildIntoTemp (dir: string): NativePowStatus {
  const out = join(dir, 'pow.node')
  const script = fileURLToPath(new URL('../../scripts/build-native.ts', import.meta.url))
  const built = spawnSync(process.execPath, [script, '--out', out], { encoding: 'utf8' })
  assert.equal(built.status, 0, `npm run build:native -- --out ${out} failed:\n${built.stderr}`)
  return loadNativePow(out)
}

const native: NativePowStatus | undefined = buildDir !== undefined ? buildIntoTemp(buildDir) : existsSync(NATIVE_POW_ADDON_PATH) ? NATIVE_POW : undefined
const skip = native !== undefined ? false : `native PoW addon not built (${NATIVE_POW_ADDON_PATH}) and not buildable here (needs cc and libsodium-dev)`

test('a built native addon loads and passes its self-check', { skip }, () => {
  assert.ok(native?.loaded, native?.loaded === false ? native.reason : 'not loaded')
})

/** A scanner on `engine`, with the addon under test for the native engine. */
function scannerOf (pk: Uint8Array, start: Uint8Array, target: bigint, engine: PowEngine): PowScanner {
  return new PowScanner(pk, start, target, engine, native)
}

/** Every passing stamp in `attempts` stamps from `start`, as one engine's scanner finds them. */
function passingStamps (engine: PowEngine, pk: Uint8Array, start: Uint8Array, target: bigint, attempts: number): { stamps: string[], next: string } {
  const stamps: string[] = []
  let scanner = scannerOf(pk, start, target, engine)
  let left = attempts
  while (left > 0) {
    left -= scanner.scan(Math.min(left, 777))
    if (!scanner.found) continue
    stamps.push(toHex(scanner.stamp))
    scanner = scannerOf(pk, incrementNonce(scanner.stamp), target, engine)
  }
  return { stamps, next: toHex(scanner.stamp) }
}

test('the native and sodium-native scanners find the same stamps over a fixed range, each accepted by checkProofOfWork', { skip }, () => {
  const pk = fromHex(vectors.identities[0].public_key)
  // Starts just below two- and three-byte carries.
  for (const [startHex, difficulty] of [['00112233445566778899aabbccddeeff0011223344fffe00', 6], ['ff'.repeat(21) + 'fffff0', 4.5]] as const) {
    const start = fromHex(startHex)
    const target = makePowTarget(difficulty)
    const native = passingStamps('native addon', pk, start, target, 20_000)
    const js = passingStamps('sodium-native', pk, start, target, 20_000)
    assert.ok(native.stamps.length > 50, `expected many passing stamps at difficulty ${difficulty}, got ${native.stamps.length}`)
    assert.deepEqual(native, js)
    for (const s of native.stamps) assert.ok(checkProofOfWork(pk, fromHex(s), target))
  }
})

test('the native scanner walks across a batch boundary to the same stamp as sodium-native when nothing passes', { skip }, () => {
  const pk = fromHex(vectors.identities[1].public_key)
  const start = fromHex('0000000000000000000000000000000000000000fffe0000')
  const nativeScanner = scannerOf(pk, start, 0n, 'native addon')
  const js = scannerOf(pk, start, 0n, 'sodium-native')
  const count = (1 << 16) + 1000 // more than one call into the addon
  assert.equal(nativeScanner.scan(count), count)
  assert.equal(js.scan(count), count)
  assert.equal(nativeScanner.found, false)
  assert.equal(toHex(nativeScanner.stamp), toHex(js.stamp))
})

test('the native scanner lands on the Octez vector stamps at difficulty 26', { skip }, () => {
  for (const v of vectors.identities) {
    const passing = fromHex(v.proof_of_work_stamp)
    const before = passing.slice()
    if (before[23] >= 5) before[23] -= 5
    const scanner = scannerOf(fromHex(v.public_key), before, makePowTarget(26), 'native addon')
    scanner.scan(6)
    assert.equal(scanner.found, true)
    assert.equal(toHex(scanner.stamp), v.proof_of_work_stamp)
  }
})

test('the addon refuses malformed arguments with a TypeError', { skip }, () => {
  assert.ok(native?.loaded)
  const scan = native.scan
  const input = new Uint8Array(56)
  const target = targetToLeBytes(makePowTarget(8))
  assert.throws(() => scan(new Uint8Array(55), target, 1), TypeError)
  assert.throws(() => scan(input, new Uint8Array(31), 1), TypeError)
  assert.throws(() => scan(new Uint16Array(28) as unknown as Uint8Array, target, 1), TypeError)
  assert.throws(() => scan(input, target, 0), TypeError)
  assert.throws(() => scan(input, target, 2 ** 31), TypeError)
  assert.throws(() => (scan as unknown as (...a: unknown[]) => number)(input, target), TypeError)
  assert.ok(input.every((b) => b === 0), 'a refused call leaves the input alone')
})

test('a missing or broken addon file is reported, not loaded', async () => {
  const dir = await tempDir('pow-native')
  try {
    const missing = loadNativePow(join(dir, 'pow.node'))
    assert.equal(missing.loaded, false)
    assert.match(missing.loaded ? '' : missing.reason, /not built \(npm run build:native\)/)
    const broken = join(dir, 'broken.node')
    await writeFile(broken, 'not a shared object')
    const status = loadNativePow(broken)
    assert.equal(status.loaded, false)
    assert.match(status.loaded ? '' : status.reason, /^cannot load /)
  } finally {
    await removeDir(dir)
  }
})

test('targets become 32 little-endian bytes', () => {
  assert.equal(toHex(targetToLeBytes(0x0102n)), '0201' + '00'.repeat(30))
  assert.equal(toHex(targetToLeBytes((1n << 256n) - 1n)), 'ff'.repeat(32))
  assert.throws(() => targetToLeBytes(1n << 256n), RangeError)
  assert.throws(() => targetToLeBytes(-1n), RangeError)
})
