import { connect } from 'node:net'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { b58Encode } from '../../src/crypto/index.ts'
import { encode, toHex } from '../../src/encoding/index.ts'
import type { TzNode } from '../../src/node/create-node.ts'
import { signTransfer } from '../../src/protocol/demo/index.ts'
import { startRpcServer, type RpcServer } from '../../src/rpc/server.ts'
import { operationCodec } from '../../src/wire/operation.ts'
import { startDemoNode } from './demo-node.ts'

/**
 * Fuzzing the RPC's inputs: a real node (demo chain on a classic-level store, a few baked blocks)
 * with its real fastify RPC, fed random and mutated requests — paths built from every route with
 * parameters that are valid (taken from the node), mutated valid ones, or random text; random
 * methods, query strings, content types and bodies (mutations of a real signed operation's hex).
 * Requests go through `app.inject()`: the whole router, parsers, handlers and error handler, with
 * no socket in between (the short test also sends some over real TCP).
 *
 * The oracle: no answer is a 5xx, every error answer is JSON `{ "error": string }`, and no
 * request hangs.
 */

export interface RpcFuzzEnv {
  node: TzNode
  rpc: RpcServer
  app: FastifyInstance
  /** Valid values to build requests from. */
  corpus: RpcCorpus
  close: () => Promise<void>
}

/** A generated request: always a method and a string request target (never light-my-request's URL object). */
export interface FuzzRequest extends InjectOptions {
  method: string
  url: string
}

export interface RpcCorpus {
  blockIds: string[]
  pkhs: string[]
  peerIds: string[]
  points: string[]
  operationHex: string[]
  protocols: string[]
}

export async function startRpcFuzzEnv (): Promise<RpcFuzzEnv> {
  const demo = await startDemoNode({ name: 'rpc-fuzz', accounts: 3, chainName: 'TZP2P_FUZZ' })
  const { setup, node } = demo
  const rpc = await startRpcServer({ node, listen: [{ host: '127.0.0.1', port: 0 }] })
  for (let i = 0; i < 3; i++) await node.bake()
  const head = node.head()!
  const headHash = b58Encode('blockHash', head.hash)
  const operationHex = [0n, 1n, 2n, 3n].map(counter => {
    const from = setup.accounts[0]
    const data = signTransfer(head.hash, { publicKey: from.publicKey, destination: setup.accounts[1].publicKeyHash, amount: 1n, fee: 0n, counter }, from.secretKey)
    return toHex(encode(operationCodec, { branch: head.hash, data }))
  })
  const corpus: RpcCorpus = {
    blockIds: ['head', 'genesis', '0', '1', '3', 'head~1', 'head~3', headHash, `${headHash}~2`, setup.genesis.block],
    pkhs: setup.accounts.map(a => b58Encode('ed25519PublicKeyHash', a.publicKeyHash)),
    peerIds: [node.identity.peerId],
    points: ['127.0.0.1:9732', '[::1]:9732', '10.0.0.1:1'],
    protocols: [setup.protocol.hash, 'PrihK96nBAFSxVL1GLJTVhu9YnzkMFiBeuJRPA8NwuZVZCE1L6i'],
    operationHex
  }
  return {
    node,
    rpc,
    app: rpc.app as FastifyInstance,
    corpus,
    close: async () => {
      await rpc.close()
      await demo.close()
    }
  }
}

