import { readChainId, writeChainId } from './hashes.ts'
import type { MessageCase } from './ddb-messages.ts'

/**
 * Messages of tzp2p's own, in Octez's envelope and tag space above Octez's Distributed-DB tags
 * (which end at 0x91). They travel only on libp2p gossip streams negotiated as
 * `/tzp2p/gossip/1.1.0` (`protocols/gossip.md` §4.6); Octez's wire does not know them
 * (`src/octez/envelopes.ts` lists Octez's tags only), so an Octez peer is never sent one.
 *
 * - `Block_push`: the sender asks the receiver to push (`enabled`), or to stop pushing, the
 *   operations of each new head it announces to the sender, ahead of the announcement.
 */
export type Tzp2pMessage =
  | { tag: 'Block_push', chainId: Uint8Array, enabled: boolean }

export type Tzp2pMessageTag = Tzp2pMessage['tag']
type Of<T extends Tzp2pMessageTag> = Extract<Tzp2pMessage, { tag: T }>

export const TZP2P_CASES: { readonly [T in Tzp2pMessageTag]: MessageCase<Of<T>> } = {
  Block_push: {
    code: 0xf0,
    encode: (w, m) => { writeChainId(w, m.chainId, 'block_push.chain_id'); w.bool(m.enabled) },
    decode: r => ({ tag: 'Block_push', chainId: readChainId(r, 'block_push.chain_id'), enabled: r.bool('block_push.enabled') })
  }
}
