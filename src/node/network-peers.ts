import { Gauge, type Registry } from 'prom-client'
import { PEER_WIRES, type NetworkPeer, type PeerDirectory, type PeerWire } from '../peer/index.ts'
import type { Libp2pPeerDirectory } from './libp2p-peer.ts'

/** The node's connected peers on both wires: the libp2p wire's (from the handshake) and the Octez wire's. */
export class NetworkPeers implements PeerDirectory {
  readonly libp2p: Libp2pPeerDirectory
  private readonly octez = new Map<string, NetworkPeer>()

  constructor (libp2p: Libp2pPeerDirectory) {
    this.libp2p = libp2p
  }

  addOctez (peer: NetworkPeer): void {
    this.octez.set(peer.connectionId, peer)
  }

  removeOctez (peer: NetworkPeer): void {
    if (this.octez.get(peer.connectionId) === peer) this.octez.delete(peer.connectionId)
  }

  get (tezosPeerId: string): NetworkPeer | undefined {
    const onLibp2p = this.libp2p.get(tezosPeerId)
    if (onLibp2p !== undefined) return onLibp2p
    for (const p of this.octez.values()) if (p.tezosPeerId === tezosPeerId) return p
    return undefined
  }

  ofConnection (connectionId: string): NetworkPeer | undefined {
    return this.octez.get(connectionId) ?? this.libp2p.ofConnection(connectionId)
  }

  list (): NetworkPeer[] {
    return [...this.libp2p.list(), ...this.octez.values()]
  }

  /** Peers on one wire. */
  onWire (wire: PeerWire): NetworkPeer[] {
    return wire === 'octez' ? [...this.octez.values()] : this.libp2p.list()
  }

  /** Whether a Tezos peer id is connected on either wire. */
  has (tezosPeerId: string): boolean {
    return this.get(tezosPeerId) !== undefined
  }

  get size (): number {
    return this.libp2p.list().length + this.octez.size
  }
}

/** `tzp2p_peers{wire}` for /metrics (the connection manager's `tzp2p_connections` counts libp2p only). */
export function registerPeersByWire (registry: Registry, peers: NetworkPeers): void {
  new Gauge({
    name: 'tzp2p_peers',
    help: 'Connected, authenticated peers, by wire (libp2p, or octez: Octez\'s raw TCP)',
    labelNames: ['wire'],
    registers: [registry],
    collect () {
      for (const wire of PEER_WIRES) this.set({ wire }, peers.onWire(wire).length)
    }
  })
}