/** Every RPC route, with `:name` parameters (streaming `/monitor` routes are exercised only with a bad chain). */
const ROUTES: Array<{ method: string, path: string }> = [
  { method: 'GET', path: '/chains/:chain/chain_id' },
  { method: 'GET', path: '/chains/:chain/blocks/:block' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/header' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/hash' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/operations' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/operation_hashes' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/context/contracts/:pkh' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/context/contracts/:pkh/balance' },
  { method: 'GET', path: '/chains/:chain/blocks/:block/context/contracts/:pkh/counter' },
  { method: 'GET', path: '/chains/:chain/mempool/pending_operations' },
  { method: 'GET', path: '/chains/:chain/protocols' },
  { method: 'GET', path: '/protocols' },
  { method: 'GET', path: '/protocols/:protocol' },
  { method: 'POST', path: '/injection/operation' },
  { method: 'GET', path: '/monitor/heads/:badchain' },
  { method: 'GET', path: '/network/self' },
  { method: 'GET', path: '/network/peers' },
  { method: 'GET', path: '/network/peers/:peer' },
  { method: 'GET', path: '/network/connections' },
  { method: 'GET', path: '/network/connections/:peer' },
  { method: 'DELETE', path: '/network/connections/:peer' },
  { method: 'GET', path: '/network/points' },
  { method: 'GET', path: '/network/points/:point' },
  { method: 'GET', path: '/network/greylist' },
  { method: 'GET', path: '/network/greylist/ips' },
  { method: 'GET', path: '/network/greylist/peers' },
  { method: 'DELETE', path: '/network/greylist' },
  { method: 'GET', path: '/network/bans' },
  { method: 'GET', path: '/network/peers/:peer/banned' },
  { method: 'PUT', path: '/network/peers/:peer/ban' },
  { method: 'DELETE', path: '/network/peers/:peer/ban' },
  { method: 'GET', path: '/status' },
  { method: 'GET', path: '/status/blocks' },
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/health/ready' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/' }
]

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']
const NASTY = ['', '~', '~~', '-1', '1e9', '99999999999', '2147483648', 'head~99999999999', '%00', '%ff%fe', '..', '../..', '%2e%2e%2f', ' ', '\u202e', '😀', 'null', 'undefined', '__proto__', 'constructor', 'B', 'tz1', 'id', 'P', '[', '[::', ':0', '127.0.0.1:99999']

