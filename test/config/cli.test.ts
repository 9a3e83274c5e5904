import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const ENTRY = join(import.meta.dirname, 'cli-entry.ts')

interface Result { code: number | null, stdout: string, stderr: string }

/** Runs the config commands as a real child process. */
async function tzp2p (args: string[]): Promise<Result> {
  return await new Promise((resolve) => {
    execFile(NODE, [ENTRY, ...args], { cwd: ROOT, env: { ...process.env, TZP2P_DATA_DIR: '' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr })
    })
  })
}

/** The parts of `config show` the test reads. */
interface ShownConfig { p2p: { 'expected-proof-of-work': number, limits: Record<string, number> } }

test('config init writes the given settings, validate and show read them back, init refuses to overwrite', async () => {
  const dir = await tempDir('config-cli')
  try {
    const file = join(dir, 'config.json')
    const init = await tzp2p(['config', 'init', '--data-dir', dir, '--net-addr', '127.0.0.1:0', '--rpc-addr', '127.0.0.1:18732',
      '--expected-pow', '0', '--peer', '127.0.0.1:9733', '--connections', '4', '--baker', '--bake-interval', '1'])
    assert.equal(init.code, 0, init.stderr)
    assert.equal(init.stdout, `Wrote ${file}\n`)
    const written: unknown = JSON.parse(await readFile(file, 'utf8'))
    assert.deepEqual(written, {
      'data-dir': dir,
      network: 'devnet',
      p2p: {
        'listen-addr': '127.0.0.1:0',
        'expected-proof-of-work': 0,
        'bootstrap-peers': ['127.0.0.1:9733'],
        limits: { 'min-connections': 2, 'expected-connections': 4, 'max-connections': 6, max_known_points: [32, 24], max_known_peer_ids: [32, 24] }
      },
      rpc: { 'listen-addrs': ['127.0.0.1:18732'] },
      shell: { chain_validator: { synchronisation_threshold: 2 } },
      baker: { enabled: true, interval: 1 }
    })

    const ok = await tzp2p(['config', 'validate', '--data-dir', dir])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, `OK: ${file}: valid configuration for chain TZP2P_DEVNET, data dir ${dir}\n`)

    const show = await tzp2p(['config', 'show', '--config-file', file, '--expected-pow', '3'])
    assert.equal(show.code, 0, show.stderr)
    const shown = JSON.parse(show.stdout) as ShownConfig
    assert.equal(shown.p2p['expected-proof-of-work'], 3, 'options win over the file')
    assert.equal(shown.p2p.limits['max-connections'], 6)
    assert.equal(shown.p2p.limits.backlog, 20, 'show prints every setting')
    const changed: unknown = JSON.parse((await tzp2p(['config', 'show', '--data-dir', dir, '--changed'])).stdout)
    assert.deepEqual(changed, written)

    const again = await tzp2p(['config', 'init', '--data-dir', dir])
    assert.equal(again.code, 1)
    assert.equal(again.stderr, `tzp2p: ${file} already exists: edit it, check it with \`tzp2p config validate\`, or pass --force to replace it\n`)
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), written, 'the file is untouched')
    assert.equal((await tzp2p(['config', 'init', '--data-dir', dir, '--force'])).code, 0)
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { 'data-dir': dir, network: 'devnet' })
  } finally {
    await removeDir(dir)
  }
})

test('config validate fails with one message naming every bad key or option', async () => {
  const dir = await tempDir('config-cli')
  try {
    const file = join(dir, 'config.json')
    await writeFile(file, JSON.stringify({ p2p: { limits: { 'min-conections': 5 }, 'listen-addr': '0.0.0.0:99999' } }, null, 2))
    const bad = await tzp2p(['config', 'validate', '--data-dir', dir])
    assert.equal(bad.code, 1)
    assert.equal(bad.stderr, `tzp2p: invalid configuration in ${file} (2 problems):\n` +
      '  - p2p.listen-addr: got "0.0.0.0:99999": port 99999 is outside 0–65535; expected ip:port, [ipv6]:port or /ip4|ip6/<address>/tcp/<port> (port 0: any free port)\n' +
      '  - p2p.limits.min-conections: unknown key — did you mean p2p.limits.min-connections?\n')

    await writeFile(file, '{ "p2p": { "private-mode": true, }\n}')
    const json = await tzp2p(['config', 'validate', '--config-file', file])
    assert.equal(json.code, 1)
    assert.match(json.stderr, new RegExp(`^tzp2p: config file ${file}: malformed JSON at line 1, column 34: `))

    const flag = await tzp2p(['config', 'validate', '--data-dir', join(dir, 'empty'), '--connections', '500'])
    assert.equal(flag.code, 1)
    assert.match(flag.stderr, /^tzp2p: invalid configuration: --connections \(config key p2p\.limits\.expected-connections\): got 500; expected at most 100/)

    const missing = await tzp2p(['config', 'validate', '--config-file', join(dir, 'none.json')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^tzp2p: config file \S+none\.json: --config-file: no such file — check the path/)

    // A public listener under the secure default is not worth a warning; one that serves everything is.
    await writeFile(file, JSON.stringify({ rpc: { 'listen-addrs': ['0.0.0.0:8732'], acl: [{ address: '0.0.0.0', blacklist: ['DELETE /network/**'] }] }, p2p: { enable_testchain: false } }))
    const warned = await tzp2p(['config', 'validate', '--data-dir', dir])
    assert.equal(warned.code, 0, warned.stderr)
    assert.equal(warned.stderr, 'warning: p2p.enable_testchain: Octez setting without effect in tzp2p; ignored\n' +
      'warning: rpc.acl: 0.0.0.0:8732 is reachable from other machines and its policy (0.0.0.0) serves every RPC not blacklisted, such as bans, greylist clearing and injection\n')
    await writeFile(file, JSON.stringify({ rpc: { 'listen-addrs': ['0.0.0.0:8732'] } }))
    const secure = await tzp2p(['config', 'validate', '--data-dir', dir])
    assert.equal(secure.code, 0, secure.stderr)
    assert.equal(secure.stderr, '')
  } finally {
    await removeDir(dir)
  }
})

test('config reference prints the markdown reference', async () => {
  const r = await tzp2p(['config', 'reference'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^### Config file\n/)
  assert.match(r.stdout, /^\| `p2p\.expected-proof-of-work` \| .* \| `26` \| `--expected-pow` \| Octez \|/m)
})
