import { b58Encode, blake2b } from '../../crypto/index.ts'
import { ed25519FromName, type Ed25519Keypair } from '../../protocol/demo/keys.ts'
import { blindedPublicKeyHash } from '../../protocol/demo-v3/index.ts'
import { ACTIVATION_SECRET_BYTES } from '../../protocol/demo-v3/encoding.ts'

/**
 * The genesis commitments of a devnet of delegates (Tezos's fundraiser accounts): each funds the
 * account of a well-known key, blinded by a well-known 20-byte secret, until an activation
 * operation carrying that secret claims it (`tzp2p devnet operation activation --from <i>`).
 * Keys and secrets derive from their names, like the devnet's other accounts: anyone can claim
 * them, which is the point of a devnet.
 */

export const DEVNET_FUNDRAISER_COUNT = 4
export const DEVNET_FUNDRAISER_AMOUNT = 500_000_000_000n

export interface DevnetFundraiser {
  keypair: Ed25519Keypair
  secret: Uint8Array
  /** BLAKE2b-160 of the secret and the key hash (`btz1…` once encoded). */
  blinded: Uint8Array
}

export function devnetFundraiser (i: number): DevnetFundraiser {
  if (!(Number.isInteger(i) && i >= 0 && i < DEVNET_FUNDRAISER_COUNT)) {
    throw new RangeError(`a devnet fundraiser index runs from 0 to ${DEVNET_FUNDRAISER_COUNT - 1}, got ${i}`)
  }
  const name = `tzp2p-devnet/fundraiser/${i}`
  const keypair = ed25519FromName(name)
  const secret = blake2b(new TextEncoder().encode(`${name}/secret`), ACTIVATION_SECRET_BYTES)
  return { keypair, secret, blinded: blindedPublicKeyHash(keypair.publicKeyHash, secret) }
}

/** `protocol.parameters.commitments` of the devnet's config files. */
export function devnetCommitmentsJson (): Array<{ 'blinded-public-key-hash': string, amount: string }> {
  return Array.from({ length: DEVNET_FUNDRAISER_COUNT }, (_, i) => ({
    'blinded-public-key-hash': b58Encode('blindedPublicKeyHash', devnetFundraiser(i).blinded),
    amount: DEVNET_FUNDRAISER_AMOUNT.toString()
  }))
}
