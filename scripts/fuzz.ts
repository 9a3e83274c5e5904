/**
 * `npm run fuzz [-- --runs N] [--seed S] [--target NAME]`: feeds every decoder N random and mutated
 * inputs (default 10^6 per decoder; the Octez wire's chunk reader and envelope framing among them) and
 * fails if any decoder throws anything but DecodeError; then
 * sends N random and mutated requests to a real node's RPC (`--target rpc` for that alone) and
 * fails on any 5xx, any error answer that is not JSON `{ error }`, or any request left hanging.
 *
 * Inputs: 1 in 5 are random bytes; the rest are real Octez vectors and generated encodings mutated
 * 1–4 times (bit flips, truncation, length-prefix inflation and off-by-few, splicing two inputs,
 * insertion, deletion). A successful decode must also survive re-encoding. The generator is seeded,
 * so a failure is reproduced by rerunning with the printed seed.
 */
import { parseScriptArgs } from './script-args.ts'
import { rpcAnswerProblem, rpcRequestGenerator, sendFuzzRequest, startRpcFuzzEnv } from '../test/rpc/fuzz-support.ts'
import { DecodeError } from '../src/encoding/index.ts'
import { seededRandom } from '../test/helpers/seeded-random.ts'
import {
  INFLATED_LENGTHS, UnexpectedDecoderError, applyMutation, exercise, fuzzTargets, type FuzzTarget, type Mutation
} from '../test/encoding/fuzz-support.ts'
import { octezWireFuzzTargets } from '../test/octez/fuzz-targets.ts'

const { values } = parseScriptArgs({
  command: 'npm run fuzz --',
  summary: 'Random and mutated inputs to every decoder and to a real node\'s RPC; fails on any error but DecodeError, any 5xx or any hang.',
  options: {
    runs: { type: 'string', default: '1000000', placeholder: 'N', description: 'inputs per decoder, and RPC requests' },
    seed: { type: 'string', default: String(Date.now() % 0x7fffffff), placeholder: 'S', defaultText: 'from the clock, printed', description: 'seed of the generator (rerun a failure with it)' },
    target: { type: 'string', placeholder: 'NAME', defaultText: 'every decoder and rpc', description: 'one decoder, or rpc' }
  }
})

const runs = Number(values.runs)
const seed = Number(values.seed)
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`)
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`)

const rand = seededRandom(seed)
const int = (n: number): number => Math.floor(rand() * n)

function randomBytes (max: number): Uint8Array {
  const out = new Uint8Array(int(max + 1))
  for (let i = 0; i < out.length; i++) out[i] = int(256)
  return out
}

function randomMutation (): Mutation {
  const at = int(1 << 30)
  switch (int(7)) {
    case 0: return { kind: 'flip', at, bit: int(8) }
    case 1: return { kind: 'truncate', at }
    case 2: return { kind: 'inflate', at, value: INFLATED_LENGTHS[int(INFLATED_LENGTHS.length)] }
    case 3: return { kind: 'nudge', at, delta: int(7) - 3 }
    case 4: return { kind: 'splice', other: int(1 << 30), at, from: int(1 << 30) }
    case 5: return { kind: 'insert', at, bytes: randomBytes(8).subarray(0, 1 + int(8)) }
    default: return { kind: 'delete', at, count: 1 + int(8) }
  }
}

function nextInput (t: FuzzTarget): Uint8Array {
  if (t.corpus.length === 0 || int(5) === 0) return randomBytes(int(10) === 0 ? 4096 : 256)
  let input = t.corpus[int(t.corpus.length)]
  const n = 1 + int(4)
  for (let i = 0; i < n; i++) input = applyMutation(input, randomMutation(), t.corpus)
  return input
}

const RPC_TARGET = 'rpc'

/**
 * The RPC's inputs: `runs` random and mutated requests to a real node's RPC (see
 * test/rpc/fuzz-support.ts); fails on a 5xx, an error answer that is not JSON `{ error }`, or a
 * request still unanswered after 10 s.
 */
