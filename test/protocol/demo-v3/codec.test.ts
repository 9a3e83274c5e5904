import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { toHex } from '../../../src/encoding/index.ts'
import { ed25519FromName } from '../../../src/protocol/demo/keys.ts'
import { anonymousOperation, signOperation } from '../../../src/protocol/demo-v3/index.ts'
import { encodeBlockData } from '../../../src/protocol/demo-v3/block-data.ts'
import { hashOf } from './helpers.ts'

const ROOT = resolve(import.meta.dirname, '../../..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const BIN = join(ROOT, 'bin/tzp2p.js')

interface Result { code: number | null, stdout: string, stderr: string }

/** `tzp2p codec …` as a real child process. */
async function tzp2p (args: string[]): Promise<Result> {
  return await new Promise((resolve) => {
    execFile(NODE, [BIN, ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr })
    })
  })
}

const alice = ed25519FromName('v3-codec/alice')
const branch = hashOf('v3-codec branch')

test('tzp2p codec decodes and encodes demo v3 operation data and block protocol data by kind', async () => {
  const endorsement = toHex(signOperation(branch, { kind: 'endorsement', level: 12, slot: 3 }, alice.secretKey))
  const transaction = toHex(signOperation(branch, {
    kind: 'transaction', source: alice.publicKeyHash, fee: 1n, counter: 2n, gasLimit: 3n, storageLimit: 4n, amount: 5n, destination: { kind: 'originated', hash: new Uint8Array(20).fill(9) }
  }, alice.secretKey))
  const nonce = toHex(anonymousOperation({ kind: 'seed_nonce_revelation', level: 8, nonce: new Uint8Array(32).fill(1) }))
  const blockData = toHex(encodeBlockData({ priority: 2, powNonce: new Uint8Array(8), seedNonceHash: new Uint8Array(32).fill(3), signature: new Uint8Array(64).fill(4) }))
  const [list, e, t, n, b] = await Promise.all([
    tzp2p(['codec', 'list']),
    tzp2p(['codec', 'decode', 'demo_v3.operation_data', endorsement]),
    tzp2p(['codec', 'decode', 'demo_v3.operation_data', transaction]),
    tzp2p(['codec', 'decode', 'demo_v3.operation_data', nonce]),
    tzp2p(['codec', 'decode', 'demo_v3.block_header.protocol_data', blockData])
  ])
  assert.match(list.stdout, /^demo_v3\.operation_data /m)
  assert.match(list.stdout, /^demo_v3\.block_header\.protocol_data /m)
  for (const r of [e, t, n, b]) assert.equal(r.code, 0, r.stderr)
  assert.deepEqual((JSON.parse(e.stdout) as { contents: unknown }).contents, { kind: 'endorsement', level: 12, slot: 3 })
  const tx = (JSON.parse(t.stdout) as { contents: Record<string, string> }).contents
  assert.equal(tx.kind, 'transaction')
  assert.match(tx.destination, /^KT1/)
  assert.equal(tx.amount, '5')
  assert.equal((JSON.parse(b.stdout) as { priority: number }).priority, 2)

  const back = await Promise.all([
    tzp2p(['codec', 'encode', 'demo_v3.operation_data', e.stdout]),
    tzp2p(['codec', 'encode', 'demo_v3.operation_data', t.stdout]),
    tzp2p(['codec', 'encode', 'demo_v3.operation_data', n.stdout]),
    tzp2p(['codec', 'encode', 'demo_v3.block_header.protocol_data', b.stdout])
  ])
  assert.deepEqual(back.map(r => r.stdout.trim()), [endorsement, transaction, nonce, blockData])
})

test('tzp2p codec refuses malformed demo v3 data in one line with the reason', async () => {
  const [tag, short, kind] = await Promise.all([
    tzp2p(['codec', 'decode', 'demo_v3.operation_data', '05']),
    tzp2p(['codec', 'decode', 'demo_v3.operation_data', '00000000010002']),
    tzp2p(['codec', 'encode', 'demo_v3.operation_data', '{"contents":{"kind":"ballot"}}'])
  ])
  for (const r of [tag, short, kind]) {
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  }
  assert.match(tag.stderr, /unknown operation tag 5/)
  assert.match(short.stderr, /signature/)
  assert.match(kind.stderr, /unknown demo v3 operation kind "ballot"/)
})
