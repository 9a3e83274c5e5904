/**
 * One PoW search thread: scans stamps from the start stamp it was given, reports how many it tried
 * after every chunk, and reports the passing stamp. The parent terminates it; a worker that has
 * found a stamp just waits for that, so its report can never race its own exit.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PowScanner } from './pow-scanner.ts'
import type { PowWorkerData, PowWorkerMessage } from './pow-search.ts'

const port = parentPort
if (port === null) throw new Error('pow-worker must run in a worker thread')
const data = workerData as PowWorkerData
const scanner = new PowScanner(data.publicKey, data.startStamp, data.target)

const post = (message: PowWorkerMessage): void => { port.postMessage(message) }
const cpuMicros = (): number => { const u = process.threadCpuUsage(); return u.user + u.system }
for (;;) {
  const tried = scanner.scan(data.chunk)
  if (scanner.found) {
    post({ kind: 'found', stamp: scanner.stamp, attempts: tried, cpuMicros: cpuMicros() })
    port.on('message', () => {})
    break
  }
  post({ kind: 'progress', attempts: tried, cpuMicros: cpuMicros() })
}
