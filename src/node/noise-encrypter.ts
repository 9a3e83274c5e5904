/**
 * The node's Noise encrypter: `@chainsafe/libp2p-noise`, whose encrypted streams let go of the
 * handshake's decoded payload once the connection is upgraded.
 *
 * The library's encrypted stream keeps the whole handshake result for the life of the connection:
 * the two cipher states it encrypts and decrypts with, and the remote's decoded handshake payload
 * (its identity key and signature, its extensions, the buffer they were decoded from). The payload
 * is read once, when `secureInbound` / `secureOutbound` turn it into the remote peer id, the
 * remote extensions and the muxer choice they return; nothing reads it afterwards. Heap snapshots
 * of `npm run bench:peers` put it at about 0.8 KiB per connection (docs/profiles.md,
 * "bench:peers: one listener table per event target").
 *
 * Here the stream's handshake is replaced, after the upgrade, by an object holding only the
 * library's own `encrypt` and `decrypt` functions (same cipher states, same nonces). The handshake
 * itself, its checks (the remote's signature over its static key, the expected peer id) and what
 * the encrypter returns are the library's, unchanged. A result of any other shape is left as it is.
 */
import { noise, type NoiseExtensions, type NoiseInit } from '@chainsafe/libp2p-noise'
import type { ConnectionEncrypter, SecuredConnection } from '@libp2p/interface'

/** The part of the library's encrypted stream this reads: its handshake result. */
interface HandshakeHolder {
  handshake?: { encrypt?: unknown, decrypt?: unknown, payload?: unknown }
}

/** Drops the decoded handshake payload from an upgraded connection's encrypted stream, keeping its cipher functions. */
export function releaseHandshakePayload<T> (secured: T): T {
  const stream = (secured as { connection?: unknown }).connection as HandshakeHolder | undefined
  const handshake = stream?.handshake
  if (handshake === undefined || typeof handshake.encrypt !== 'function' || typeof handshake.decrypt !== 'function') return secured
  stream!.handshake = { encrypt: handshake.encrypt, decrypt: handshake.decrypt }
  return secured
}

/** `noise(init)`, whose upgraded connections keep only what encrypting and decrypting need. */
export function nodeNoise (init?: NoiseInit): ReturnType<typeof noise> {
  const factory = noise(init)
  return components => {
    const encrypter: ConnectionEncrypter<NoiseExtensions> = factory(components)
    const secureInbound = encrypter.secureInbound.bind(encrypter)
    const secureOutbound = encrypter.secureOutbound.bind(encrypter)
    encrypter.secureInbound = async (connection, options) => releaseHandshakePayload<SecuredConnection<NoiseExtensions>>(await secureInbound(connection, options))
    encrypter.secureOutbound = async (connection, options) => releaseHandshakePayload<SecuredConnection<NoiseExtensions>>(await secureOutbound(connection, options))
    return encrypter
  }
}
