import { EncodeError, encode, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { blake2b256 } from '../crypto/index.ts'

/** The Distributed DB refuses protocols above 2 MiB. */
export const PROTOCOL_MAX_BYTES = 2 * 1024 * 1024

/** One OCaml module of an economic protocol: interface (optional) and implementation sources. */
export interface ProtocolComponent {
  name: string
  interface?: string
  implementation: string
}

/** `Protocol.t`: the sources a node compiles to run a new economic protocol. */
export interface ProtocolSources {
  /** Environment version the protocol is written against (uint16 on the wire). */
  expectedEnvVersion: number
  components: ProtocolComponent[]
}

function encodeComponent (w: Writer, c: ProtocolComponent): void {
  w.string(c.name, 'protocol.components.name')
  w.optional(c.interface, (w, s) => w.string(s, 'protocol.components.interface'))
  w.string(c.implementation, 'protocol.components.implementation')
}

function decodeComponent (r: Reader): ProtocolComponent {
  const name = r.string('protocol.components.name', r.remaining)
  const iface = r.optional('protocol.components.interface', r => r.string('protocol.components.interface', r.remaining))
  const implementation = r.string('protocol.components.implementation', r.remaining)
  return iface === undefined ? { name, implementation } : { name, interface: iface, implementation }
}

/**
 * `Protocol.bounded_encoding ~max_size:2 MiB`. Octez refuses environment versions it does not
 * know; which versions exist changes with each release, so the number is kept as it is and
 * judged by whoever compiles the protocol.
 */
export const protocolCodec: Codec<ProtocolSources> = {
  name: 'protocol',
  maxSize: PROTOCOL_MAX_BYTES,
  encode (w: Writer, p: ProtocolSources): void {
    const start = w.length
    w.uint16(p.expectedEnvVersion, 'protocol.expected_env_version')
    w.dynamic(w => { for (const c of p.components) encodeComponent(w, c) }, 'protocol.components')
    if (w.length - start > PROTOCOL_MAX_BYTES) {
      throw new EncodeError('protocol', `${w.length - start} bytes exceed the bound ${PROTOCOL_MAX_BYTES}`)
    }
  },
  decode (r: Reader): ProtocolSources {
    const start = r.offset
    const expectedEnvVersion = r.uint16('protocol.expected_env_version')
    const components = r.list('protocol.components', PROTOCOL_MAX_BYTES - 2, Number.MAX_SAFE_INTEGER, sub => decodeComponent(sub))
    if (r.offset - start > PROTOCOL_MAX_BYTES) r.fail('protocol', `exceeds the bound ${PROTOCOL_MAX_BYTES}`, start)
    return { expectedEnvVersion, components }
  }
}

/** `Protocol.hash`: BLAKE2b-256 of the binary encoding (the `P…` hash). */
export function protocolHash (p: ProtocolSources): Uint8Array {
  return blake2b256(encode(protocolCodec, p))
}
