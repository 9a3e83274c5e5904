import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/**
 * The layers of `src/`, lowest first: a module may import from its own layer and the layers before
 * it, never from a later one, so data flows one way. Files directly in `src/` (the package entry)
 * sit above every layer.
 *
 * - misbehaviour (the kinds of peer fault that errors of every layer carry) sits under everything;
 * - storage (the database and its write failures) and identity sit under the network code;
 * - net is the one home of peer addresses (points, multiaddr helpers), under the handshake;
 * - octez (Octez's raw-TCP wire) reuses the handshake's decision logic and sits under peers, so the peer
 *   layer can run connections over it;
 * - peer is the transport-neutral peer (`NetworkPeer`) that gossip and sync see, whatever the wire;
 * - stream is the envelope framing and per-peer rate limit that gossip and sync share;
 * - protocol (the Protocol interface and its state) sits under chain, which applies blocks through it;
 * - config reads files and flags into the options of node, peers and protocols, so it sits above them.
 */
const LAYERS = [
  'misbehaviour', 'encoding', 'crypto', 'storage', 'identity', 'wire', 'net', 'peer', 'stream', 'handshake', 'octez', 'peers', 'protocol', 'chain',
  'gossip', 'sync', 'node', 'rpc', 'config', 'runtime', 'cli'
] as const

const ROOT = '(package entry)'
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')

interface ImportEdge {
  /** Importing file, relative to `src/`. */
  from: string
  /** Imported path, relative to `src/` (may climb out of it). */
  to: string
}

/** Layer of a path relative to `src/`: its first folder, or the package entry for files in `src/` itself. */
function layerOf (path: string): string {
  const parts = path.split(sep)
  return parts.length === 1 ? ROOT : parts[0]
}

function rank (layer: string): number {
  return layer === ROOT ? LAYERS.length : (LAYERS as readonly string[]).indexOf(layer)
}

/** Every import that breaks the order, as one line each; an unknown layer or a path out of `src/` is one too. */
function layerViolations (edges: readonly ImportEdge[]): string[] {
  const problems: string[] = []
  for (const { from, to } of edges) {
    const fromLayer = layerOf(from)
    if (to.startsWith('..')) {
      problems.push(`${from} imports ${to}, outside src/ (tests and benchmarks may import src, not the reverse)`)
      continue
    }
    const toLayer = layerOf(to)
    for (const layer of [fromLayer, toLayer]) {
      if (rank(layer) < 0) problems.push(`src/${layer}/ is in no layer: place it in LAYERS (test/layers.test.ts)`)
    }
    if (rank(fromLayer) >= 0 && rank(toLayer) > rank(fromLayer)) {
      problems.push(`${from} (${fromLayer}) imports ${to} from the layer above it (${toLayer})`)
    }
  }
  return [...new Set(problems)]
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/** Relative imports and re-exports (static, type-only and dynamic) of every `.ts` file under `src/`. */
function srcImports (): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    for (const imported of info.importedFiles) {
      if (!imported.fileName.startsWith('.')) continue
      edges.push({ from: relative(SRC, file), to: relative(SRC, resolve(dirname(file), imported.fileName)) })
    }
  }
  return edges
}

test('every src/ module imports only from its own layer or the layers below it', () => {
  const edges = srcImports()
  assert.ok(edges.length > 500, `found only ${edges.length} imports under ${SRC}`)
  const layers = new Set(sourceFiles(SRC).map(f => layerOf(relative(SRC, f))))
  for (const layer of LAYERS) assert.ok(layers.has(layer), `src/${layer}/ has no module; drop it from LAYERS`)
  assert.deepEqual(layerViolations(edges), [])
})

test('the check catches an upward import, a folder in no layer and an import out of src/', () => {
  assert.deepEqual(layerViolations([{ from: join('handshake', 'service.ts'), to: join('peers', 'gater.ts') }]),
    [`${join('handshake', 'service.ts')} (handshake) imports ${join('peers', 'gater.ts')} from the layer above it (peers)`])
  assert.deepEqual(layerViolations([{ from: join('peers', 'gater.ts'), to: join('handshake', 'guard.ts') }]), [])
  assert.deepEqual(layerViolations([{ from: 'index.ts', to: join('cli', 'main.ts') }]), [])
  assert.deepEqual(layerViolations([{ from: join('wire', 'ack.ts'), to: 'index.ts' }]).length, 1)
  assert.match(layerViolations([{ from: join('widgets', 'a.ts'), to: join('wire', 'ack.ts') }])[0], /src\/widgets\/ is in no layer/)
  assert.match(layerViolations([{ from: join('chain', 'a.ts'), to: join('..', 'test', 'helpers', 'demo-chain.ts') }])[0], /outside src\//)
})
