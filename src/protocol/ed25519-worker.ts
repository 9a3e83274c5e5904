import { parentPort } from 'node:worker_threads'
import sodium from 'sodium-native'

/**
 * Worker side of `Ed25519VerifyPool`: verifies a packed batch of signatures and answers one byte
 * per signature (1 = valid). Batch layout: count (uint32 BE), then per item public key (32) ‖
 * signature (64) ‖ message length (uint32 BE) ‖ message.
 */
parentPort?.on('message', (job: { id: number, batch: ArrayBuffer }) => {
  const buf = Buffer.from(job.batch)
  const count = buf.readUInt32BE(0)
  const results = new Uint8Array(count)
  let at = 4
  for (let i = 0; i < count; i++) {
    const publicKey = buf.subarray(at, at + 32)
    const signature = buf.subarray(at + 32, at + 96)
    const length = buf.readUInt32BE(at + 96)
    const message = buf.subarray(at + 100, at + 100 + length)
    at += 100 + length
    results[i] = sodium.crypto_sign_verify_detached(signature, message, publicKey) ? 1 : 0
  }
  parentPort?.postMessage({ id: job.id, results }, [results.buffer])
})
