import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/node-config.ts'
import type { NodeOptions } from '../node/options.ts'

/**
 * The `createNode` options a configuration stands for (the P2P side: identity, addresses,
 * limits, trusted points, DNS bootstrap). `tzp2p run` and the devnet start nodes this way.
 */
export function networkOptionsFromConfig (config: NodeConfig, extra: { logger: Logger, metricsRegistry: Registry }): NodeOptions {
  const p2p = config.p2p
  return {
    dataDir: config.dataDir,
    chainName: config.network.chainName,
    expectedPow: p2p.expectedPow,
    listen: [p2p.listenMultiaddr],
    ...(p2p.advertisedNetPort !== null ? { advertisedPort: p2p.advertisedNetPort } : {}),
    disableMempool: p2p.disableMempool,
    privateMode: p2p.privateMode,
    limits: p2p.limits,
    reconnection: p2p.reconnection,
    peers: [...p2p.bootstrapPeers, ...p2p.peers],
    bootstrapDns: p2p.bootstrapDns,
    dnsResolvers: p2p.dnsResolvers,
    disablePeerDiscovery: p2p.disablePeerDiscovery,
    ...(p2p.octezListenAddr === null ? {} : { octezListen: p2p.octezListenAddr }),
    octezPeers: p2p.octezPeers,
    logger: extra.logger,
    metricsRegistry: extra.metricsRegistry,
    libp2pMetrics: true
  }
}
