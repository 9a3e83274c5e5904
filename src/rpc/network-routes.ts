import type { FastifyInstance } from 'fastify'
import { banTargetOf } from '../peers/bans.ts'
import type { PeerInfo } from '../node/node-peers.ts'
import type { RpcContext } from './context.ts'
import { sendJsonString } from './reply.ts'
import { BadRequestError, NotFoundError } from './errors.ts'
import {
  banJson, connectionJson, greylistJson, octezConnectionJson, octezPeerInfoJson, octezPointJson, peerInfoJson, pointInfoJson, pointText,
  rfc3339, type PeerInfoJson
} from './network-json.ts'
import type { OctezPeer } from '../node/octez-peer.ts'
import { parsePoint } from '../net/point.ts'

/**
 * `/network/*`: who this node is, whom it is connected to, the greylist and bans. Peers are named
 * by their Tezos peer id (`id…`), as in Octez; the libp2p PeerId is accepted too.
 */
export function registerNetworkRoutes (app: FastifyInstance, ctx: RpcContext): void {
  const { node } = ctx

  const facts = (info: PeerInfo): PeerInfoJson => peerInfoJson(info.peer, {
    score: info.score,
    trusted: info.trusted,
    latencyMs: ctx.latency.latencyOf(info.peer.tezosPeerId)
  })

  const octezFacts = (p: OctezPeer): PeerInfoJson => octezPeerInfoJson(p, { score: node.scores.score(p.tezosPeerId), trusted: node.octez?.isTrusted(p) ?? false })
  const octezPeer = (id: string): OctezPeer | undefined => node.octez?.connected().find(p => p.tezosPeerId === id)

  /** An authenticated peer by Tezos or libp2p id; 400 for something that is neither, 404 if not connected. */
  const connectedPeer = (id: string): PeerInfo => {
    checkPeerId(id)
    const info = node.peerInfo(id)
    if (info === undefined) throw new NotFoundError(`peer ${id} is not connected`)
    return info
  }

  app.get('/network/self', async (_req, reply) => await sendJsonString(reply, node.identity.peerId))

  app.get('/network/peers', () => [
    ...node.peerList().map(info => [info.peer.tezosPeerId, facts(info)]),
    ...(node.octez?.connected() ?? []).map(p => [p.tezosPeerId, octezFacts(p)])
  ])

  app.get<{ Params: { peerId: string } }>('/network/peers/:peerId', req => {
    const onOctez = octezPeer(req.params.peerId)
    return onOctez !== undefined ? octezFacts(onOctez) : facts(connectedPeer(req.params.peerId))
  })

  app.get('/network/connections', () => [
    ...node.peers.list().map(p => connectionJson(p, ctx.local)),
    ...(node.octez?.connected() ?? []).map(p => octezConnectionJson(p, ctx.local))
  ])

  app.get<{ Params: { peerId: string } }>('/network/connections/:peerId', req => {
    const onOctez = octezPeer(req.params.peerId)
    return onOctez !== undefined ? octezConnectionJson(onOctez, ctx.local) : connectionJson(connectedPeer(req.params.peerId).peer, ctx.local)
  })

  /** Closes the connections to a peer (Octez `DELETE /network/connections/<peer_id>`). */
  app.delete<{ Params: { peerId: string } }>('/network/connections/:peerId', async req => {
    const onOctez = octezPeer(req.params.peerId)
    if (onOctez !== undefined) {
      await onOctez.connection.close('closed by the RPC')
      return {}
    }
    const { peer } = connectedPeer(req.params.peerId)
    await node.libp2p.hangUp(peer.libp2pPeerId)
    return {}
  })

  app.get('/network/points', () => [
    ...node.points().map(p => [pointText(p), pointInfoJson(p, greylistedUntil(p.address.host))]),
    ...(node.octez?.points.list() ?? []).map(p => [p.point, { ...octezPointJson(p), ...greylistedField(greylistedUntil(p.host)) }])
  ])

  app.get<{ Params: { point: string } }>('/network/points/:point', req => {
    let address
    try {
      address = parsePoint(req.params.point)
    } catch (e) {
      throw new BadRequestError(`invalid point ${JSON.stringify(req.params.point)}: expected ip:port, [ipv6]:port or a multiaddr`, { cause: e })
    }
    const p = node.point(address)
    if (p === undefined) throw new NotFoundError(`unknown point ${req.params.point}`)
    return pointInfoJson(p, greylistedUntil(p.address.host))
  })

  const greylistedUntil = (ip: string): number | undefined => node.greylist.list().find(e => e.kind === 'ip' && e.key === ip)?.until
  const greylistedField = (until: number | undefined): { greylisted_until?: string } => until === undefined ? {} : { greylisted_until: rfc3339(until) }

  app.get('/network/greylist', () => greylistJson(node.greylist.list()))
  app.get('/network/greylist/ips', () => greylistJson(node.greylist.list()).ips.map(e => e.addr))
  app.get('/network/greylist/peers', () => greylistJson(node.greylist.list()).peers.map(e => e.peer_id))
  app.delete('/network/greylist', () => {
    node.greylist.clear()
    return {}
  })

  app.get('/network/bans', () => node.banList.list().map(banJson))

  app.get<{ Params: { peerId: string } }>('/network/peers/:peerId/banned', req => {
    checkPeerId(req.params.peerId)
    return node.banList.isBanned(req.params.peerId)
  })

  /**
   * Bans a peer: its Tezos peer id (and, if it is connected, its libp2p PeerId) is refused from
   * now on and its connections are closed. A peer that is not connected can be banned in advance.
   * Both records carry the same reason, so that lifting the ban by either id lifts both.
   */
  app.put<{ Params: { peerId: string } }>('/network/peers/:peerId/ban', async req => {
    const id = req.params.peerId
    checkPeerId(id)
    const records = await node.ban(id, rpcBanReason(node.peerInfo(id)?.peer.tezosPeerId ?? id))
    ctx.logger.info({ peer: id }, 'peer banned through the RPC')
    return records.map(banJson)
  })

  app.delete<{ Params: { peerId: string } }>('/network/peers/:peerId/ban', req => {
    const id = req.params.peerId
    checkPeerId(id)
    if (!node.unban(id)) throw new NotFoundError(`peer ${id} is not banned`)
    return {}
  })
}

const rpcBanReason = (tezosPeerId: string): string => `banned through the RPC: ${tezosPeerId}`

/** 400 unless `id` is a Tezos peer id (`id…`) or a libp2p PeerId. */
function checkPeerId (id: string): void {
  if (banTargetOf(id)?.kind !== 'peer') {
    throw new BadRequestError(`${JSON.stringify(id)} is not a peer id: expected a Tezos peer id (id…) or a libp2p PeerId (12D3Koo…)`)
  }
}
