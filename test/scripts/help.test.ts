import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Child, ROOT } from '../rpc/child.ts'

/** The npm scripts a user runs with options: every benchmark, the fuzzer, the soak test and the devnet. */
async function scriptsWithOptions (): Promise<Array<{ name: string, args: string[] }>> {
  const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  return Object.entries(scripts)
    .filter(([name]) => /^(bench(:.+)?|fuzz|soak|devnet)$/.test(name))
    .map(([name, command]) => {
      const [program, ...args] = command.split(' ')
      assert.equal(program, 'node', `${name}: ${command}`)
      return { name, args }
    })
}

async function run (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string, child: Child }> {
  const child = new Child(args)
  const { code } = await child.exited
  return { code, stdout: child.stdout, stderr: child.stderr, child }
}

test('every npm run bench*, fuzz, soak and devnet prints its usage and options for --help and exits with 0', async () => {
  const scripts = await scriptsWithOptions()
  assert.ok(scripts.length >= 10, scripts.map(s => s.name).join(', '))
  // Two at a time: each is a Node process loading TypeScript.
  for (let i = 0; i < scripts.length; i += 2) {
    await Promise.all(scripts.slice(i, i + 2).map(async ({ name, args }) => {
      const r = await run([...args, '--help'])
      assert.equal(r.code, 0, `npm run ${name} -- --help: exit ${r.code}\n${r.stderr}`)
      assert.match(r.stdout, new RegExp(`^Usage: npm run ${name} -- `), name)
      assert.match(r.stdout, /^Options:$/m, name)
      assert.match(r.stdout, /^ {2}-h, --help /m, name)
      assert.equal(r.stderr, '', name)
    }))
  }
})

test('a benchmark given an unknown option says so in one line and exits with 2', async () => {
  const r = await run(['scripts/bench/sync.ts', '--bogus'])
  assert.equal(r.code, 2)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, 'npm run bench:sync: unknown option \'--bogus\' (--help lists the options)\n')
})

test('devnet subcommands show how they are typed through npm run', async () => {
  const transfer = await run(['scripts/devnet.ts', 'transfer', '--help'])
  assert.equal(transfer.code, 0, transfer.stderr)
  assert.match(transfer.stdout, /^Usage: npm run devnet -- transfer \[options\]$/m)
  assert.match(transfer.stdout, /--amount <n>/)
  // Through the tzp2p binary the same command is `tzp2p devnet transfer`.
  const viaCli = await run([join(ROOT, 'bin/tzp2p.js'), 'devnet', 'transfer', '--help'])
  assert.equal(viaCli.code, 0, viaCli.stderr)
  assert.match(viaCli.stdout, /^Usage: tzp2p devnet transfer \[options\]$/m)
})
