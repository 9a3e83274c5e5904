import { EncodeError, Reader, Writer } from '../../encoding/index.ts'
import { blockHeaderCodec, type BlockHeader } from '../../wire/block-header.ts'

/**
 * Demo v3 operation data (what follows the 32-byte branch of an Octez operation): the kinds of the
 * Emmy*-era Tezos protocols (tags and field order of `operation_repr.ml` in protocols 005–011),
 * simplified where the P2P layer does not see the difference (protocols/sync.md, Appendix A.2):
 * - one contents per operation (Tezos allows batches of manager operations);
 * - amounts, fees, counters and limits are int64 big-endian instead of Zarith naturals;
 * - keys are Ed25519 only (`tz1`): a public key hash is `0x00 ‖ 20 bytes`, a public key `0x00 ‖ 32`;
 * - an endorsement carries its slot inside its contents (as 009–011's `endorsement_with_slot`
 *   carries it beside an inlined endorsement), so its signer is known without a search;
 * - originations carry no script (there is no contract code in this protocol).
 *
 * Signed kinds (endorsement, manager operations) end with a 64-byte Ed25519 signature; anonymous
 * kinds carry none, as in Tezos.
 */

export const TAG = {
  endorsement: 0,
  seedNonceRevelation: 1,
  doubleEndorsementEvidence: 2,
  doubleBakingEvidence: 3,
  activateAccount: 4,
  reveal: 107,
  transaction: 108,
  origination: 109,
  delegation: 110
} as const

export const SIGNATURE_BYTES = 64
export const PKH_BYTES = 20
export const PUBLIC_KEY_BYTES = 32
export const NONCE_BYTES = 32
export const ACTIVATION_SECRET_BYTES = 20
/** Bound on an evidence's inlined block header (a demo v3 header is a few hundred bytes). */
export const MAX_EVIDENCE_HEADER_BYTES = 4096

/** Tezos `Contract_repr`: an implicit account (`tz1`) or an originated one (`KT1`). */
export type ContractId =
  | { kind: 'implicit', pkh: Uint8Array }
  | { kind: 'originated', hash: Uint8Array }

export interface Endorsement { kind: 'endorsement', level: number, slot: number }
/** An endorsement as evidence carries it: a whole signed endorsement operation. */
export interface InlinedEndorsement { branch: Uint8Array, endorsement: Endorsement, signature: Uint8Array }

export interface ManagerFields {
  source: Uint8Array
  fee: bigint
  counter: bigint
  gasLimit: bigint
  storageLimit: bigint
}

export type Contents =
  | Endorsement
  | { kind: 'seed_nonce_revelation', level: number, nonce: Uint8Array }
  | { kind: 'double_endorsement_evidence', op1: InlinedEndorsement, op2: InlinedEndorsement }
  | { kind: 'double_baking_evidence', bh1: BlockHeader, bh2: BlockHeader }
  | { kind: 'activate_account', pkh: Uint8Array, secret: Uint8Array }
  | ManagerFields & { kind: 'reveal', publicKey: Uint8Array }
  | ManagerFields & { kind: 'transaction', amount: bigint, destination: ContractId }
  | ManagerFields & { kind: 'origination', balance: bigint, delegate?: Uint8Array }
  | ManagerFields & { kind: 'delegation', delegate?: Uint8Array }

export type ContentsKind = Contents['kind']
export type ManagerContents = Extract<Contents, { source: Uint8Array }>

/** Operation data: contents, then the signature of the signed kinds. */
export interface OperationData {
  contents: Contents
  signature?: Uint8Array
}

export const MANAGER_KINDS: readonly ContentsKind[] = ['reveal', 'transaction', 'origination', 'delegation']

export function isManager (c: Contents): c is ManagerContents {
  return (MANAGER_KINDS as readonly string[]).includes(c.kind)
}

/** The kinds that carry a signature. */
export function isSigned (c: Contents): boolean {
  return c.kind === 'endorsement' || isManager(c)
}

/**
 * Tezos's validation passes (`Operation_repr.acceptable_passes`): 0 consensus (endorsements),
 * 1 voting (no kind in this protocol), 2 anonymous, 3 manager operations.
 */
export function passOf (c: Contents): number {
  if (c.kind === 'endorsement') return 0
  if (isManager(c)) return 3
  return 2
}

export const VALIDATION_PASSES = 4

function writePkh (w: Writer, pkh: Uint8Array, what: string): void {
  w.uint8(0x00).fixed(pkh, PKH_BYTES, what)
}

function readPkh (r: Reader, what: string): Uint8Array {
  const at = r.offset
  const tag = r.uint8(what)
  if (tag !== 0x00) r.fail(what, `public key hash tag ${tag}: only Ed25519 (tz1, tag 0) keys exist in demo v3`, at)
  return r.fixed(PKH_BYTES, what)
}

