import type { FastifyInstance } from 'fastify'
import { b58Decode, b58Encode } from '../crypto/index.ts'
import type { ChainReader } from '../chain/chain-reader.ts'
import type { MissingProtocolRecord } from '../chain/protocol-watch.ts'
import { manifestSources } from '../protocol/manifest.ts'
import { chainAccessOf } from './chain-access.ts'
import type { RpcContext } from './context.ts'
import { BadRequestError, NotFoundError, UnavailableError } from './errors.ts'

function missingJson (r: MissingProtocolRecord): Record<string, unknown> {
  return {
    protocol: r.protocol,
    proto_level: r.protoLevel,
    first_level: r.level,
    ...(r.block === undefined ? {} : { block: r.block }),
    state: r.state,
    since: new Date(r.since).toISOString(),
    ...(r.manifest === undefined ? {} : { manifest: r.manifest }),
    ...(r.reason === undefined ? {} : { reason: r.reason })
  }
}

/**
 * Protocols and their activations:
 *
 * - `GET /chains/main/protocols`: Octez's list of the chain's protocol levels (`protocol`,
 *   `proto_level`, `activation_block` = [hash, level] of the activating block), plus per level the
 *   first block it validates, whether this node has it installed and its `state`: `active` (runs
 *   the next block), `past`, or when not installed `fetching` / `not-installed` / `unavailable`.
 * - `GET /protocols`: the hashes of the installed protocols.
 * - `GET /protocols/<hash>`: a protocol in Octez's JSON layout (`expected_env_version`,
 *   `components`) with its manifest, `installed` and, when blocks needed it and it is missing, the
 *   `missing` record; 404 when the node has never heard of it.
 */
export function registerProtocolRoutes (app: FastifyInstance, ctx: RpcContext): void {
  const chainOf = (): ChainReader => {
    const chain = chainAccessOf(ctx.node)?.chain
    if (chain === undefined) throw new UnavailableError('this node runs no chain (embedded without a protocol)')
    return chain
  }

  app.get<{ Params: { chain: string } }>('/chains/:chain/protocols', async req => {
    if (req.params.chain !== 'main') throw new BadRequestError('protocols are served for the chain "main"')
    const chain = chainOf()
    const missing = chain.missingProtocols
    const next = chain.nextProtocolLevel
    const out = []
    for (const l of chain.protocolLevels) {
      const activation = await chain.getBlockByLevel(l.firstLevel - 1)
      const p = chain.registry.get(l.protocol)
      const state = p !== undefined ? (l.protoLevel === next.protoLevel ? 'active' : 'past') : (missing.get(l.protocol)?.state ?? 'not-installed')
      out.push({
        protocol: l.protocol,
        proto_level: l.protoLevel,
        activation_block: [activation === undefined ? null : b58Encode('blockHash', activation.hash), l.firstLevel - 1],
        first_level: l.firstLevel,
        installed: p !== undefined,
        ...(p === undefined ? {} : { name: p.name }),
        state
      })
    }
    return out
  })

  app.get('/protocols', () => chainOf().registry.entries().map(([hash]) => hash))

  app.get<{ Params: { hash: string } }>('/protocols/:hash', req => {
    const chain = chainOf()
    const hash = req.params.hash
    try {
      b58Decode('protocolHash', hash)
    } catch (e) {
      throw new BadRequestError(`${JSON.stringify(hash)} is not a protocol hash (P…): ${(e as Error).message}`)
    }
    const p = chain.registry.get(hash)
    const record = chain.missingProtocols.get(hash)
    const level = chain.protocolLevels.find(l => l.protocol === hash)
    if (p === undefined && record === undefined && level === undefined) throw new NotFoundError(`unknown protocol ${hash}`)
    const manifest = p?.manifest ?? record?.manifest
    const sources = manifest === undefined ? undefined : manifestSources(manifest)
    return {
      hash,
      installed: p !== undefined,
      ...(p === undefined ? {} : { name: p.name }),
      ...(sources === undefined ? {} : { expected_env_version: sources.expectedEnvVersion, components: sources.components, manifest }),
      ...(level === undefined ? {} : { proto_level: level.protoLevel, first_level: level.firstLevel }),
      ...(record === undefined ? {} : { missing: missingJson(record) })
    }
  })
}
