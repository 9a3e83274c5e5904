import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  createNetworkNamespaces, inNamespace, namespaceLayout, networkNamespacesUnavailable, removeNetworkNamespaces
} from '../../src/runtime/devnet/netns.ts'
import { BIN, NODE, ROOT } from '../rpc/child.ts'

/**
 * The RPC's access control where it matters: a real `tzp2p run` whose RPC listens on a
 * non-loopback address inside a network namespace (made as the devnet makes them), called from a
 * second namespace across the bridge. Needs root; skipped otherwise.
 */

const run = promisify(execFile)
const unavailable = await networkNamespacesUnavailable()
const skip = unavailable === undefined ? false : `network namespaces unavailable here: ${unavailable}`

const PEER = 'idrRoknJh9zwEePNswF3MPGFzmKaVp'

interface Answer { status: number, error?: string }

/** Runs the requests with fetch from inside `namespace`; one process for the whole batch. */
async function callFrom (namespace: string, requests: Array<[string, string]>): Promise<Answer[]> {
  const script = `
    const out = []
    for (const [method, url] of JSON.parse(process.argv[1])) {
      const r = await fetch(url, { method, signal: AbortSignal.timeout(20000) })
      const text = await r.text()
      out.push({ status: r.status, ...(text.startsWith('{') ? { error: JSON.parse(text).error } : {}) })
    }
    process.stdout.write(JSON.stringify(out))`
  const command = inNamespace(namespace, NODE, ['--input-type=module', '-e', script, JSON.stringify(requests)])
  const { stdout } = await run(command.command, command.args, { cwd: ROOT })
  return JSON.parse(stdout) as Answer[]
}

describe('RPC access control on a non-loopback address (network namespaces)', { skip }, () => {
  it('serves public reads and refuses the rest by default; rpc.acl and --allow-all-rpc change that, per listener', async () => {
    const layout = namespaceLayout(`a${process.pid % 100000}`, 230 + process.pid % 20, 2)
    const [server, client] = layout.nodes
    const ip = server.address
    const dir = await mkdtemp(join(tmpdir(), 'tzp2p-acl-'))
    await createNetworkNamespaces(layout)
    let child: ReturnType<typeof spawn> | undefined
    let output = ''
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({
        rpc: {
          acl: [
            { address: `${ip}:8733`, blacklist: ['DELETE /network/greylist', 'PUT /network/peers/*/ban'] },
            { address: `${ip}:8734`, whitelist: ['GET /network/peers', 'GET /chains/*/blocks/*/header'] }
          ]
        }
      }))
      const args = [
        BIN, 'run', '--data-dir', dir, '--expected-pow', '0', '--no-bootstrap-peers', '--log-output', 'stdout',
        '--net-addr', `${ip}:9732`,
        // 8732: no entry (the default for a non-loopback address); 8733, 8734: rpc.acl; 8735: --allow-all-rpc.
        '--rpc-addr', `${ip}:8732`, '--rpc-addr', `${ip}:8733`, '--rpc-addr', `${ip}:8734`, '--rpc-addr', `${ip}:8735`,
        '--allow-all-rpc', `${ip}:8735`
      ]
      const command = inNamespace(server.namespace, NODE, args)
      const node = spawn(command.command, command.args, { cwd: ROOT, env: { ...process.env, TZP2P_DATA_DIR: '' } })
      child = node
      const listening = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`the RPC did not start (safety deadline)\n${output}`)) }, 120_000)
        const check = (): void => {
          // One log line per listener once its policy is in place.
          if ((output.match(/"msg":"RPC on /g) ?? []).length === 4) { clearTimeout(timer); resolve() }
        }
        node.stdout.on('data', (d: Buffer) => { output += d.toString(); check() })
        node.stderr.on('data', (d: Buffer) => { output += d.toString(); check() })
        node.on('exit', code => { clearTimeout(timer); reject(new Error(`tzp2p run exited with ${code}\n${output}`)) })
      })
      await listening
      assert.match(output, new RegExp(`RPC on ${ip.replace(/\./g, '\\.')}:8732 serves public reads and injection only \\(the default on a non-loopback address\\)`))
      assert.match(output, new RegExp(`"msg":"rpc\\.acl: ${ip.replace(/\./g, '\\.')}:8735 is reachable from other machines and its policy`))

      const at = (port: number, method: string, path: string): [string, string] => [method, `http://${ip}:${port}${path}`]
      const [
        defaultHead, defaultBan, defaultClear, defaultPeers,
        blackClear, blackBan, blackPeers, blackHead,
        whitePeers, whiteSelf, whiteHead,
        openClear
      ] = await callFrom(client.namespace, [
        at(8732, 'GET', '/chains/main/blocks/head/header'),
        at(8732, 'PUT', `/network/peers/${PEER}/ban`),
        at(8732, 'DELETE', '/network/greylist'),
        at(8732, 'GET', '/network/peers'),
        at(8733, 'DELETE', '/network/greylist'),
        at(8733, 'PUT', `/network/peers/${PEER}/ban`),
        at(8733, 'GET', '/network/peers'),
        at(8733, 'GET', '/chains/main/blocks/head/header'),
        at(8734, 'GET', '/network/peers'),
        at(8734, 'GET', '/network/self'),
        at(8734, 'GET', '/chains/main/blocks/head/header'),
        at(8735, 'DELETE', '/network/greylist')
      ])
      const byDefault = (call: string): Answer => ({ status: 403, error: `forbidden: ${call} is not a public RPC: on ${ip}:8732, a non-loopback address, the default policy serves only public reads and injection (open more with rpc.acl or --allow-all-rpc)` })
      assert.equal(defaultHead.status, 200)
      assert.deepEqual(defaultBan, byDefault(`PUT /network/peers/${PEER}/ban`))
      assert.deepEqual(defaultClear, byDefault('DELETE /network/greylist'))
      assert.deepEqual(defaultPeers, byDefault('GET /network/peers'))

      assert.deepEqual(blackClear, { status: 403, error: `forbidden: DELETE /network/greylist matches "DELETE /network/greylist" of the blacklist for ${ip}:8733 (rpc.acl)` })
      assert.deepEqual(blackBan, { status: 403, error: `forbidden: PUT /network/peers/${PEER}/ban matches "PUT /network/peers/*/ban" of the blacklist for ${ip}:8733 (rpc.acl)` })
      assert.equal(blackPeers.status, 200)
      assert.equal(blackHead.status, 200)

      assert.equal(whitePeers.status, 200)
      assert.deepEqual(whiteSelf, { status: 403, error: `forbidden: GET /network/self matches no rule of the whitelist for ${ip}:8734 (rpc.acl), which refuses the rest` })
      assert.equal(whiteHead.status, 200)

      assert.equal(openClear.status, 200)
    } finally {
      child?.kill('SIGINT')
      if (child !== undefined && child.exitCode === null) await new Promise(resolve => child?.once('exit', resolve))
      await removeNetworkNamespaces(layout)
      await rm(dir, { recursive: true, force: true })
    }
    const namespaces = (await run('ip', ['netns', 'list'])).stdout
    assert.ok(!namespaces.includes(server.namespace) && !namespaces.includes(client.namespace), 'namespaces removed')
  })
})