export function writeContract (w: Writer, c: ContractId): void {
  if (c.kind === 'implicit') {
    w.uint8(0x00)
    writePkh(w, c.pkh, 'contract.implicit')
  } else {
    w.uint8(0x01).fixed(c.hash, PKH_BYTES, 'contract.originated').uint8(0x00)
  }
}

function readContract (r: Reader, what: string): ContractId {
  const at = r.offset
  const tag = r.uint8(what)
  if (tag === 0x00) return { kind: 'implicit', pkh: readPkh(r, what) }
  if (tag === 0x01) {
    const hash = r.fixed(PKH_BYTES, what)
    const padding = r.uint8(`${what}.padding`)
    if (padding !== 0) r.fail(`${what}.padding`, `padding byte 0x${padding.toString(16)} (must be 0)`, r.offset - 1)
    return { kind: 'originated', hash }
  }
  r.fail(what, `contract tag ${tag} (0 implicit, 1 originated)`, at)
}

function writeManager (w: Writer, m: ManagerFields): void {
  writePkh(w, m.source, 'manager.source')
  w.int64(m.fee, 'manager.fee').int64(m.counter, 'manager.counter')
  w.int64(m.gasLimit, 'manager.gas_limit').int64(m.storageLimit, 'manager.storage_limit')
}

function readManager (r: Reader): ManagerFields {
  const source = readPkh(r, 'manager.source')
  const fee = r.int64('manager.fee')
  const counter = r.int64('manager.counter')
  const gasLimit = r.int64('manager.gas_limit')
  const storageLimit = r.int64('manager.storage_limit')
  return { source, fee, counter, gasLimit, storageLimit }
}

function writeEndorsementContents (w: Writer, e: Endorsement): void {
  w.uint8(TAG.endorsement).int32(e.level, 'endorsement.level').uint16(e.slot, 'endorsement.slot')
}

function writeInlined (w: Writer, e: InlinedEndorsement, what: string): void {
  w.dynamic(w => {
    w.fixed(e.branch, 32, `${what}.branch`)
    writeEndorsementContents(w, e.endorsement)
    w.fixed(e.signature, SIGNATURE_BYTES, `${what}.signature`)
  }, what)
}

function readInlined (r: Reader, what: string): InlinedEndorsement {
  return r.dynamic(what, 32 + 7 + SIGNATURE_BYTES, sub => {
    const branch = sub.fixed(32, `${what}.branch`)
    const at = sub.offset
    const tag = sub.uint8(`${what}.tag`)
    if (tag !== TAG.endorsement) sub.fail(`${what}.tag`, `evidence must inline an endorsement (tag 0), got tag ${tag}`, at)
    const endorsement = readEndorsement(sub)
    const signature = sub.fixed(SIGNATURE_BYTES, `${what}.signature`)
    return { branch, endorsement, signature }
  })
}

function readEndorsement (r: Reader): Endorsement {
  const level = r.int32('endorsement.level')
  const slot = r.uint16('endorsement.slot')
  return { kind: 'endorsement', level, slot }
}

function writeHeader (w: Writer, h: BlockHeader, what: string): void {
  w.dynamic(w => { blockHeaderCodec.encode(w, h) }, what, MAX_EVIDENCE_HEADER_BYTES)
}

function readHeader (r: Reader, what: string): BlockHeader {
  return r.dynamic(what, MAX_EVIDENCE_HEADER_BYTES, sub => blockHeaderCodec.decode(sub))
}

/** The binary contents (without signature): what a signature covers after the branch. */
export function encodeContents (c: Contents): Uint8Array {
  const w = new Writer(128)
  writeContents(w, c)
  return w.finish()
}

function writeContents (w: Writer, c: Contents): void {
  switch (c.kind) {
    case 'endorsement': writeEndorsementContents(w, c); return
    case 'seed_nonce_revelation':
      w.uint8(TAG.seedNonceRevelation).int32(c.level, 'seed_nonce_revelation.level').fixed(c.nonce, NONCE_BYTES, 'seed_nonce_revelation.nonce')
      return
    case 'double_endorsement_evidence':
      w.uint8(TAG.doubleEndorsementEvidence)
      writeInlined(w, c.op1, 'double_endorsement_evidence.op1')
      writeInlined(w, c.op2, 'double_endorsement_evidence.op2')
      return
    case 'double_baking_evidence':
      w.uint8(TAG.doubleBakingEvidence)
      writeHeader(w, c.bh1, 'double_baking_evidence.bh1')
      writeHeader(w, c.bh2, 'double_baking_evidence.bh2')
      return
    case 'activate_account':
      w.uint8(TAG.activateAccount).fixed(c.pkh, PKH_BYTES, 'activate_account.pkh').fixed(c.secret, ACTIVATION_SECRET_BYTES, 'activate_account.secret')
      return
    case 'reveal':
      w.uint8(TAG.reveal)
      writeManager(w, c)
      w.uint8(0x00).fixed(c.publicKey, PUBLIC_KEY_BYTES, 'reveal.public_key')
      return
    case 'transaction':
      w.uint8(TAG.transaction)
      writeManager(w, c)
      w.int64(c.amount, 'transaction.amount')
      writeContract(w, c.destination)
      w.uint8(0x00) // parameters: none (no contract code)
      return
    case 'origination':
      w.uint8(TAG.origination)
      writeManager(w, c)
      w.int64(c.balance, 'origination.balance')
      w.optional(c.delegate, (w, d) => { writePkh(w, d, 'origination.delegate') })
      return
    case 'delegation':
      w.uint8(TAG.delegation)
      writeManager(w, c)
      w.optional(c.delegate, (w, d) => { writePkh(w, d, 'delegation.delegate') })
  }
}

