import { b58Decode } from '../crypto/index.ts'
import type { ProtocolSources } from '../wire/protocol-sources.ts'
import { manifestHash, manifestSources, sameManifest, type ProtocolManifest } from './manifest.ts'
import type { Protocol } from './protocol.ts'

export class ProtocolRegistryError extends Error {
  override readonly name = 'ProtocolRegistryError'
}

/**
 * The protocols installed in a node, keyed by protocol hash (b58 `P…`). The chain asks it which
 * implementation validates the blocks of each protocol level; the sync service serves
 * `Get_protocols` from it. An embedder registers its own protocols before (or while) the node
 * runs: `registry.register(myProtocol)`.
 *
 * A protocol with a manifest must carry the hash of that manifest (so what we serve hashes to
 * what we claim); a protocol without one is installed under its hash but cannot be served.
 */
export class ProtocolRegistry {
  private readonly byHash = new Map<string, Protocol>()
  private readonly listeners = new Set<(p: Protocol, hash: string) => void>()

  constructor (protocols: readonly Protocol[] = []) {
    for (const p of protocols) this.register(p)
  }

  /** Installs `protocol` under its hash. Registering the same object twice is a no-op. */
  register (protocol: Protocol): void {
    this.install(protocol.hash, protocol)
  }

  /**
   * Installs an implementation under another hash: a received protocol whose manifest matches an
   * installed one but whose encoding differs (another environment version) names the same code.
   */
  registerAlias (hash: string, protocol: Protocol): void {
    this.install(hash, protocol)
  }

  private install (hash: string, protocol: Protocol): void {
    try {
      b58Decode('protocolHash', hash)
    } catch (e) {
      throw new ProtocolRegistryError(`protocol ${protocol.name}: ${hash} is not a protocol hash (${(e as Error).message})`)
    }
    if (hash === protocol.hash && protocol.manifest !== undefined && manifestHash(protocol.manifest) !== hash) {
      throw new ProtocolRegistryError(`protocol ${protocol.name}: its hash ${hash} is not the hash of its manifest (${manifestHash(protocol.manifest)})`)
    }
    const existing = this.byHash.get(hash)
    if (existing === protocol) return
    if (existing !== undefined) throw new ProtocolRegistryError(`protocol ${hash} is already installed (${existing.name})`)
    this.byHash.set(hash, protocol)
    for (const l of this.listeners) l(protocol, hash)
  }

  get (hash: string): Protocol | undefined {
    return this.byHash.get(hash)
  }

  has (hash: string): boolean {
    return this.byHash.has(hash)
  }

  /** Installed protocols as (hash, protocol), in registration order. */
  entries (): Array<[string, Protocol]> {
    return [...this.byHash.entries()]
  }

  /** Distinct implementations (an alias lists its protocol once). */
  protocols (): Protocol[] {
    return [...new Set(this.byHash.values())]
  }

  /** The Octez `Protocol.t` to serve for `hash`, if we have it with a manifest. */
  sourcesOf (hash: string): ProtocolSources | undefined {
    const p = this.byHash.get(hash)
    if (p?.manifest === undefined || p.hash !== hash) return undefined
    return manifestSources(p.manifest)
  }

  /** The installed implementation a received manifest names, if any. */
  findByManifest (m: ProtocolManifest): Protocol | undefined {
    for (const p of this.byHash.values()) if (p.manifest !== undefined && sameManifest(p.manifest, m)) return p
    return undefined
  }

  /** Called on every installation (the chain resumes a branch that waited for it). */
  onRegister (listener: (p: Protocol, hash: string) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Releases every implementation's resources once. */
  async close (): Promise<void> {
    await Promise.all(this.protocols().map(async p => { await p.close?.() }))
  }
}
