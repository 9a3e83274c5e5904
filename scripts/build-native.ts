/**
 * `npm run build:native`: compiles the optional native PoW loop (native/pow/pow.c) into
 * native/pow/build/pow.node with the system C compiler, against Node-API headers already on the
 * machine (the `node` package in node_modules ships them) and libsodium (Debian/Ubuntu:
 * apt-get install libsodium-dev), linked statically when a static libsodium is there so the addon
 * needs nothing at run time. Nothing is downloaded. Without the addon, the PoW search uses
 * sodium-native; with it, the search loop runs in C (see src/identity/pow-native.ts).
 *
 *   npm run build:native            # CC=clang npm run build:native to pick the compiler
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parseScriptArgs } from './script-args.ts'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '..')
const SOURCE = join(ROOT, 'native/pow/pow.c')
const DEFAULT_OUT = join(ROOT, 'native/pow/build/pow.node')

class BuildNativeError extends Error {
  override readonly name = 'BuildNativeError'
}

/** A directory holding node_api.h: the running Node's own headers first, then system ones. */
function findNodeApiHeaders (): string {
  const candidates = [
    join(ROOT, `node_modules/node/node_modules/node-${process.platform}-${process.arch}/include/node`),
    resolve(dirname(process.execPath), '../include/node'),
    '/usr/local/include/node',
    '/usr/include/node'
  ]
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')))
  if (found === undefined) throw new BuildNativeError(`no Node-API headers (node_api.h) in any of: ${candidates.join(', ')}`)
  return found
}

/** How to link libsodium, most self-contained first. */
function libsodiumLinkings (): Array<{ name: string, args: string[] }> {
  if (process.platform === 'darwin') return [{ name: 'dynamic', args: ['-undefined', 'dynamic_lookup', '-lsodium'] }]
  return [
    // Debian's libsodium.a is not built position-independent; keeping its symbols local to the
    // addon (--exclude-libs) lets its relocations resolve inside the shared object.
    { name: 'static', args: ['-Wl,--exclude-libs,ALL', '-Wl,-Bstatic', '-lsodium', '-Wl,-Bdynamic'] },
    { name: 'dynamic', args: ['-lsodium'] }
  ]
}

async function build (OUT: string): Promise<string> {
  const cc = process.env.CC ?? 'cc'
  const include = findNodeApiHeaders()
  await mkdir(dirname(OUT), { recursive: true })
  const partial = `${OUT}.${process.pid}.tmp`
  const failures: string[] = []
  try {
    for (const linking of libsodiumLinkings()) {
      try {
        await run(cc, ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-I', include, '-o', partial, SOURCE, ...linking.args])
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string }
        if (err.code === 'ENOENT') throw new BuildNativeError(`no C compiler: ${cc} not found (set CC, or install gcc)`)
        const stderr = err.stderr ?? err.message
        if (/sodium\.h/.test(stderr)) throw new BuildNativeError('libsodium headers not found (apt-get install libsodium-dev)')
        failures.push(`${linking.name} libsodium: ${stderr.trim().split('\n').slice(-2).join(' ')}`)
        continue
      }
      // Renamed into place whole, so a process loading the addon never sees half a file.
      await rename(partial, OUT)
      return linking.name
    }
  } finally {
    await rm(partial, { force: true })
  }
  throw new BuildNativeError(`cannot link ${relative(ROOT, SOURCE)}:\n  ${failures.join('\n  ')}`)
}

const { values } = parseScriptArgs({
  command: 'npm run build:native --',
  summary: 'Build the optional native PoW loop (native/pow) with the system C compiler and libsodium; CC picks the compiler.',
  options: {
    out: { type: 'string', default: relative(ROOT, DEFAULT_OUT), placeholder: 'file', description: 'where to write the addon (the node loads it only from the default place; tests build one elsewhere)' }
  }
})
const OUT = resolve(values.out ?? DEFAULT_OUT)
try {
  const linking = await build(OUT)
  // Loaded in a fresh process, so the check sees the file just written, not a cached copy.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `
    import { loadNativePow } from ${JSON.stringify(join(ROOT, 'src/identity/pow-native.ts'))}
    const s = loadNativePow(${JSON.stringify(OUT)})
    process.stdout.write(s.loaded ? 'ok' : s.reason)`])
  if (stdout !== 'ok') throw new BuildNativeError(`built ${relative(ROOT, OUT)}, but it is unusable: ${stdout}`)
  process.stdout.write(`built ${relative(ROOT, OUT)} (libsodium linked ${linking}); self-check against the JavaScript PoW check passed\n`)
} catch (e) {
  if (!(e instanceof BuildNativeError)) throw e
  process.stderr.write(`build:native: ${e.message}\n`)
  process.exit(1)
}