async function fuzzRpcInputs (): Promise<boolean> {
  const env = await startRpcFuzzEnv()
  const next = rpcRequestGenerator(rand, env.corpus)
  const statuses = new Map<number, number>()
  const problems: string[] = []
  const t0 = process.hrtime.bigint()
  try {
    for (let i = 0; i < runs && problems.length < 5; i++) {
      const req = next()
      let timer: NodeJS.Timeout | undefined
      const hang = new Promise<'hang'>(resolve => { timer = setTimeout(() => { resolve('hang') }, 10_000) })
      const response = await Promise.race([sendFuzzRequest(env, req), hang])
      clearTimeout(timer)
      const what = `${req.method} ${JSON.stringify(req.url)}`
      if (response === 'hang') { problems.push(`${what}: no answer after 10 s`); continue }
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      const problem = rpcAnswerProblem(response, req.method, req.url)
      if (problem !== undefined) problems.push(`${what}: ${problem}`)
    }
  } finally {
    await env.close()
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const byStatus = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ')
  process.stdout.write(`\n${RPC_TARGET}: ${runs} requests in ${seconds.toFixed(1)} s — ${byStatus}; problems ${problems.length}\n`)
  for (const p of problems) process.stdout.write(`  FAIL ${p}\n`)
  return problems.length === 0
}

interface Stats { decoded: number, decodeErrors: Map<string, number>, unexpected: UnexpectedDecoderError[] }

/** Groups DecodeErrors by the field that failed, without offsets, e.g. `block_header.level: needs`. */
function errorKey (input: Uint8Array, t: FuzzTarget): string {
  try {
    t.decode(input)
    return 'ok'
  } catch (e) {
    if (!(e instanceof DecodeError)) return 'unexpected'
    const reason = e.message.slice(e.message.indexOf(': ') + 2)
      .replace(/0x[0-9a-f]+/gi, '0x…').replace(/(?<![\w-])-?\d+(?!\w)/g, 'N').replace(/"[^"]*"/g, '"…"')
    return `${e.what}: ${reason}`
  }
}

const decoderTargets = fuzzTargets(50)
const p2pCorpus = decoderTargets.find(t => t.name === 'p2p_message')?.corpus ?? []
const targets = [...decoderTargets, ...octezWireFuzzTargets(p2pCorpus)]
  .filter(t => values.target === undefined || t.name === values.target)
const fuzzRpc = values.target === undefined || values.target === RPC_TARGET
if (targets.length === 0 && !fuzzRpc) throw new Error(`no decoder named ${values.target} (the RPC target is ${RPC_TARGET})`)

process.stdout.write(`fuzzing ${targets.length} decoder(s)${fuzzRpc ? ' and the RPC' : ''}, ${runs} inputs each, seed ${seed}\n`)
const started = process.hrtime.bigint()
let failed = false
for (const t of targets) {
  const stats: Stats = { decoded: 0, decodeErrors: new Map(), unexpected: [] }
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < runs; i++) {
    const input = nextInput(t)
    try {
      if (exercise(t, input) === 'decoded') {
        stats.decoded++
      } else {
        // Classify a sample only: classifying re-decodes the input.
        const key = i % 16 === 0 ? errorKey(input, t) : 'DecodeError (unclassified)'
        stats.decodeErrors.set(key, (stats.decodeErrors.get(key) ?? 0) + 1)
      }
    } catch (e) {
      if (!(e instanceof UnexpectedDecoderError)) throw e
      stats.unexpected.push(e)
      if (stats.unexpected.length >= 5) break
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const errors = [...stats.decodeErrors.values()].reduce((a, b) => a + b, 0)
  process.stdout.write(`\n${t.name}: ${runs} inputs in ${seconds.toFixed(1)} s — decoded ${stats.decoded}, DecodeError ${errors}, other ${stats.unexpected.length}\n`)
  const top = [...stats.decodeErrors.entries()].filter(([k]) => k !== 'DecodeError (unclassified)').sort((a, b) => b[1] - a[1]).slice(0, 8)
  for (const [k, n] of top) process.stdout.write(`    ${String(n).padStart(8)}  ${k}\n`)
  for (const e of stats.unexpected) process.stdout.write(`  FAIL ${e.message}\n`)
  if (stats.unexpected.length > 0) failed = true
}
if (fuzzRpc && !await fuzzRpcInputs()) failed = true
const total = Number(process.hrtime.bigint() - started) / 1e9
const inputs = (targets.length + (fuzzRpc ? 1 : 0)) * runs
process.stdout.write(`\n${failed ? 'FAILED' : 'OK'}: ${inputs} inputs in ${total.toFixed(1)} s (seed ${seed})\n`)
process.exitCode = failed ? 1 : 0
