import { b58Encode, blake2b256 } from '../crypto/index.ts'
import { protocolHash, type ProtocolSources } from '../wire/protocol-sources.ts'

/**
 * How a tzp2p protocol is named on the wire. Octez identifies a protocol by the hash of its
 * sources (`Protocol.t`: environment version + OCaml modules) and ships those sources in
 * `Protocol` messages so that a node can compile a protocol it lacks. tzp2p never runs code it
 * receives: its protocols are TypeScript modules installed in the node. So the "sources" of a
 * tzp2p protocol are one component whose implementation text is a manifest — the protocol's name,
 * version and a digest identifying its implementation and parameters — and the protocol hash is,
 * exactly as in Octez, BLAKE2b-256 of the Octez encoding of those sources. A node that receives a
 * `Protocol` message checks the hash and looks the manifest up among its installed protocols.
 */
export interface ProtocolManifest {
  /** Family name (`demo`, `accept-all`, an embedder's own). */
  name: string
  /** Version inside the family (an integer ≥ 1). */
  version: number
  /** 64 hex digits: BLAKE2b-256 of whatever identifies the implementation and its parameters. */
  source: string
}

/** The environment version tzp2p manifests declare (Octez's environments start at 0). */
export const MANIFEST_ENV_VERSION = 0
/** Name of the one component of a tzp2p protocol. */
export const MANIFEST_COMPONENT = 'Tzp2p_manifest'

/** A received `Protocol` that is not a tzp2p manifest (Octez OCaml sources, or garbage). */
export class ManifestError extends Error {
  override readonly name = 'ManifestError'
}

/**
 * The canonical JSON text of a manifest: keys in a fixed order, no spaces. Two nodes must produce
 * the same bytes for the same manifest, or they would not agree on the protocol hash.
 */
export function canonicalManifestJson (m: ProtocolManifest): string {
  checkManifest(m)
  return JSON.stringify({ name: m.name, version: m.version, source: m.source })
}

function checkManifest (m: ProtocolManifest): void {
  if (typeof m.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(m.name)) {
    throw new ManifestError(`protocol name ${JSON.stringify(m.name)} must be 1-64 characters of a-z, 0-9, '.', '_', '-'`)
  }
  if (!Number.isSafeInteger(m.version) || m.version < 1) throw new ManifestError(`protocol version ${String(m.version)} must be an integer ≥ 1`)
  if (typeof m.source !== 'string' || !/^[0-9a-f]{64}$/.test(m.source)) throw new ManifestError('protocol source must be 64 lowercase hex digits')
}

/** The Octez `Protocol.t` value standing for a manifest. */
export function manifestSources (m: ProtocolManifest): ProtocolSources {
  return { expectedEnvVersion: MANIFEST_ENV_VERSION, components: [{ name: MANIFEST_COMPONENT, implementation: canonicalManifestJson(m) }] }
}

/** The protocol hash (b58 `P…`) of a manifest. */
export function manifestHash (m: ProtocolManifest): string {
  return b58Encode('protocolHash', protocolHash(manifestSources(m)))
}

/**
 * A manifest for a protocol family member: `source` is BLAKE2b-256 of `identity` (a description
 * of the implementation and its parameters, e.g. `tzp2p demo protocol 2` followed by the baker key).
 */
export function makeManifest (name: string, version: number, identity: Uint8Array): ProtocolManifest {
  const m = { name, version, source: Buffer.from(blake2b256(identity)).toString('hex') }
  checkManifest(m)
  return m
}

/** The manifest inside received sources; `ManifestError` if they are not a tzp2p manifest. */
export function parseManifest (sources: ProtocolSources): ProtocolManifest {
  if (sources.components.length !== 1 || sources.components[0].name !== MANIFEST_COMPONENT || sources.components[0].interface !== undefined) {
    throw new ManifestError(`not a tzp2p protocol: ${sources.components.length} component(s) (${sources.components.slice(0, 3).map(c => c.name).join(', ')})`)
  }
  let json: unknown
  try {
    json = JSON.parse(sources.components[0].implementation)
  } catch {
    throw new ManifestError('the manifest is not JSON')
  }
  if (typeof json !== 'object' || json === null) throw new ManifestError('the manifest is not a JSON object')
  const { name, version, source } = json as Record<string, unknown>
  const m = { name, version, source } as ProtocolManifest
  checkManifest(m)
  if (canonicalManifestJson(m) !== sources.components[0].implementation) throw new ManifestError('the manifest is not in canonical form')
  return m
}

export function sameManifest (a: ProtocolManifest, b: ProtocolManifest): boolean {
  return a.name === b.name && a.version === b.version && a.source === b.source
}
