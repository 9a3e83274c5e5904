import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }

const ROOT = resolve(import.meta.dirname, '../..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const BIN = join(ROOT, 'bin/tzp2p.js')

interface Result { code: number | null, stdout: string, stderr: string }

/** Runs `tzp2p codec …` as a real child process; `stdin` is written to its standard input. */
async function tzp2p (args: string[], stdin?: string): Promise<Result> {
  return await new Promise((resolve) => {
    const child = execFile(NODE, [BIN, ...args], { cwd: ROOT, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
    child.stdin?.end(stdin ?? '')
  })
}

function assertOneLineError (r: Result, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, pattern)
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, /^tzp2p: /)
}

/** The parts of the decoded JSON the tests read. */
interface CurrentHeadJson { chain_id: string, current_block_header: { hash: string }, current_mempool: { known_valid: string[] } }
interface BlockHeaderJson { hash: string, timestamp: string }
interface ConnectionMessageJson { version: { chain_name: string } }

function parseJson<T> (text: string): T {
  return JSON.parse(text) as T
}

const currentHead = vectors.messages.find(m => m.name === 'Current_head')!

test('codec list, decode and encode through the real binary', async () => {
  const [list, head, header, bootstrap, getHead, identity, piped] = await Promise.all([
    tzp2p(['codec', 'list']),
    tzp2p(['codec', 'decode', 'p2p_message', currentHead.hex as string]),
    tzp2p(['codec', 'decode', 'block_header', vectors.block_headers[0].hex]),
    tzp2p(['codec', 'decode', 'p2p_message', '000000020002']),
    tzp2p(['codec', 'encode', 'p2p_message', '{"get_current_head": "NetXdQprcVkpaWU"}']),
    tzp2p(['codec', 'encode', 'identity', JSON.stringify({
      public_key: vectors.identities[0].public_key, secret_key: vectors.identities[0].secret_key, proof_of_work_stamp: vectors.identities[0].proof_of_work_stamp
    })]),
    tzp2p(['codec', 'decode', 'connection_message.frame', '-'], `${vectors.connection_messages[0].wire_hex}\n`)
  ])
  assert.equal(list.code, 0, list.stderr)
  const names = list.stdout.trim().split('\n').map(l => l.split(/\s+/)[0])
  for (const n of ['p2p_message', 'block_header', 'block_header.shell', 'operation', 'connection_message', 'connection_metadata',
    'ack', 'network_version', 'block_locator', 'operation_list_list_hash.path', 'identity']) assert.ok(names.includes(n), n)

  assert.equal(head.code, 0, head.stderr)
  const hj = parseJson<CurrentHeadJson>(head.stdout)
  assert.equal(hj.chain_id, 'NetXgtSLGNJvNye')
  assert.equal(hj.current_block_header.hash, 'BMQ7YKpUfFZsDm9EizMyxHPpcE41YmWNCaTc7eSjj5xDKVYPTEG')
  assert.deepEqual(hj.current_mempool.known_valid, ['op94YRm1eaKKdYTXHmw2wA1mQAJgQQCK1GYq6UQYDvfVJ8DttzW'])

  assert.equal(header.code, 0, header.stderr)
  const bj = parseJson<BlockHeaderJson>(header.stdout)
  assert.equal(bj.hash, vectors.block_headers[0].hash)
  assert.equal(bj.timestamp, '2018-12-13T15:10:48Z')

  assert.deepEqual(JSON.parse(bootstrap.stdout), { kind: 'Bootstrap' })
  assert.equal(getHead.stdout, '0000000600137a06a770\n')
  assert.equal(identity.code, 0, identity.stderr)
  assert.equal(identity.stdout.trim(), 'ff' + '47f5c302e9ed3c9a73279fe9f4ad99b6' + vectors.identities[0].public_key +
    vectors.identities[0].secret_key + vectors.identities[0].proof_of_work_stamp)
  assert.equal(parseJson<ConnectionMessageJson>(piped.stdout).version.chain_name, 'TEZOS_MAINNET')
})

test('codec decode → encode through the binary reproduces the bytes', async () => {
  const hex = currentHead.hex as string
  const decoded = await tzp2p(['codec', 'decode', 'p2p_message', hex])
  const encoded = await tzp2p(['codec', 'encode', 'p2p_message', '-'], decoded.stdout)
  assert.equal(encoded.code, 0, encoded.stderr)
  assert.equal(encoded.stdout.trim(), hex)
})

test('bad input: one line on stderr, exit code 1', async () => {
  const [hex, oddHex, badLength, truncated, unknownTag, badJson, badField, wrongHash, unknownName, tooLong] = await Promise.all([
    tzp2p(['codec', 'decode', 'block_header', 'zzzz']),
    tzp2p(['codec', 'decode', 'block_header', '0xabc']),
    tzp2p(['codec', 'decode', 'fitness', 'deadbeefdeadbeef']),
    tzp2p(['codec', 'decode', 'block_header', vectors.block_headers[0].hex.slice(0, 40)]),
    tzp2p(['codec', 'decode', 'p2p_message', '000000020077']),
    tzp2p(['codec', 'encode', 'operation', '{"branch": ']),
    tzp2p(['codec', 'encode', 'p2p_message', '{"get_current_head": "NetXdQprcVkpaWU", "extra": 1}']),
    tzp2p(['codec', 'encode', 'operation', JSON.stringify({ hash: 'onzNq7mGpf9bXYYVyWq1fyesTpdEZFQCTtD3aZDFSXHbhehhc3B', branch: vectors.operations[0].branch, data: '00' })]),
    tzp2p(['codec', 'decode', 'blockheader', '00']),
    tzp2p(['codec', 'encode', 'p2p_message', JSON.stringify({ get_block_headers: Array(11).fill(vectors.block_headers[0].hash) })])
  ])
  assertOneLineError(hex, /^tzp2p: invalid hex input: not hexadecimal: "z" at character 1 is not a digit 0-9 or a letter a-f/)
  assertOneLineError(oddHex, /^tzp2p: invalid hex input: an odd number of hexadecimal digits \(3\)/)
  // A length prefix with the top bit set is a large unsigned number, not a negative one.
  assertOneLineError(badLength, /^tzp2p: cannot decode fitness: fitness at offset 0: uint30 out of range: 3735928559 \(0xdeadbeef\); at most 1073741823 \(2\^30 - 1\)$/m)
  assertOneLineError(truncated, /^tzp2p: cannot decode block_header: block_header\.\w+ at offset \d+: needs/)
  assertOneLineError(unknownTag, /cannot decode p2p_message: p2p_message\.tag at offset 4: unknown message tag 0x0077/)
  assertOneLineError(badJson, /invalid JSON input/)
  assertOneLineError(badField, /cannot encode p2p_message: \$\.extra: unexpected field/)
  assertOneLineError(wrongHash, /\$\.hash: does not match the content/)
  assertOneLineError(unknownName, /unknown encoding "blockheader"/)
  assertOneLineError(tooLong, /\$\.get_block_headers: 11 elements, at most 10/)
})

test('codec decode operation --protocol shows a real operation by kind', async () => {
  const emmyEndorsement = vectors.operations[0].hex
  // A transaction of 1 tez from tz1KqTp… to tz1gjaF… (fee 1420, counter 7, gas 10600, storage 300),
  // forged by @taquito/local-forging, followed by a 64-byte signature.
  const transaction = vectors.operations[0].hex.slice(0, 64) +
    '6c0002298c03ed7d454a101eb7022bc95f7e5f41ac788c0b07e852ac02c0843d0000e7670f32038107a59a2b9cfefae36ea21f5aa63c00' + 'ab'.repeat(64)
  const [emmy, tx, notProtocol, notOperation] = await Promise.all([
    tzp2p(['codec', 'decode', 'operation', emmyEndorsement, '--protocol', 'PsCARTHAGazKbHtnKfLzQg3kms52kSRpgnDY982a9oYsSXRLQEb']),
    tzp2p(['codec', 'decode', 'operation', transaction, '--protocol', 'PsParisCZo7KAh1Z1smVd9ZMZ1HHn5gkzbM94V3PLCpknFWhUAi']),
    tzp2p(['codec', 'decode', 'operation', emmyEndorsement, '--protocol', 'Pxyz']),
    tzp2p(['codec', 'decode', 'block_header', vectors.block_headers[0].hex, '--protocol', 'PsCARTHAGazKbHtnKfLzQg3kms52kSRpgnDY982a9oYsSXRLQEb'])
  ])
  assert.equal(emmy.code, 0, emmy.stderr)
  const e = JSON.parse(emmy.stdout) as Record<string, unknown>
  assert.equal(e.hash, vectors.operations[0].hash)
  assert.equal(e.kind, 'endorsement')
  assert.equal(e.decoded, false)
  assert.equal(tx.code, 0, tx.stderr)
  const t = JSON.parse(tx.stdout) as { contents: Array<Record<string, unknown>>, signature: string }
  assert.deepEqual(t.contents.map(c => c.kind), ['transaction'])
  assert.equal(t.contents[0].amount, '1000000')
  assert.equal(t.contents[0].destination, 'tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN')
  assert.equal(t.signature, 'ab'.repeat(64))
  assertOneLineError(notProtocol, /--protocol "Pxyz" is not a protocol hash/)
  assertOneLineError(notOperation, /--protocol applies to the operation encoding only/)
})
