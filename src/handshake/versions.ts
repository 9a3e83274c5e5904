import type { NetworkVersion } from '../wire/connection-message.ts'
import type { KnownNackMotive } from '../wire/ack.ts'

/** `Distributed_db_message.distributed_db_versions`; 2 is announced. */
export const SUPPORTED_DISTRIBUTED_DB_VERSIONS: readonly number[] = [0, 1, 2]
/** `P2p_version.supported`; 1 (Nack with motive and points) is announced. */
export const SUPPORTED_P2P_VERSIONS: readonly number[] = [0, 1]

/** What a node speaks: its chain name and every version it supports of each layer. */
export interface LocalVersions {
  chainName: string
  distributedDbVersions: readonly number[]
  p2pVersions: readonly number[]
}

/** The greatest supported version of each layer: what goes in our connection message. */
export function announcedVersion (local: LocalVersions): NetworkVersion {
  return {
    chainName: local.chainName,
    distributedDbVersion: Math.max(...local.distributedDbVersions),
    p2pVersion: Math.max(...local.p2pVersions)
  }
}

/**
 * Octez's per-layer rule: our best version if the remote announced at least that, otherwise the
 * remote's announced version if we support it, otherwise none.
 */
function selectOne (supported: readonly number[], remote: number): number | undefined {
  const best = Math.max(...supported)
  if (best <= remote) return best
  return supported.includes(remote) ? remote : undefined
}

export type VersionSelection =
  | { ok: true, version: NetworkVersion }
  | { ok: false, motive: KnownNackMotive }

/**
 * Octez version selection: chain names must be identical, then the distributed-DB version, then the
 * p2p version are chosen independently. A failure names the Nack motive to send.
 */
export function selectVersion (local: LocalVersions, remote: NetworkVersion): VersionSelection {
  if (remote.chainName !== local.chainName) return { ok: false, motive: 'Unknown_chain_name' }
  const distributedDbVersion = selectOne(local.distributedDbVersions, remote.distributedDbVersion)
  if (distributedDbVersion === undefined) return { ok: false, motive: 'Deprecated_distributed_db_version' }
  const p2pVersion = selectOne(local.p2pVersions, remote.p2pVersion)
  if (p2pVersion === undefined) return { ok: false, motive: 'Deprecated_p2p_version' }
  return { ok: true, version: { chainName: local.chainName, distributedDbVersion, p2pVersion } }
}
