import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { access, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { checkIdentity, loadIdentity, loadLibp2pKey } from '../../src/identity/index.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createProgressLine, formatCount, formatDuration, formatPowProgress } from '../../src/cli/progress.ts'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { withTempDir } from '../helpers/temp-dir.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const BIN = join(ROOT, 'bin/tzp2p.js')

interface Result { code: number | null, stdout: string, stderr: string }

/** Runs `tzp2p …` as a real child process and collects its exit code and output. */
async function tzp2p (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return await new Promise((resolve) => {
    execFile(NODE, [BIN, ...args], { cwd: ROOT, env: { ...process.env, TZP2P_DATA_DIR: '', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr })
      })
  })
}

/** One line on stderr, no stack trace. */
function assertOneLineError (r: Result, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
}

test('identity generate 8, then check, show and the failure modes, through the real binary', async () => {
  await withTempDir('cli', async (dir) => {
    const gen = await tzp2p(['identity', 'generate', '8', '--data-dir', dir])
    assert.equal(gen.code, 0, gen.stderr)
    const identity = await loadIdentity(dir, { expectedPow: 8 })
    checkIdentity(identity, { expectedPow: 8 })
    const key = await loadLibp2pKey(dir)
    assert.ok(key !== undefined)
    const libp2pPeerId = peerIdFromPrivateKey(key).toString()
    assert.match(gen.stdout, new RegExp(`Stored the new identity ${identity.peerId} .* in ${join(dir, 'identity.json')}`))
    assert.ok(gen.stdout.includes(libp2pPeerId))
    assert.equal((await stat(join(dir, 'identity.json'))).mode & 0o777, 0o600)

    const ok = await tzp2p(['identity', 'check', '--expected-pow', '8', '--data-dir', dir])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, new RegExp(`^OK: .*${identity.peerId}.*proof of work \\d+\\.\\d\\d ≥ 8\\.00;`))
    assert.equal(ok.stdout.trim().split('\n').length, 1)

    const tooLow = await tzp2p(['identity', 'check', '--expected-pow', '40', '--data-dir', dir])
    assertOneLineError(tooLow, /^tzp2p: identity check failed \(proof of work\): .*insufficient proof of work: .* below the expected 40\.00/)
    assert.equal(tooLow.stdout, '')
    // The suggested command can be run as printed: it names the data dir and replaces the identity.
    assert.ok(tooLow.stderr.includes(`\`tzp2p identity generate 40 --data-dir ${dir} --force\``), tooLow.stderr)
    // One figure everywhere: the difficulty reached, two decimals, rounded down.
    const reached = /reaches difficulty (\d+\.\d\d),/.exec(tooLow.stderr)?.[1]
    assert.ok(reached !== undefined, tooLow.stderr)
    assert.ok(ok.stdout.includes(`proof of work ${reached} ≥`), ok.stdout)

    const show = await tzp2p(['identity', 'show'], { TZP2P_DATA_DIR: dir })
    assert.equal(show.code, 0, show.stderr)
    assert.match(show.stdout, new RegExp(`peer_id: +${identity.peerId}`))
    assert.match(show.stdout, new RegExp(`proof_of_work_stamp: +${Buffer.from(identity.powStamp).toString('hex')}`))
    assert.match(show.stdout, new RegExp(`proof of work: +difficulty ${reached.replace('.', '\\.')}\n`))
    assert.ok(show.stdout.includes(libp2pPeerId))
    assert.doesNotMatch(show.stdout, new RegExp(Buffer.from(identity.secretKey).toString('hex')))

    const json = JSON.parse((await tzp2p(['identity', 'show', '--json', '--data-dir', dir])).stdout) as Record<string, unknown>
    assert.equal(json.peer_id, identity.peerId)
    assert.equal(json.libp2p_peer_id, libp2pPeerId)
    assert.equal(json.proof_of_work, Number(reached))

    const again = await tzp2p(['identity', 'generate', '8', '--data-dir', dir])
    assertOneLineError(again, /already exists: refusing to overwrite/)
    assert.equal((await loadIdentity(dir)).peerId, identity.peerId)

    const forced = await tzp2p(['identity', 'generate', '4', '--force', '--workers', '1', '--data-dir', dir])
    assert.equal(forced.code, 0, forced.stderr)
    assert.notEqual((await loadIdentity(dir)).peerId, identity.peerId)
    assert.ok(!(await loadLibp2pKey(dir))?.equals(key), '--force replaces the libp2p key too')

    const text = await readFile(join(dir, 'identity.json'), 'utf8')
    await writeFile(join(dir, 'identity.json'), text.replace(/"secret_key":\s*"[0-9a-f]{4}/, '"secret_key": "zzzz'))
    const corrupted = await tzp2p(['identity', 'check', '--data-dir', dir])
    assertOneLineError(corrupted, /^tzp2p: identity check failed \(identity file\): .*"secret_key" must be 64 hexadecimal characters/)
    const corruptedShow = await tzp2p(['identity', 'show', '--data-dir', dir])
    assertOneLineError(corruptedShow, /"secret_key" must be 64 hexadecimal/)

    await writeFile(join(dir, 'identity.json'), '{ "peer_id": ')
    assertOneLineError(await tzp2p(['identity', 'check', '--data-dir', dir]), /not valid JSON/)
  })
})

test('identity check names the failed Octez check for a mismatched peer_id and mismatched keys', async () => {
  await withTempDir('cli', async (dir) => {
    const [a, b] = vectors.identities
    const file = join(dir, 'identity.json')
    await writeFile(file, JSON.stringify({ peer_id: b.peer_id, public_key: a.public_key, secret_key: a.secret_key, proof_of_work_stamp: a.proof_of_work_stamp }))
    assertOneLineError(await tzp2p(['identity', 'check', '--data-dir', dir]), /identity check failed \(peer_id\): .*is not the hash of public_key/)
    await writeFile(file, JSON.stringify({ public_key: a.public_key, secret_key: b.secret_key, proof_of_work_stamp: a.proof_of_work_stamp }))
    assertOneLineError(await tzp2p(['identity', 'check', '--data-dir', dir]), /identity check failed \(keys\)/)
    // An Octez-written identity with its default PoW passes the default check (26).
    await writeFile(file, JSON.stringify({ peer_id: a.peer_id, public_key: a.public_key, secret_key: a.secret_key, proof_of_work_stamp: a.proof_of_work_stamp }))
    const ok = await tzp2p(['identity', 'check', '--data-dir', dir])
    assert.equal(ok.code, 0, ok.stderr)
    // The vector's max_difficulty, 26.27, is rounded; printed difficulties are rounded down.
    assert.match(ok.stdout, /proof of work 26\.26 ≥ 26\.00; no libp2p key yet/)
  })
})

test('missing identity, bad arguments and --version', async () => {
  await withTempDir('cli', async (dir) => {
    assertOneLineError(await tzp2p(['identity', 'show', '--data-dir', join(dir, 'none')]),
      new RegExp(`no identity file at .*: create one with \`tzp2p identity generate --data-dir ${join(dir, 'none')}\``))
    const bad = await tzp2p(['identity', 'generate', 'lots', '--data-dir', dir])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /invalid for argument 'difficulty'/)
    await assert.rejects(access(join(dir, 'identity.json')))
    assert.equal((await tzp2p(['identity', 'check', '--expected-pow', '300', '--data-dir', dir])).code, 1)
    const version = await tzp2p(['--version'])
    assert.equal(version.code, 0)
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    assert.equal(version.stdout.trim(), pkg.version)
    const help = await tzp2p(['identity', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /generate .*\n[\s\S]*show[\s\S]*check/)
  })
})

test('Ctrl-C during generate stops the search, writes nothing and exits with 130', async () => {
  await withTempDir('cli', async (dir) => {
    const child = spawn(NODE, [BIN, 'identity', 'generate', '200', '--data-dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code) }))
    const safety = setTimeout(() => child.kill('SIGKILL'), 60_000)
    // The start line is printed once the SIGINT handler is in place.
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        if (stderr.includes('Generating a new identity')) resolve()
      })
    })
    child.kill('SIGINT')
    const code = await exited
    clearTimeout(safety)
    assert.equal(code, 130, stderr)
    assert.match(stderr, /tzp2p: interrupted: no identity was written/)
    await assert.rejects(access(join(dir, 'identity.json')))
  })
})

