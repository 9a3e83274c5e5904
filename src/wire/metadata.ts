import type { Codec, Reader, Writer } from '../encoding/index.ts'

/**
 * `Connection_metadata.encoding`, sent as encrypted chunk #0 of every connection: exactly two
 * booleans, and the chunk must hold nothing else.
 */
export interface ConnectionMetadata {
  /** The peer wants no mempool content (Current_head is sent to it with an empty mempool). */
  disableMempool: boolean
  /** The peer runs in private mode: its address must never be advertised. */
  privateNode: boolean
}

export const CONNECTION_METADATA_BYTES = 2

export const connectionMetadataCodec: Codec<ConnectionMetadata> = {
  name: 'connection_metadata',
  maxSize: CONNECTION_METADATA_BYTES,
  encode (w: Writer, m: ConnectionMetadata): void {
    w.bool(m.disableMempool).bool(m.privateNode)
  },
  decode (r: Reader): ConnectionMetadata {
    const disableMempool = r.bool('connection_metadata.disable_mempool')
    const privateNode = r.bool('connection_metadata.private_node')
    return { disableMempool, privateNode }
  }
}
