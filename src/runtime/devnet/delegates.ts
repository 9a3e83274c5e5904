import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { devnetAccountKeypairs, devnetDemoParametersJson, DEVNET_ACCOUNT_COUNT } from '../../config/presets.ts'
import { toHex } from '../../encoding/index.ts'
import { encodePublicKey } from '../../protocol/demo/keys.ts'
import { devnetCommitmentsJson } from './fundraisers.ts'

/**
 * A devnet of delegates (`devnet up --bakers <n>`): the chain runs demo v3 from genesis, the first
 * n well-known devnet accounts start as registered delegates (their bootstrap entries carry their
 * public keys), and node i < n bakes and endorses with account i's key; the genesis also holds the
 * fundraiser commitments of `fundraisers.ts`, for activations. Every node gets the same
 * protocol parameters (so the same genesis protocol hash) in its `config.json`; bakers also get
 * their key's seed in `delegate.seed`.
 */

export const DEVNET_MAX_BAKERS = DEVNET_ACCOUNT_COUNT

/** The protocol section of every node's config file in a devnet of `bakers` delegates. */
export function delegatesProtocolJson (bakers: number): Record<string, unknown> {
  if (!(Number.isInteger(bakers) && bakers >= 1 && bakers <= DEVNET_MAX_BAKERS)) {
    throw new RangeError(`--bakers must be an integer from 1 to ${DEVNET_MAX_BAKERS} (the devnet's accounts), got ${bakers}`)
  }
  const parameters = devnetDemoParametersJson()
  const keys = devnetAccountKeypairs()
  const accounts = parameters['bootstrap-accounts'] as Array<Record<string, unknown>>
  return {
    name: 'demo',
    parameters: {
      ...parameters,
      'validation-passes': 4,
      versions: [3],
      commitments: devnetCommitmentsJson(),
      'bootstrap-accounts': accounts.map((a, i) => i < bakers ? { ...a, 'public-key': encodePublicKey(keys[i].publicKey) } : a)
    }
  }
}

/**
 * Writes node `i`'s config file (and, for a baker, its seed file); returns the flags that make it
 * bake (none for a node that does not).
 */
export async function writeDelegateFiles (
  dataDir: string, i: number, bakers: number, misbehave: { equivocate?: number | undefined, doubleEndorse?: number | undefined } = {}
): Promise<string[]> {
  await writeFile(join(dataDir, 'config.json'), `${JSON.stringify({ protocol: delegatesProtocolJson(bakers) }, null, 2)}\n`)
  if (i >= bakers) return []
  const seedFile = join(dataDir, 'delegate.seed')
  await writeFile(seedFile, `${toHex(devnetAccountKeypairs()[i].secretKey.subarray(0, 32))}\n`, { mode: 0o600 })
  return ['--baker', '--baker-key-file', seedFile, ...(misbehave.equivocate === i ? ['--baker-equivocate'] : []), ...(misbehave.doubleEndorse === i ? ['--baker-double-endorse'] : [])]
}
