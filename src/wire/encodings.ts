import type { Codec } from '../encoding/index.ts'
import { ackCodec } from './ack.ts'
import { blockHeaderCodec, shellHeaderCodec } from './block-header.ts'
import { connectionFrameCodec, connectionMessageCodec, networkVersionCodec } from './connection-message.ts'
import { fitnessCodec } from './fitness.ts'
import { blockLocatorCodec } from './locator.ts'
import { mempoolCodec } from './mempool.ts'
import { operationsHashPathCodec } from './merkle.ts'
import { connectionMetadataCodec } from './metadata.ts'
import { operationCodec } from './operation.ts'
import { octezP2pMessageCodec } from './p2p-message.ts'
import { pointCodec } from './point.ts'
import { protocolCodec } from './protocol-sources.ts'
import { p2pMessageJson } from './json-messages.ts'
import {
  ackJson, blockHeaderJson, blockLocatorJson, connectionMessageJson, connectionMetadataJson, fitnessJson, mempoolJson,
  merklePathJson, networkVersionJson, operationJson, protocolJson, shellHeaderJson, type JsonConverter
} from './json.ts'
import { jsonString } from './json-values.ts'

/** A wire structure under its Octez name, with its binary codec and its JSON form. */
export interface NamedEncoding<T> {
  name: string
  description: string
  codec: Codec<T>
  json: JsonConverter<T>
}

function named<T> (name: string, description: string, codec: Codec<T>, json: JsonConverter<T>): NamedEncoding<T> {
  return { name, description, codec, json }
}

const pointJson: JsonConverter<string> = { toJson: p => p, fromJson: (j, path = '$') => jsonString(j, path) }

/**
 * A list of structures of different types: each entry's codec and JSON converter agree by
 * construction (`named`), which TypeScript cannot say of a list without existential types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the entries' types differ
export type AnyNamedEncoding = NamedEncoding<any>

/** Every structure `tzp2p codec` knows, in the order it lists them. */
export const WIRE_ENCODINGS: readonly AnyNamedEncoding[] = [
  named('p2p_message', 'P2P envelope: 4-byte length, 2-byte tag, payload (every peer and Distributed-DB message)', octezP2pMessageCodec, p2pMessageJson),
  named('connection_message', 'cleartext handshake message, without its 2-byte length', connectionMessageCodec, connectionMessageJson),
  named('connection_message.frame', 'cleartext handshake message with its 2-byte length, as on the wire', connectionFrameCodec, connectionMessageJson),
  named('network_version', 'chain name and announced distributed-DB / p2p versions', networkVersionCodec, networkVersionJson),
  named('connection_metadata', 'encrypted chunk #0: disable_mempool, private_node', connectionMetadataCodec, connectionMetadataJson),
  named('ack', 'encrypted chunk #1: Ack, Nack_v_0 or Nack with motive and points', ackCodec, ackJson),
  named('block_header', 'shell header and protocol data (JSON adds the block hash)', blockHeaderCodec, blockHeaderJson),
  named('block_header.shell', 'the protocol-independent part of a block header', shellHeaderCodec, shellHeaderJson),
  named('operation', 'branch and protocol data (JSON adds the operation hash)', operationCodec, operationJson),
  named('mempool', 'known_valid and pending operation hashes, as in Current_head', mempoolCodec, mempoolJson),
  named('block_locator', 'head header and sparse history, as in Current_branch', blockLocatorCodec, blockLocatorJson),
  named('operation_list_list_hash.path', 'Merkle path to one validation pass (at most 8 passes)', operationsHashPathCodec, merklePathJson),
  named('fitness', 'list of byte strings', fitnessCodec, fitnessJson),
  named('protocol', 'economic protocol sources (expected environment, components)', protocolCodec, protocolJson),
  named('p2p_point.id', 'point "a.b.c.d:port" or "[ipv6]:port", at most 51 bytes encoded', pointCodec, pointJson)
]

export function findEncoding (name: string): AnyNamedEncoding | undefined {
  return WIRE_ENCODINGS.find(e => e.name === name)
}
