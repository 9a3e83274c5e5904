import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Ed25519VerifyPool } from '../../src/protocol/ed25519-pool.ts'
import { ed25519FromName, ed25519Sign } from '../../src/protocol/demo/keys.ts'

test('the verification pool answers per signature, valid or not, across its workers', async () => {
  const key = ed25519FromName('pool')
  const checks = Array.from({ length: 101 }, (_, i) => {
    const message = Uint8Array.of(i, i + 1, i + 2)
    return { publicKey: key.publicKey, signature: ed25519Sign(message, key.secretKey), message }
  })
  checks[7] = { ...checks[7], message: Uint8Array.of(0) }
  checks[100] = { ...checks[100], publicKey: ed25519FromName('other').publicKey }
  const pool = new Ed25519VerifyPool(2)
  try {
    const r = await pool.verify(checks)
    assert.equal(r.length, 101)
    for (let i = 0; i < 101; i++) assert.equal(r[i], i === 7 || i === 100 ? 0 : 1, `signature ${i}`)
    assert.deepEqual(await pool.verify([]), new Uint8Array(0))
  } finally {
    await pool.close()
  }
})
