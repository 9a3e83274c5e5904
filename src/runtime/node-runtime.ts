import { access } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { NodeConfig } from '../config/node-config.ts'
import { IDENTITY_FILE_NAME, loadOrCreateNodeKeys, type PowProgress } from '../identity/index.ts'
import { prepareDataDir } from '../identity/data-dir.ts'
import type { StorageWriteError } from '../storage/write-failure.ts'
import { createNode, type TzNode } from '../node/create-node.ts'
import { startRpcServer, type RpcServer } from '../rpc/server.ts'
import { chainOptionsFromConfig } from './chain-options.ts'
import { networkOptionsFromConfig } from './node-options.ts'
import { p2pListenErrorOf } from './p2p-listen-error.ts'

export interface StartNodeRuntimeOptions {
  logger: Logger
  /** Told when a new identity is being generated (first run), then of the search's progress. */
  onIdentityGeneration?: (difficulty: number) => void
  onPowProgress?: (progress: PowProgress) => void
  /** Told once the identity is loaded or generated (e.g. to clear a progress line). */
  onIdentityReady?: () => void
  /** Aborts an identity generation in progress. */
  signal?: AbortSignal
  /**
   * Told, once, when the store can no longer be written (disk full, read-only, I/O error): the
   * runtime has logged it; the caller stops the runtime and exits with an error.
   */
  onFatal?: (error: StorageWriteError) => void
}

/** A node started from a configuration, with its RPC. */
export interface NodeRuntime {
  readonly config: NodeConfig
  readonly node: TzNode
  /** Undefined when `rpc.listen-addrs` is empty. */
  readonly rpc: RpcServer | undefined
  /** Whether this start generated the identity. */
  readonly identityCreated: boolean
  /** Closes the RPC, then the node (peers closed, store flushed and closed). Idempotent. */
  stop: () => Promise<void>
}

/**
 * What `tzp2p run` does once the configuration is loaded: create the data dir, load or generate
 * the identity (at `p2p.expected-proof-of-work`, as Octez on its first run), build the node with
 * its chain, start it, and start the RPC and metrics listeners.
 */
export async function startNodeRuntime (config: NodeConfig, options: StartNodeRuntimeOptions): Promise<NodeRuntime> {
  const { logger } = options
  await prepareDataDir(config.dataDir)
  // Told before the search starts: at low difficulties it ends before its first progress report.
  const hasIdentity = await access(join(config.dataDir, IDENTITY_FILE_NAME)).then(() => true, () => false)
  if (!hasIdentity) options.onIdentityGeneration?.(config.p2p.expectedPow)
  const keys = await loadOrCreateNodeKeys(config.dataDir, {
    expectedPow: config.p2p.expectedPow,
    signal: options.signal,
    onProgress: options.onPowProgress
  })
  options.onIdentityReady?.()
  if (keys.created.identity) logger.info({ peerId: keys.identity.peerId, dataDir: config.dataDir }, 'generated a new identity')

  const metricsRegistry = new Registry()
  const chainOptions = await chainOptionsFromConfig(config)
  let node: TzNode
  try {
    node = await createNode({ ...networkOptionsFromConfig(config, { logger, metricsRegistry }), ...chainOptions })
  } catch (e) {
    // The node closes the protocol once it runs; until then it is ours to close.
    await chainOptions.chain.protocol.close?.()
    throw e
  }
  let fatal = false
  node.events.on('storage:failure', error => {
    if (fatal) return
    fatal = true
    logger.fatal({ dataDir: config.dataDir, err: error.message },
      `${error.message}. The node stops; every block committed before this is kept, and a restart resumes from it`)
    options.onFatal?.(error)
  })
  let rpc: RpcServer | undefined
  try {
    await node.start()
    if (config.rpc.listenAddrs.length > 0 || config.metricsAddrs.length > 0) {
      rpc = await startRpcServer({
        node,
        listen: config.rpc.listenAddrs.map(a => ({ host: a.host, port: a.port })),
        metricsListen: config.metricsAddrs.map(a => ({ host: a.host, port: a.port })),
        registry: metricsRegistry,
        logger,
        local: { disableMempool: config.p2p.disableMempool, privateNode: config.p2p.privateMode },
        acl: config.rpc.acl,
        ...(config.rpc.corsOrigins.length > 0 ? { cors: { origins: config.rpc.corsOrigins, headers: config.rpc.corsHeaders } } : {})
      })
    }
  } catch (e) {
    await node.stop().catch(() => {})
    throw p2pListenErrorOf(e) ?? e
  }
  let stopped: Promise<void> | undefined
  return {
    config,
    node,
    rpc,
    identityCreated: keys.created.identity,
    stop: async () => {
      stopped ??= (async () => {
        await rpc?.close()
        await node.stop()
      })()
      await stopped
    }
  }
}