export function rpcRequestGenerator (random: () => number, corpus: RpcCorpus): () => FuzzRequest {
  const int = (n: number): number => Math.floor(random() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
  const randomText = (max: number): string => {
    let s = ''
    const n = int(max + 1)
    for (let i = 0; i < n; i++) {
      const r = random()
      s += r < 0.6 ? String.fromCharCode(0x21 + int(94)) : r < 0.9 ? String.fromCharCode(int(0x80)) : String.fromCodePoint(int(0x10ffff + 1) & ~0x800)
    }
    return s
  }
  const mutateText = (s: string): string => {
    if (s.length === 0) return randomText(8)
    const at = int(s.length + 1)
    switch (int(6)) {
      case 0: return s.slice(0, at)
      case 1: return s.slice(0, at) + randomText(4) + s.slice(at)
      case 2: return s.slice(0, at) + s.slice(at + 1 + int(4))
      case 3: return s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ (1 << int(7))) + s.slice(at + 1)
      case 4: return s + s
      default: return s.repeat(1 + int(2000))
    }
  }
  const valueOf = (valid: readonly string[]): string => {
    const r = random()
    if (r < 0.5) return pick(valid)
    if (r < 0.8) return mutateText(pick(valid))
    if (r < 0.9) return pick(NASTY)
    return randomText(40)
  }
  const param = (name: string): string => {
    switch (name) {
      case 'chain': return valueOf(['main', 'main', 'test'])
      // `/monitor/heads/<chain>` on a chain the node runs streams forever: only other chains here.
      case 'badchain': return 'x' + valueOf(['test', 'NetXdQprcVkpaWU'])
      case 'block': return valueOf(corpus.blockIds)
      case 'pkh': return valueOf(corpus.pkhs)
      case 'peer': return valueOf(corpus.peerIds)
      case 'point': return valueOf(corpus.points)
      case 'protocol': return valueOf(corpus.protocols)
      default: return randomText(10)
    }
  }
  const encodeSegment = (s: string): string => random() < 0.9 ? encodeURIComponent(s) : s.replace(/[\s?#]/g, c => encodeURIComponent(c))
  const body = (): string | undefined => {
    switch (int(6)) {
      case 0: return undefined
      case 1: return JSON.stringify(pick(corpus.operationHex))
      case 2: return JSON.stringify(mutateText(pick(corpus.operationHex)))
      case 3: return JSON.stringify(pick<unknown>([{ hex: pick(corpus.operationHex) }, [1, 2], 12, null, true, 'ab'.repeat(int(40_000))]))
      case 4: return mutateText(JSON.stringify(pick(corpus.operationHex)))
      default: return randomText(200)
    }
  }
  return () => {
    const route = pick(ROUTES)
    const method = random() < 0.85 ? route.method : pick(METHODS)
    let url = route.path.replace(/:(\w+)/g, (_, name: string) => encodeSegment(param(name)))
    if (random() < 0.1 && !route.path.startsWith('/monitor')) url = mutateText(url).replace(/^(?!\/)/, '/')
    if (/^\/+monitor/i.test(url) && !url.startsWith('/monitor/heads/x')) url = '/monitor/heads/xtest'
    if (random() < 0.2) url += `?${pick(['since', 'length', 'below', 'x', '__proto__'])}=${encodeSegment(valueOf(['0', '1', '-1', 'NaN', '1e400']))}`
    const payload = method === 'GET' || method === 'HEAD' ? undefined : body()
    const contentType = pick(CONTENT_TYPES)
    return {
      method,
      url,
      ...(payload !== undefined ? { payload } : {}),
      headers: contentType === '' ? {} : { 'content-type': contentType }
    }
  }
}

/** What is wrong with an answer, or undefined when it is acceptable. */
export function rpcAnswerProblem (response: LightMyRequestResponse | { statusCode: number, body: string, headers: Record<string, unknown> }, method: string, url: string): string | undefined {
  const status = response.statusCode
  // The readiness probe answers 503 until the node is bootstrapped, by design.
  const readiness = status === 503 && url.includes('ready') && (method === 'HEAD' || response.body.includes('"bootstrapped":false'))
  if (readiness) return undefined
  // Node's HTTP parser refuses a request head over 16 KiB before any handler runs.
  if (status === 431) return undefined
  if (status >= 500) return `status ${status}: ${response.body.slice(0, 300)}`
  if (status < 400 || method === 'HEAD') return undefined
  let json: unknown
  try {
    json = JSON.parse(response.body)
  } catch {
    return `status ${status} with a non-JSON body: ${response.body.slice(0, 200)}`
  }
  if (typeof json !== 'object' || json === null || typeof (json as { error?: unknown }).error !== 'string') {
    return `status ${status} without an "error" message: ${response.body.slice(0, 200)}`
  }
  return undefined
}

export interface RawAnswer { statusCode: number, body: string, headers: Record<string, unknown> }

/**
 * Sends a request as raw bytes over TCP (`Connection: close`) and parses the answer's status line
 * and body: for request targets that HTTP clients refuse to build (`/\\`, spaces, controls), which
 * a hostile client can still send.
 */
export async function rawHttpRequest (base: string, req: FuzzRequest): Promise<RawAnswer> {
  const url = new URL(base)
  const body = typeof req.payload === 'string' ? Buffer.from(req.payload) : undefined
  const headers = Object.entries(req.headers ?? {}).map(([k, v]) => `${k}: ${String(v)}\r\n`).join('')
  const head = `${req.method} ${req.url} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n${headers}` +
    (body !== undefined ? `Content-Length: ${body.length}\r\n` : '') + '\r\n'
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    const chunks: Buffer[] = []
    socket.setTimeout(10_000, () => { socket.destroy(new Error('no answer after 10 s')) })
    socket.on('data', (d: Buffer) => chunks.push(d))
    // The server may answer and close before reading a body it refuses: the unread bytes make the
    // kernel reset the connection, after the answer has arrived.
    socket.on('error', err => { if (chunks.length === 0) reject(err) })
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (m === null) { reject(new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 100))}`)); return }
      const split = text.indexOf('\r\n\r\n')
      resolve({ statusCode: Number(m[1]), body: split < 0 ? '' : Buffer.from(text.slice(split + 4), 'latin1').toString('utf8'), headers: {} })
    })
    socket.write(Buffer.from(head, 'latin1'))
    if (body !== undefined) socket.write(body)
  })
}

/**
 * Sends `req` through `app.inject()`, or raw over TCP when the inject client cannot even build its
 * URL; either way the server's answer.
 */
export async function sendFuzzRequest (env: RpcFuzzEnv, req: FuzzRequest): Promise<RawAnswer | LightMyRequestResponse> {
  try {
    return await env.app.inject(req)
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_INVALID_URL') throw e
    return await rawHttpRequest(env.rpc.urls[0], req)
  }
}
