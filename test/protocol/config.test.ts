import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Command } from 'commander'
import { ConfigError, registerRunOptions, resolveConfig } from '../../src/config/index.ts'
import { chainOptionsFromConfig } from '../../src/runtime/chain-options.ts'
import { ProtocolRegistry } from '../../src/protocol/registry.ts'
import type { Protocol } from '../../src/protocol/protocol.ts'

function flags (...args: string[]): Record<string, unknown> {
  const command = registerRunOptions(new Command('run')).exitOverride()
  command.parse(args, { from: 'user' })
  return command.opts()
}

function problemsOf (f: () => unknown): string[] {
  try {
    f()
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map(p => `${p.key}: ${p.message}`)
    throw e
  }
  return []
}

test('config: demo v1 and v2 are installed by default; the baker activates by name or hash, from the file or --activate', async () => {
  const c = resolveConfig({ baker: { enabled: true, activations: [{ level: 30, protocol: 'demo-v2' }] } }, flags('--activate', 'demo-v2@20'), { env: {} })
  assert.deepEqual(c.protocol.name === 'demo' ? c.protocol.parameters.versions : undefined, [1, 2])
  assert.deepEqual(c.baker.activations, [{ level: 30, protocol: 'demo-v2' }, { level: 20, protocol: 'demo-v2' }])
  const { chain } = await chainOptionsFromConfig(c)
  try {
    const extra = chain.protocols as Protocol[]
    assert.deepEqual(extra.map(p => [p.manifest?.name, p.manifest?.version]), [['demo', 2]])
    assert.deepEqual(chain.baker?.activations, [{ level: 30, protocol: extra[0].hash }, { level: 20, protocol: extra[0].hash }])
    assert.equal(new ProtocolRegistry([chain.protocol, ...extra]).protocols().length, 2)
  } finally {
    await chain.protocol.close?.()
  }
  const without = resolveConfig({}, flags('--protocol-versions', '1'), { env: {} })
  assert.deepEqual(without.protocol.name === 'demo' ? without.protocol.parameters.versions : undefined, [1])
  const { chain: bare } = await chainOptionsFromConfig(without)
  assert.deepEqual(bare.protocols, [])
  await bare.protocol.close?.()
})

test('config: bad protocol versions and activations are clear errors naming the key', () => {
  const env = { env: {} }
  assert.match(problemsOf(() => resolveConfig({}, flags('--protocol-versions', '2'), env)).join('\n'), /protocol\.parameters\.versions.*must start with 1/)
  assert.match(problemsOf(() => resolveConfig({}, flags('--protocol-versions', '4'), env)).join('\n'), /protocol\.parameters\.versions/)
  // Demo v3 may run from genesis (a devnet of delegates): a list starting with 3 is accepted.
  assert.deepEqual(problemsOf(() => resolveConfig({}, flags('--protocol-versions', '3'), env)), [])
  assert.match(problemsOf(() => resolveConfig({}, flags('--protocol-versions', '1', '--protocol-versions', '1'), env)).join('\n'), /twice/)
  assert.match(problemsOf(() => resolveConfig({}, flags('--activate', 'demo-v2'), env)).join('\n'), /baker\.activations.*<protocol>@<level>/)
  assert.match(problemsOf(() => resolveConfig({}, flags('--activate', 'nothing@20'), env)).join('\n'), /baker\.activations.*neither demo-v<N> nor a protocol hash/)
  assert.match(problemsOf(() => resolveConfig({}, flags('--activate', 'demo-v2@0'), env)).join('\n'), /baker\.activations.*level 0/)
  assert.match(problemsOf(() => resolveConfig({}, flags('--protocol-versions', '1', '--activate', 'demo-v2@20'), env)).join('\n'), /baker\.activations\[0\]: demo-v2 is not installed/)
  assert.match(problemsOf(() => resolveConfig({}, flags('--activate', 'demo-v2@20', '--activate', 'demo-v2@20'), env)).join('\n'), /second activation at level 20/)
  assert.deepEqual(problemsOf(() => resolveConfig({}, flags('--activate', 'PtYuensgYBb3G3x1hLLbCmcav8ue8Kyd2khADcL5LsT5R1hcXex@5'), env)), [])
})

test('config: demo v3 is installed with --protocol-versions and activated by name', async () => {
  const c = resolveConfig({ baker: { enabled: true } }, flags('--protocol-versions', '1', '--protocol-versions', '2', '--protocol-versions', '3', '--activate', 'demo-v3@10'), { env: {} })
  assert.deepEqual(c.protocol.name === 'demo' ? c.protocol.parameters.versions : undefined, [1, 2, 3])
  const { chain } = await chainOptionsFromConfig(c)
  try {
    const extra = chain.protocols as Protocol[]
    assert.deepEqual(extra.map(p => [p.name, p.manifest?.version, p.validationPasses]), [['demo-v2', 2, 1], ['demo-v3', 3, 4]])
    assert.deepEqual(chain.baker?.activations, [{ level: 10, protocol: extra[1].hash }])
  } finally {
    await chain.protocol.close?.()
  }
  assert.match(problemsOf(() => resolveConfig({}, flags('--protocol-versions', '1', '--protocol-versions', '4'), { env: {} })).join('\n'), /protocol\.parameters\.versions/)
})
