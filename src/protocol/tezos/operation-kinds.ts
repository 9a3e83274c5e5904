/**
 * Real Tezos operations, described by kind for the RPC, the status page and `tzp2p codec`.
 *
 * The shell sees an operation as a branch and opaque protocol bytes (`src/lib_base/operation.ml`);
 * what the bytes mean belongs to the economic protocol (`src/proto_<protocol>/lib_protocol/operation_repr.ml`).
 * `@taquito/local-forging` decodes the contents of the kinds it knows (manager operations, current
 * consensus operations, votes, activations, seed nonce revelations, …); tzp2p only strips the
 * signature it does not decode and falls back to naming the kind by its tag when the library cannot
 * decode the contents (kinds of earlier protocols such as Emmy*'s endorsement, or evidence, which it
 * does not read), and to the raw bytes otherwise. Nothing here decodes a field itself.
 */
import { ProtocolsHash, getCodec, CODEC } from '@taquito/local-forging'
import { b58Encode } from '../../crypto/index.ts'
import { toHex } from '../../encoding/index.ts'
import type { Operation } from '../../wire/operation.ts'

/** Ed25519, secp256k1 and P-256 signatures are 64 bytes; BLS (tz4) signatures 96. */
const SIGNATURE_LENGTHS = [64, 96] as const

/**
 * Each protocol's contents tags that name a kind differently across eras, from
 * `operation_repr.ml` of the protocols that defined them. Emmy* (up to Hangzhou) had endorsements
 * at tag 0 and 10; Tenderbake (Ithaca on) pre-endorsements and endorsements at 20 and 21, renamed
 * attestations from Oxford on.
 */
const EMMY_TAGS: Readonly<Record<number, string>> = {
  0: 'endorsement',
  10: 'endorsement_with_slot'
}
const TENDERBAKE_TAGS: Readonly<Record<number, string>> = {
  7: 'double_preendorsement_evidence',
  20: 'preendorsement',
  21: 'endorsement',
  22: 'dal_slot_availability'
}
const ATTESTATION_TAGS: Readonly<Record<number, string>> = {
  7: 'double_preattestation_evidence',
  20: 'preattestation',
  21: 'attestation',
  22: 'dal_attestation',
  23: 'attestation_with_dal'
}
/** Tags whose kind is the same in every protocol that has them. */
const COMMON_TAGS: Readonly<Record<number, string>> = {
  1: 'seed_nonce_revelation',
  2: 'double_endorsement_evidence',
  3: 'double_baking_evidence',
  4: 'activate_account',
  5: 'proposals',
  6: 'ballot',
  8: 'vdf_revelation',
  9: 'drain_delegate',
  17: 'failing_noop',
  107: 'reveal',
  108: 'transaction',
  109: 'origination',
  110: 'delegation',
  111: 'register_global_constant',
  112: 'set_deposits_limit',
  113: 'increase_paid_storage',
  114: 'update_consensus_key'
}

type Era = 'emmy' | 'tenderbake' | 'attestation'

/** The protocols the library knows, oldest first (its own list), so an era is a position in it. */
const KNOWN_PROTOCOLS: readonly string[] = Object.values(ProtocolsHash)

function eraOf (protocol: string | undefined): Era {
  const at = protocol === undefined ? -1 : KNOWN_PROTOCOLS.indexOf(protocol)
  if (at < 0) return 'attestation'
  if (at < KNOWN_PROTOCOLS.indexOf(ProtocolsHash.Psithaca2)) return 'emmy'
  if (at < KNOWN_PROTOCOLS.indexOf(ProtocolsHash.ProxfordY)) return 'tenderbake'
  return 'attestation'
}

/** The kind a contents tag stands for in `protocol`'s era, or undefined for a tag it never had. */
export function kindOfTag (tag: number, protocol?: string): string | undefined {
  const era = eraOf(protocol)
  const eraTags = era === 'emmy' ? EMMY_TAGS : era === 'tenderbake' ? TENDERBAKE_TAGS : ATTESTATION_TAGS
  const kind = eraTags[tag] ?? COMMON_TAGS[tag]
  if (kind === 'double_endorsement_evidence' && era === 'attestation') return 'double_attestation_evidence'
  return kind
}

/** True when `protocol` is a protocol hash the decoding library knows by name. */
export function isKnownTezosProtocol (protocol: string): boolean {
  return KNOWN_PROTOCOLS.includes(protocol)
}

export interface DecodedContents {
  decoded: true
  contents: Array<Record<string, unknown>>
  signature: string
}

export interface UndecodedContents {
  decoded: false
  /** The first contents' kind when its tag names one; the rest cannot be delimited without decoding. */
  kind?: string
  tag?: number
  raw: string
}

const managerCodec = getCodec(CODEC.MANAGER, ProtocolsHash.PsUshuai9)

/**
 * What an operation's protocol bytes (`contents ‖ signature`) say, for `protocol` (b58 `P…`; the
 * current protocol's encodings when absent or unknown to the library). Never throws.
 */
export function describeTezosContents (operation: Operation, protocol?: string): DecodedContents | UndecodedContents {
  const data = operation.data
  const branch = b58Encode('blockHash', operation.branch)
  for (const signatureLength of SIGNATURE_LENGTHS) {
    if (data.length <= signatureLength) continue
    const contentsHex = toHex(data.subarray(0, data.length - signatureLength))
    let parsed: { branch: string, contents: Array<Record<string, unknown>> }
    try {
      parsed = managerCodec.decoder(toHex(operation.branch) + contentsHex) as typeof parsed
    } catch {
      continue
    }
    if (parsed.branch !== branch || !Array.isArray(parsed.contents) || parsed.contents.length === 0) continue
    const contents = kindsInEra(parsed.contents, protocol)
    if (contents === undefined) continue
    return { decoded: true, contents, signature: toHex(data.subarray(data.length - signatureLength)) }
  }
  const tag = data.length > 0 ? data[0] : undefined
  const kind = tag === undefined ? undefined : kindOfTag(tag, protocol)
  return { decoded: false, ...(kind !== undefined ? { kind } : {}), ...(tag !== undefined ? { tag } : {}), raw: toHex(data) }
}

/** Kinds the library names as the current protocol does, and what `protocol`'s era called them. */
const ERA_NAMES: Readonly<Record<Era, Readonly<Record<string, string | null>>>> = {
  emmy: { attestation: null, preattestation: null, attestation_with_dal: null },
  tenderbake: { attestation: 'endorsement', preattestation: 'preendorsement', attestation_with_dal: null },
  attestation: {}
}

/**
 * The library decodes with the current protocol's encodings: a kind `protocol`'s era did not have
 * means the bytes are not what the library read (undefined); a renamed kind takes the era's name.
 */
function kindsInEra (contents: Array<Record<string, unknown>>, protocol: string | undefined): Array<Record<string, unknown>> | undefined {
  const names = ERA_NAMES[eraOf(protocol)]
  const out: Array<Record<string, unknown>> = []
  for (const c of contents) {
    if (typeof c.kind !== 'string') return undefined
    const name = Object.hasOwn(names, c.kind) ? names[c.kind] : c.kind
    if (name === null) return undefined
    out.push(name === c.kind ? c : { ...c, kind: name })
  }
  return out
}

/** The kinds of an operation's contents, in order (one kind, or none, for undecoded contents). */
export function tezosOperationKinds (operation: Operation, protocol?: string): string[] {
  const d = describeTezosContents(operation, protocol)
  if (d.decoded) return d.contents.map(c => String(c.kind))
  return d.kind === undefined ? [] : [d.kind]
}
