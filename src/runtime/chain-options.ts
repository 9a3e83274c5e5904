import type { NodeConfig } from '../config/node-config.ts'
import { genesisFor, loadBakerKey } from '../config/runtime-checks.ts'
import type { ChainNodeOptions } from '../node/chain-node.ts'
import { createAcceptAllProtocol } from '../protocol/accept-all.ts'
import { createDemoProtocol } from '../protocol/demo/index.ts'
import type { Protocol } from '../protocol/protocol.ts'

/** The protocol a configuration names, built with its parameters. */
export function protocolFromConfig (config: NodeConfig): Protocol {
  const p = config.protocol
  switch (p.name) {
    case 'demo': return createDemoProtocol(p.parameters)
    case 'accept-all': return createAcceptAllProtocol(p.parameters)
  }
}

/**
 * The chain side of a node's options from its configuration: the protocol, the genesis (checked
 * against the protocol's hash), the bootstrapped heuristic, and the baker when `baker.enabled`
 * (its key checked against the protocol's baker key). Configuration problems are `ConfigError`s
 * naming the key.
 */
export async function chainOptionsFromConfig (config: NodeConfig): Promise<{ chain: ChainNodeOptions }> {
  const bakerKey = config.baker.enabled ? await loadBakerKey(config) : undefined
  const protocol = protocolFromConfig(config)
  try {
    const genesis = genesisFor(config, protocol.hash)
    return {
      chain: {
        protocol,
        genesis,
        synchronisation: {
          threshold: config.shell.synchronisationThreshold,
          latencySeconds: config.shell.latencyMs / 1000
        },
        ...(config.baker.enabled
          ? {
              baker: {
                // Protocols that sign nothing (accept-all) get an empty key they ignore.
                key: bakerKey?.secretKey ?? new Uint8Array(0),
                intervalMs: config.baker.intervalMs
              }
            }
          : {})
      }
    }
  } catch (e) {
    await protocol.close?.()
    throw e
  }
}
