import { b58Decode, b58Encode } from '../crypto/index.ts'
import { toHex, type Codec, type Reader, type Writer } from '../encoding/index.ts'
import { IdentityFileError } from './errors.ts'
import {
  PEER_ID_HASH_BYTES, PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, peerIdOfPublicKey, type Identity
} from './identity.ts'
import { POW_STAMP_BYTES } from './pow.ts'

/** `P2p_identity.encoding` in JSON: the keys of `identity.json`, in the order Octez writes them. */
export interface IdentityJson {
  peer_id?: string
  public_key: string
  secret_key: string
  proof_of_work_stamp: string
}

const HEX_KEYS = [
  ['public_key', PUBLIC_KEY_BYTES],
  ['secret_key', SECRET_KEY_BYTES],
  ['proof_of_work_stamp', POW_STAMP_BYTES]
] as const
const KNOWN_KEYS = ['peer_id', 'public_key', 'secret_key', 'proof_of_work_stamp']
const HEX_RE = /^[0-9a-fA-F]*$/

export function identityToJson (identity: Identity): Required<IdentityJson> {
  return {
    peer_id: identity.peerId,
    public_key: toHex(identity.publicKey),
    secret_key: toHex(identity.secretKey),
    proof_of_work_stamp: toHex(identity.powStamp)
  }
}

/**
 * Reads an identity from parsed JSON with `P2p_identity.encoding`'s rules: `peer_id` is optional
 * (recomputed from the public key when absent), the three others are hex of fixed sizes, and any
 * other key is refused. Only the structure is checked here; `checkIdentity` runs Octez's checks.
 */
export function identityFromJson (json: unknown, file?: string): Identity {
  const fail = (reason: string, key?: string): never => {
    throw new IdentityFileError('malformed', `${file === undefined ? 'identity' : file}: ${reason}`, { file, key })
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(`expected a JSON object with keys ${KNOWN_KEYS.join(', ')}`)
  }
  const o = json as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!KNOWN_KEYS.includes(k)) fail(`unknown key ${JSON.stringify(k)} (an identity has ${KNOWN_KEYS.join(', ')})`, k)
  }
  const bytes: Partial<Record<(typeof HEX_KEYS)[number][0], Uint8Array>> = {}
  for (const [key, size] of HEX_KEYS) {
    const v = o[key]
    if (v === undefined) fail(`missing key "${key}" (${size * 2} hexadecimal characters)`, key)
    if (typeof v !== 'string' || v.length !== size * 2 || !HEX_RE.test(v)) {
      fail(`"${key}" must be ${size * 2} hexadecimal characters (${size} bytes), got ${describe(v)}`, key)
    }
    bytes[key] = new Uint8Array(Buffer.from(v as string, 'hex'))
  }
  const publicKey = bytes.public_key as Uint8Array
  let peerId: string
  if (o.peer_id === undefined) {
    peerId = peerIdOfPublicKey(publicKey)
  } else {
    if (typeof o.peer_id !== 'string') return fail(`"peer_id" must be a string, got ${describe(o.peer_id)}`, 'peer_id')
    try {
      b58Decode('peerId', o.peer_id)
    } catch {
      fail(`"peer_id" must be a base58check peer id (30 characters starting with "id"), got ${describe(o.peer_id)}; ` +
        'remove it to have it recomputed from public_key', 'peer_id')
    }
    peerId = o.peer_id
  }
  return { peerId, publicKey, secretKey: bytes.secret_key as Uint8Array, powStamp: bytes.proof_of_work_stamp as Uint8Array }
}

/** Parses the text of an identity file (structure only, like `identityFromJson`). */
export function parseIdentityJson (text: string, file?: string): Identity {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new IdentityFileError('malformed', `${file ?? 'identity'}: not valid JSON (${(e as Error).message})`, { file, cause: e })
  }
  return identityFromJson(json, file)
}

/** Column limit of the pretty-printer Octez writes JSON files with (OCaml `Format`'s default margin). */
const OCTEZ_JSON_MARGIN = 78

/**
 * The text of `identity.json` byte for byte as Octez writes it: one member per line, the object
 * opened with `{ ` and closed with ` }` on the last line, and a member whose `"key": value` does not
 * fit the margin broken after the colon with the value indented by four. No trailing newline.
 * With the identity's fixed-size fields this always yields the same shape as an Octez file.
 */
export function formatIdentityJson (identity: Identity): string {
  const members = Object.entries(identityToJson(identity))
  return members.map(([key, value], i) => {
    const prefix = i === 0 ? '{ ' : '  '
    const suffix = i === members.length - 1 ? ' }' : ','
    const name = JSON.stringify(key)
    const text = JSON.stringify(value)
    const oneLine = `${prefix}${name}: ${text}${suffix}`
    return oneLine.length <= OCTEZ_JSON_MARGIN ? oneLine : `${prefix}${name}:\n    ${text}${suffix}`
  }).join('\n')
}

/**
 * `P2p_identity.encoding` in binary (what `octez-codec` encodes an identity to): an optional
 * peer id (presence byte ‖ 16 bytes), public key, secret key, stamp. Decoding recomputes the peer
 * id when it is absent, as Octez does.
 */
export const identityCodec: Codec<Identity> = {
  name: 'identity',
  maxSize: 1 + PEER_ID_HASH_BYTES + PUBLIC_KEY_BYTES + SECRET_KEY_BYTES + POW_STAMP_BYTES,
  encode (w: Writer, id: Identity): void {
    w.optional(b58Decode('peerId', id.peerId), (w2, raw) => w2.fixed(raw, PEER_ID_HASH_BYTES, 'identity.peer_id'))
    w.fixed(id.publicKey, PUBLIC_KEY_BYTES, 'identity.public_key')
    w.fixed(id.secretKey, SECRET_KEY_BYTES, 'identity.secret_key')
    w.fixed(id.powStamp, POW_STAMP_BYTES, 'identity.proof_of_work_stamp')
  },
  decode (r: Reader): Identity {
    const rawPeerId = r.optional('identity.peer_id', (r2) => r2.fixed(PEER_ID_HASH_BYTES, 'identity.peer_id'))
    const publicKey = r.fixed(PUBLIC_KEY_BYTES, 'identity.public_key')
    const secretKey = r.fixed(SECRET_KEY_BYTES, 'identity.secret_key')
    const powStamp = r.fixed(POW_STAMP_BYTES, 'identity.proof_of_work_stamp')
    const peerId = rawPeerId === undefined ? peerIdOfPublicKey(publicKey) : b58Encode('peerId', rawPeerId)
    return { peerId, publicKey, secretKey, powStamp }
  }
}

function describe (v: unknown): string {
  if (v === undefined) return 'nothing'
  const s = JSON.stringify(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/**
 * `identity` for `tzp2p codec`, shaped like the wire encodings' registry entries (name,
 * description, binary codec, JSON converter). `json.fromJson` validates with `identityFromJson`'s
 * rules and throws `IdentityFileError` naming the key at fault; `path` labels the value in errors.
 */
export const identityEncoding = {
  name: 'identity',
  description: 'P2P identity (identity.json): optional peer_id, X25519 public and secret keys, proof-of-work stamp',
  codec: identityCodec,
  json: {
    toJson: (identity: Identity): Required<IdentityJson> => identityToJson(identity),
    fromJson: (json: unknown, path?: string): Identity => identityFromJson(json, path)
  }
} as const
