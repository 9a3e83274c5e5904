import { BanList } from '../peers/bans.ts'
import { Greylist } from '../peers/greylist.ts'
import type { PeerStateJournal } from '../peers/peer-store-db.ts'
import type { ConnectionManagerInit } from './connection-manager-init.ts'

/**
 * The connection manager's greylist and ban list (Octez `P2p_pool`'s greylists and the RPC's bans),
 * sized by the limits, every change recorded in the peer-state journal (once the node has a store)
 * and announced as a node event. Apart from the manager so that what a list change sets off reads
 * in one place.
 */
export function journalledPeerLists (init: Pick<ConnectionManagerInit, 'limits' | 'greylist' | 'emit'>,
  journal: () => PeerStateJournal | undefined): { greylist: Greylist, banList: BanList } {
  const greylist = new Greylist({
    ipTtlMs: init.limits.ipGreylistCleanupDelayMs,
    maxPeers: init.limits.peerGreylistSize,
    ...init.greylist,
    onChange: change => {
      init.greylist?.onChange?.(change)
      if (change.type === 'add') {
        journal()?.record(change)
        init.emit('peer:greylisted', change.entry)
      } else if (change.type === 'remove') journal()?.record(change)
      else journal()?.record({ type: 'clear-greylist' })
    }
  })
  const banList = new BanList({
    onChange: change => {
      if (change.type === 'ban') { journal()?.record(change); init.emit('peer:banned', change.record) } else if (change.type === 'unban') {
        journal()?.record(change)
        init.emit('peer:unbanned', { kind: change.kind, key: change.key })
      } else journal()?.record({ type: 'clear-bans' })
    }
  })
  return { greylist, banList }
}