function readContents (r: Reader): Contents {
  const at = r.offset
  const tag = r.uint8('demo_v3.operation.tag')
  switch (tag) {
    case TAG.endorsement: return readEndorsement(r)
    case TAG.seedNonceRevelation:
      return { kind: 'seed_nonce_revelation', level: r.int32('seed_nonce_revelation.level'), nonce: r.fixed(NONCE_BYTES, 'seed_nonce_revelation.nonce') }
    case TAG.doubleEndorsementEvidence:
      return { kind: 'double_endorsement_evidence', op1: readInlined(r, 'double_endorsement_evidence.op1'), op2: readInlined(r, 'double_endorsement_evidence.op2') }
    case TAG.doubleBakingEvidence:
      return { kind: 'double_baking_evidence', bh1: readHeader(r, 'double_baking_evidence.bh1'), bh2: readHeader(r, 'double_baking_evidence.bh2') }
    case TAG.activateAccount:
      return { kind: 'activate_account', pkh: r.fixed(PKH_BYTES, 'activate_account.pkh'), secret: r.fixed(ACTIVATION_SECRET_BYTES, 'activate_account.secret') }
    case TAG.reveal: {
      const m = readManager(r)
      const keyAt = r.offset
      const keyTag = r.uint8('reveal.public_key')
      if (keyTag !== 0x00) r.fail('reveal.public_key', `public key tag ${keyTag}: only Ed25519 (edpk, tag 0) keys exist in demo v3`, keyAt)
      return { kind: 'reveal', ...m, publicKey: r.fixed(PUBLIC_KEY_BYTES, 'reveal.public_key') }
    }
    case TAG.transaction: {
      const m = readManager(r)
      const amount = r.int64('transaction.amount')
      const destination = readContract(r, 'transaction.destination')
      const pAt = r.offset
      if (r.uint8('transaction.parameters') !== 0x00) r.fail('transaction.parameters', 'parameters are not supported: demo v3 has no contract code', pAt)
      return { kind: 'transaction', ...m, amount, destination }
    }
    case TAG.origination: {
      const m = readManager(r)
      const balance = r.int64('origination.balance')
      const delegate = r.optional('origination.delegate', r => readPkh(r, 'origination.delegate'))
      return { kind: 'origination', ...m, balance, ...(delegate === undefined ? {} : { delegate }) }
    }
    case TAG.delegation: {
      const m = readManager(r)
      const delegate = r.optional('delegation.delegate', r => readPkh(r, 'delegation.delegate'))
      return { kind: 'delegation', ...m, ...(delegate === undefined ? {} : { delegate }) }
    }
    default:
      r.fail('demo_v3.operation.tag', `unknown operation tag ${tag} (demo v3 knows 0-4 and 107-110)`, at)
  }
}

/** Decodes operation data; anything but one well-formed contents (and its signature, if signed) is a `DecodeError`. */
export function decodeOperationData (data: Uint8Array): OperationData {
  const r = new Reader(data)
  const contents = readContents(r)
  if (!isSigned(contents)) {
    r.expectEnd(`demo_v3.${contents.kind}`)
    return { contents }
  }
  if (r.remaining !== SIGNATURE_BYTES) {
    r.fail(`demo_v3.${contents.kind}.signature`, `a signed ${contents.kind} ends with a ${SIGNATURE_BYTES}-byte signature, got ${r.remaining} byte(s)`)
  }
  return { contents, signature: r.fixed(SIGNATURE_BYTES, 'signature') }
}

export function encodeOperationData (d: OperationData): Uint8Array {
  const w = new Writer(160)
  writeContents(w, d.contents)
  if (isSigned(d.contents)) {
    if (d.signature === undefined) throw new EncodeError(`demo_v3.${d.contents.kind}`, 'a signed kind needs its signature')
    w.fixed(d.signature, SIGNATURE_BYTES, 'signature')
  } else if (d.signature !== undefined) {
    throw new EncodeError(`demo_v3.${d.contents.kind}`, 'anonymous operations carry no signature')
  }
  return w.finish()
}
