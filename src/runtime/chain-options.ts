import { availableParallelism } from 'node:os'
import type { DemoParametersConfig, NodeConfig } from '../config/node-config.ts'
import { genesisFor, loadBakerKey } from '../config/runtime-checks.ts'
import type { ChainNodeOptions } from '../node/chain-node.ts'
import { createAcceptAllProtocol } from '../protocol/accept-all.ts'
import { createDemoProtocol, type DemoVersion } from '../protocol/demo/index.ts'
import { createDemoV3Protocol } from '../protocol/demo-v3/index.ts'
import { createShellProtocol } from '../protocol/shell/index.ts'
import { b58Decode } from '../crypto/index.ts'
import type { ProtocolActivation } from '../chain/baker.ts'
import { ConfigError } from '../config/errors.ts'
import type { Protocol } from '../protocol/protocol.ts'

/** Demo v3 on the demo parameters: its authority is the demo baker key; bootstrap accounts with keys start as delegates. */
function demoV3FromConfig (p: DemoParametersConfig, verifyWorkers?: number): Protocol {
  return createDemoV3Protocol({
    bakerPublicKey: p.bakerPublicKey,
    bootstrapAccounts: p.bootstrapAccounts,
    ...(p.commitments === undefined ? {} : { commitments: p.commitments }),
    maxOperationsTtl: p.maxOperationsTtl,
    maxOperationsPerBlock: p.maxOperationsPerBlock,
    ...(verifyWorkers === undefined ? {} : { verifyWorkers })
  })
}

/** The protocol a configuration names, built with its parameters (the genesis protocol: demo v1, or v3 when listed first). */
export function protocolFromConfig (config: NodeConfig): Protocol {
  const p = config.protocol
  switch (p.name) {
    case 'demo': return p.parameters.versions[0] === 3 ? demoV3FromConfig(p.parameters, Math.max(0, availableParallelism() - 1)) : createDemoProtocol({ ...p.parameters, version: 1 })
    case 'accept-all': return createAcceptAllProtocol(p.parameters)
    case 'shell': {
      // The shell stands for whatever protocol the network's genesis names (checked in resolve).
      const hash = config.network.genesis.protocol
      if (hash === null) throw new ConfigError([{ key: 'network.genesis.protocol', message: 'missing: --protocol shell follows the chain whose genesis protocol the network names' }])
      return createShellProtocol({ hash, ...p.parameters })
    }
  }
}

/** The protocols installed besides the genesis one: the other demo versions of `protocol.parameters.versions`. */
export function extraProtocolsFromConfig (config: NodeConfig): Protocol[] {
  const p = config.protocol
  if (p.name !== 'demo') return []
  // Workers: the genesis protocol's pool verifies the bootstrap runs; later versions check inline.
  // Demo v3 follows v1/v2 on the same accounts; its authority is the demo baker key (src/protocol/demo-v3).
  return p.parameters.versions.slice(1).map(v => v === 3
    ? demoV3FromConfig(p.parameters)
    : createDemoProtocol({ ...p.parameters, version: v as DemoVersion, verifyWorkers: 0 }))
}

/** `baker.activations` with `demo-v<N>` names replaced by the hashes of the installed versions. */
function activationsOf (config: NodeConfig, installed: readonly Protocol[]): ProtocolActivation[] {
  return config.baker.activations.map(a => {
    const version = /^demo-v(\d+)$/.exec(a.protocol)
    if (version === null) return { level: a.level, protocol: a.protocol }
    const p = installed.find(q => q.manifest?.name === 'demo' && q.manifest.version === Number(version[1]))
    if (p === undefined) throw new ConfigError([{ key: 'baker.activations', message: `${a.protocol} is not installed`, hint: 'add it to protocol.parameters.versions' }])
    return { level: a.level, protocol: p.hash }
  })
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
  const protocols = extraProtocolsFromConfig(config)
  try {
    const genesis = genesisFor(config, protocol.hash)
    const activations = activationsOf(config, [protocol, ...protocols])
    return {
      chain: {
        protocol,
        protocols,
        genesis,
        ...(config.shell.checkpoint === null ? {} : { checkpoint: b58Decode('blockHash', config.shell.checkpoint) }),
        synchronisation: {
          threshold: config.shell.synchronisationThreshold,
          latencySeconds: config.shell.latencyMs / 1000
        },
        ...(config.baker.enabled
          ? {
              baker: {
                // Protocols that sign nothing (accept-all) get an empty key they ignore.
                key: bakerKey?.secretKey ?? new Uint8Array(0),
                intervalMs: config.baker.intervalMs,
                ...(config.baker.equivocate ? { equivocate: true } : {}),
                ...(config.baker.doubleEndorse ? { doubleEndorse: true } : {}),
                ...(activations.length === 0 ? {} : { activations })
              }
            }
          : {})
      }
    }
  } catch (e) {
    await protocol.close?.()
    for (const p of protocols) await p.close?.()
    throw e
  }
}