test('progress line: counts, durations and rate read well; written in place only on a terminal', () => {
  assert.equal(formatCount(999), '999')
  assert.equal(formatCount(67_108_864), '67.1M')
  assert.equal(formatCount(2 ** 40), '1.10T')
  assert.equal(formatDuration(850), '850ms')
  assert.equal(formatDuration(12_340), '12.3s')
  assert.equal(formatDuration(245_000), '4m 05s')
  assert.equal(formatDuration(3 * 86_400_000), '3.0 days')
  assert.equal(formatDuration(Infinity), '∞')
  const line = formatPowProgress({
    attempts: 12_000_000, elapsedMs: 1500, hashesPerSecond: 9_800_000, expectedAttempts: 2 ** 26,
    expectedMs: 2 ** 26 / 9.8e6 * 1000, etaMs: 0, workers: 2, attemptsPerWorker: [6e6, 6e6], workerCpuSeconds: 2.9
  })
  assert.equal(line, '9.80 Mhash/s on 2 threads · 12.0M attempts of ~67.1M expected, ~6.8s on average · elapsed 1.5s')

  const written: string[] = []
  const sink = (isTTY: boolean): NodeJS.WriteStream =>
    ({ isTTY, columns: 40, write: (s: string) => { written.push(s); return true } }) as unknown as NodeJS.WriteStream
  const tty = createProgressLine(sink(true))
  tty.update(line)
  tty.clear()
  assert.deepEqual(written, [`\r\x1b[K${line.slice(0, 39)}`, '\r\x1b[K'])
  written.length = 0
  const pipe = createProgressLine(sink(false))
  pipe.update(line)
  pipe.clear()
  assert.deepEqual(written, [])
})
