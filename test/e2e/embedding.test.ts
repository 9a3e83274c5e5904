import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Child, NODE, ROOT } from '../rpc/child.ts'
import { removeDir, tempDir } from '../helpers/temp-dir.ts'

const exec = promisify(execFile)
const NPM_ENV = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }

/**
 * What an importer gets: `npm run build`, then `npm pack`; the tarball is unpacked as
 * `node_modules/tzp2p` of a fresh application (its dependencies linked to this checkout's, as
 * `npm install` would have fetched them), which then typechecks against the packaged types and
 * runs the gossip-backbone example with `import … from 'tzp2p'`.
 */
describe('embedding tzp2p as a package', () => {
  it('npm pack holds dist with types, bin, protocols and README; an application imports it, typechecks and runs the gossip-backbone example', async () => {
    const tmp = await tempDir('embed')
    try {
      await exec('npm', ['run', 'build'], { cwd: ROOT, env: NPM_ENV })
      const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, env: NPM_ENV })
      const [packed] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
      const files = new Set(packed.files.map(f => f.path))
      for (const needed of ['package.json', 'README.md', 'bin/tzp2p.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js',
        'dist/rpc/server.d.ts', 'dist/rpc/status-page/index.html', 'dist/rpc/status-page/status.js', 'protocols/handshake.md']) {
        assert.ok(files.has(needed), `the package holds ${needed}`)
      }
      for (const path of files) assert.doesNotMatch(path, /^(src|test|examples|scripts)\//, 'sources, tests and examples stay out of the package')

      const app = join(tmp, 'app')
      const pkg = join(app, 'node_modules', 'tzp2p')
      await mkdir(pkg, { recursive: true })
      await exec('tar', ['-xzf', join(tmp, packed.filename), '-C', pkg, '--strip-components=1'])
      await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'))
      const example = join(ROOT, 'examples', 'gossip-backbone')
      for (const f of await readdir(example)) if (f.endsWith('.ts')) await copyFile(join(example, f), join(app, f))
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'board-app', type: 'module', private: true }))
      await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2023', lib: ['ES2024'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
          allowImportingTsExtensions: true, erasableSyntaxOnly: true, verbatimModuleSyntax: true, skipLibCheck: true,
          types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')]
        },
        include: ['*.ts']
      }))

      // The packaged declarations type the application (no custom condition: what any importer sees).
      await exec(NODE, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app]).catch((e: { stdout?: string }) => {
        assert.fail(`the example does not typecheck against the packaged types:\n${e.stdout ?? ''}`)
      })

      const run = new Child([join(app, 'main.ts'), '--nodes', '3', '--notes', '2'], { cwd: app })
      const exit = await run.exited
      assert.deepEqual(exit, { code: 0, signal: null }, run.stderr)
      const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as { identical: boolean, notes: number, board: string[], boards: Record<string, number> }
      assert.equal(summary.notes, 6)
      assert.equal(summary.identical, true)
      assert.deepEqual([...summary.board].sort(), ['node0#1', 'node0#2', 'node1#1', 'node1#2', 'node2#1', 'node2#2'])
      assert.deepEqual(summary.boards, { node0: 6, node1: 6, node2: 6 })
      // node1's and node2's notes are in blocks only node0 bakes: they crossed the network to it.

      // The packaged CLI runs from dist (there is no src/ in the package).
      const { stdout: v } = await exec(NODE, [join(pkg, 'bin', 'tzp2p.js'), '--version'])
      assert.match(v.trim(), /^\d+\.\d+\.\d+$/)
    } finally {
      await removeDir(tmp)
    }
  })

  it('in a checkout, `node --conditions=tzp2p-source` resolves `tzp2p` to the TypeScript sources, with or without a build', async () => {
    // A module of the checkout (its package scope is the repository's), importing the package by name.
    const script = [
      "import { createNode, namedGenesis } from 'tzp2p'",
      "console.log(JSON.stringify({ resolved: import.meta.resolve('tzp2p'), createNode: typeof createNode, namedGenesis: typeof namedGenesis }))"
    ].join('\n')
    const { stdout } = await exec(NODE, ['--conditions=tzp2p-source', '--input-type=module', '--eval', script], { cwd: ROOT })
    const seen = JSON.parse(stdout) as { resolved: string, createNode: string, namedGenesis: string }
    assert.equal(seen.resolved, new URL('src/index.ts', `file://${ROOT}/`).href)
    assert.deepEqual([seen.createNode, seen.namedGenesis], ['function', 'function'])
  })
})
