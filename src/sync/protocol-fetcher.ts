import type { Logger } from 'pino'
import { b58Decode } from '../crypto/index.ts'
import { toHex } from '../encoding/index.ts'
import type { ProtocolWatch } from '../chain/protocol-watch.ts'
import { ManifestError, parseManifest } from '../protocol/manifest.ts'
import type { ProtocolRegistry } from '../protocol/registry.ts'
import { misbehaviourOf, type ReportPeer } from '../misbehaviour/index.ts'
import type { SyncClient } from './client.ts'
import { PROTOCOL_REQUEST_INTERVAL_MS } from './definitions.ts'

export interface ProtocolFetcherInit {
  registry: ProtocolRegistry
  watch: ProtocolWatch
  client: Pick<SyncClient, 'protocols'>
  /** Peers we may ask (authenticated, gossiping). */
  peers: () => string[]
  /** The peer policy: a peer that answers with something that does not hash to what we asked is reported there. */
  report: ReportPeer
  logger: Logger
  now?: () => number
}

/**
 * Octez's `Distributed_db` asks peers for a protocol the validator lacks (Get_protocols) and then
 * compiles what it receives. tzp2p asks the same way and receives the Octez `Protocol` encoding,
 * but never runs received code: it checks that the answer hashes to the protocol asked for, reads
 * the manifest in it and looks that manifest up among the installed implementations. A match is
 * installed under the received hash; otherwise the protocol stays missing (`not-installed`) and
 * the branch that needs it is not followed.
 *
 * One peer is asked at a time, and no peer more than once per 10 s (its responder drops more).
 */
export class ProtocolFetcher {
  private readonly init: ProtocolFetcherInit
  private readonly log: Logger
  private readonly now: () => number
  private readonly lastAsked = new Map<string, number>()
  private readonly running = new Map<string, Promise<void>>()
  private stopped = false
  private readonly retries = new Map<string, ReturnType<typeof setTimeout>>()

  constructor (init: ProtocolFetcherInit) {
    this.init = init
    this.log = init.logger.child({ module: 'protocols' })
    this.now = init.now ?? Date.now
  }

  /** Tries to obtain `protocol` (b58 `P…`) from peers, `preferred` first; resolves when done trying. */
  async fetch (protocol: string, preferred: readonly string[] = []): Promise<void> {
    const running = this.running.get(protocol)
    if (running !== undefined) return await running
    const run = this.run(protocol, preferred).finally(() => { this.running.delete(protocol) })
    this.running.set(protocol, run)
    return await run
  }

  stop (): void {
    this.stopped = true
    for (const t of this.retries.values()) clearTimeout(t)
    this.retries.clear()
  }

  forgetPeer (peer: string): void {
    this.lastAsked.delete(peer)
  }

  private async run (protocol: string, preferred: readonly string[]): Promise<void> {
    const hash = b58Decode('protocolHash', protocol)
    const peers = [...new Set([...preferred, ...this.init.peers()])]
    // Known not to match anything installed: asking again would give the same answer.
    if (this.init.watch.get(protocol)?.state === 'not-installed') return
    this.init.watch.update(protocol, { state: 'fetching' })
    for (const peer of peers) {
      if (this.stopped || this.init.registry.has(protocol)) return
      const last = this.lastAsked.get(peer)
      if (last !== undefined && this.now() - last < PROTOCOL_REQUEST_INTERVAL_MS) continue
      this.lastAsked.set(peer, this.now())
      let sources
      try {
        sources = (await this.init.client.protocols(peer, [hash])).get(toHex(hash))
      } catch (err) {
        const kind = misbehaviourOf(err)
        if (kind !== undefined) this.init.report({ tezosPeerId: peer }, kind, `wrong protocol answer: ${(err as Error).message}`)
        else this.log.debug({ peer, protocol, err: (err as Error).message }, 'protocol request failed')
        continue
      }
      if (sources === undefined) continue
      let manifest
      try {
        manifest = parseManifest(sources)
      } catch (err) {
        if (!(err instanceof ManifestError)) throw err
        // An honest peer may run protocols we cannot: its answer hashes right, so no blame.
        this.init.watch.update(protocol, { state: 'not-installed', reason: err.message })
        this.log.warn({ peer, protocol, reason: err.message }, `protocol ${protocol} received: not a tzp2p protocol; branch not followed`)
        return
      }
      const implementation = this.init.registry.findByManifest(manifest)
      if (implementation !== undefined) {
        this.init.registry.registerAlias(protocol, implementation)
        this.init.watch.update(protocol, { state: 'installed', manifest })
        this.log.info({ peer, protocol, implementation: implementation.hash }, `protocol ${protocol} matches the installed ${manifest.name} v${manifest.version}`)
        return
      }
      this.init.watch.update(protocol, { state: 'not-installed', manifest })
      this.log.warn({ peer, protocol, manifest }, `protocol ${protocol} is ${manifest.name} v${manifest.version}, which is not installed; branch not followed`)
      return
    }
    if (this.init.registry.has(protocol) || this.stopped) return
    this.init.watch.update(protocol, { state: 'unavailable' })
    // Nobody had it (or every peer was asked lately): ask again once the peers' throttles allow.
    if (!this.retries.has(protocol)) {
      const timer = setTimeout(() => {
        this.retries.delete(protocol)
        if (!this.stopped) this.fetch(protocol).catch(() => {})
      }, PROTOCOL_REQUEST_INTERVAL_MS)
      timer.unref()
      this.retries.set(protocol, timer)
    }
  }
}
